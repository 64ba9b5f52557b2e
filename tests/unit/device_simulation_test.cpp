// The Device's simulator controls (what the web GUI's simulation page and the
// JSON API drive) reach the simulated panel and show up in the readings.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <thread>

#include "../temp_dir.hpp"
#include "config/config.hpp"
#include "device/device.hpp"
#include "device/kept_loads.hpp"

namespace openbcpm {
namespace {

class DeviceSimulation : public ::testing::Test {
  protected:
    void SetUp() override {
        Config cfg = default_config();
        cfg.simulation.speed = 20.0;  // windows come quickly; no storage (no state dir)
        device_ = std::make_unique<Device>(cfg, std::nullopt);
        device_->start();
    }
    void TearDown() override { device_->stop(); }

    // Polls the readings until `ok` holds or 10 s of wall time pass.
    bool eventually(const std::function<bool(const MeterSnapshot&)>& ok) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            device_->poll();
            if (ok(device_->snapshot())) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
    static double amps(const MeterSnapshot& s, int panel, int channel) {
        return s.panel[static_cast<size_t>(panel - 1)]
            .channel[static_cast<size_t>(channel - 1)]
            .current;
    }

    std::unique_ptr<Device> device_;
};

TEST_F(DeviceSimulation, LoadTripAndRestoreShowInTheChannelCurrent) {
    ASSERT_TRUE(device_->simulating());
    ASSERT_TRUE(device_->sim_set_load(2, 5, 13.5, 0.9));
    EXPECT_TRUE(eventually([](const auto& s) { return std::fabs(amps(s, 2, 5) - 13.5) < 0.3; }));
    ASSERT_TRUE(device_->sim_trip(2, 5, true));
    EXPECT_TRUE(eventually([](const auto& s) { return amps(s, 2, 5) < 0.05; }));
    ASSERT_TRUE(device_->sim_trip(2, 5, false));
    EXPECT_TRUE(eventually([](const auto& s) { return std::fabs(amps(s, 2, 5) - 13.5) < 0.3; }));
}

TEST_F(DeviceSimulation, RampReachesItsTarget) {
    ASSERT_TRUE(device_->sim_set_load(1, 7, 2.0, std::nullopt));
    ASSERT_TRUE(device_->sim_ramp(1, 7, 18.0, 5.0));  // 5 simulated seconds
    EXPECT_TRUE(eventually([](const auto& s) { return std::fabs(amps(s, 1, 7) - 18.0) < 0.4; }));
}

TEST_F(DeviceSimulation, SagOfOnePhaseAndFrequencyChange) {
    device_->poll();
    ASSERT_TRUE(eventually([](const auto& s) { return s.voltage.ln[1] > 100.0; }));
    const double b_before = device_->snapshot().voltage.ln[1];
    ASSERT_TRUE(device_->sim_voltage(0b010, 0.5, 0.0));  // phase B to half, until changed
    EXPECT_TRUE(eventually([&](const auto& s) {
        return std::fabs(s.voltage.ln[1] - b_before / 2) < 0.02 * b_before &&
               std::fabs(s.voltage.ln[0] - b_before) < 0.05 * b_before;
    }));
    ASSERT_TRUE(device_->sim_frequency(50.0));
    EXPECT_TRUE(eventually([](const auto& s) {
        return s.voltage.frequency_valid && std::fabs(s.voltage.frequency - 50.0) < 0.05;
    }));
}

// Polls the simulator's state copy until `ok` holds or 10 s pass.
bool state_eventually(Device& d, const std::function<bool(const SimulatorState&)>& ok) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        d.poll();
        if (auto st = d.sim_state(); st && ok(*st)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

const SimulatorState::Channel& channel_of(const SimulatorState& st, int panel, int channel) {
    return st.channels[static_cast<size_t>(panel - 1)][static_cast<size_t>(channel - 1)];
}

TEST_F(DeviceSimulation, StateCopyShowsLoadsTripsSagsAndTheScenario) {
    auto st0 = device_->sim_state();
    ASSERT_TRUE(st0);
    EXPECT_FALSE(channel_of(*st0, 1, 3).overridden);  // the configuration's load
    EXPECT_EQ(st0->scenario_events, 0u);              // the embedded default has none
    ASSERT_TRUE(device_->sim_set_load(1, 3, 7.5, 0.8));
    ASSERT_TRUE(device_->sim_trip(2, 4, true));
    ASSERT_TRUE(device_->sim_voltage(0b101, 0.7, 30.0));  // A and C for 30 simulated s
    ASSERT_TRUE(state_eventually(*device_, [](const SimulatorState& st) {
        const auto& c = channel_of(st, 1, 3);
        return c.overridden && c.has_pf && c.amps == 7.5 && c.pf == 0.8 &&
               channel_of(st, 2, 4).tripped && st.voltage[0].magnitude == 0.7 &&
               st.voltage[2].magnitude == 0.7;
    }));
    auto st = *device_->sim_state();
    EXPECT_EQ(st.voltage[1].magnitude, 1.0);
    EXPECT_GT(st.voltage[0].end, st.time);
    EXPECT_LE(st.voltage[0].end, st.time + 30.0);
    EXPECT_FALSE(channel_of(st, 2, 3).tripped);

    // A scenario from now: the event at 0 runs at once, the next is 100 s on.
    std::vector<ScenarioEvent> events(2);
    for (ScenarioEvent& e : events) {
        e.panel = 1;
        e.channel = 9;
    }
    events[0].action = ScenarioAction::Trip;
    events[1].at = 100.0;
    events[1].action = ScenarioAction::Restore;
    ASSERT_TRUE(device_->sim_scenario(events, "two.toml"));
    ASSERT_TRUE(state_eventually(*device_, [](const SimulatorState& s) {
        return s.scenario_events == 2 && s.scenario_done == 1 && channel_of(s, 1, 9).tripped;
    }));
    st = *device_->sim_state();
    EXPECT_STREQ(st.scenario_name.data(), "two.toml");
    EXPECT_NEAR(st.scenario_next_at - st.scenario_started, 100.0, 1e-9);
    ASSERT_TRUE(state_eventually(*device_, [&](const SimulatorState&) {
        return device_->sim_scenario({}, "");  // refused while the last one is handed over
    }));
    ASSERT_TRUE(state_eventually(*device_, [](const SimulatorState& s) {
        return s.scenario_events == 0 && s.scenario_name[0] == '\0';
    }));
    EXPECT_TRUE(channel_of(*device_->sim_state(), 1, 9).tripped);  // what it did stays
}

TEST(KeptLoads, RoundTripAndNoFileMeansNone) {
    test::TempDir dir;
    EXPECT_TRUE(load_kept_loads(dir.path).empty());
    const std::vector<KeptLoad> loads{
        {1, 5, 3.25, std::nullopt}, {2, 45, 0.0, -0.5}, {2, 46, 1.5, std::nullopt}};
    save_kept_loads(dir.path, loads);
    std::string damaged;
    EXPECT_EQ(load_kept_loads(dir.path, &damaged), loads);
    EXPECT_TRUE(damaged.empty());
    save_kept_loads(dir.path, {});  // none: the file goes
    EXPECT_FALSE(std::filesystem::exists(dir.path / kKeptLoadsFile));
}

TEST(KeptLoads, ADamagedFileIsSetAsideAndNoneAreKept) {
    for (const char* text : {"{\"loads\": [{\"panel\": 1, \"chan", "[1, 2]",
                             "{\"loads\": [{\"panel\": 3, \"channel\": 1, \"amps\": 2}]}",
                             "{\"loads\": [{\"panel\": 1, \"channel\": 1, \"amps\": -2}]}",
                             "{\"loads\": [{\"panel\": 1, \"channel\": 47, \"amps\": 2}]}"}) {
        test::TempDir dir;
        std::ofstream(dir.path / kKeptLoadsFile) << text;
        std::string damaged;
        EXPECT_TRUE(load_kept_loads(dir.path, &damaged).empty()) << text;
        EXPECT_FALSE(damaged.empty()) << text;
        EXPECT_FALSE(std::filesystem::exists(dir.path / kKeptLoadsFile)) << text;
        std::ifstream aside(dir.path / (std::string(kKeptLoadsFile) + ".damaged"));
        EXPECT_EQ(std::string(std::istreambuf_iterator<char>(aside), {}), text);
    }
}

TEST(KeptLoads, ADeviceAppliesThemAtStartAndStartsWithNoneFromADamagedFile) {
    test::TempDir dir;
    Config cfg = default_config();
    {
        Device d(cfg, dir.path);
        std::string why;
        ASSERT_TRUE(d.sim_keep_loads({{1, 11, 9.5, std::nullopt}}, why)) << why;
    }
    {
        Device d(cfg, dir.path);  // a new start on the same state directory
        EXPECT_EQ(d.sim_kept_loads().size(), 1u);
        const auto st = d.sim_state();
        ASSERT_TRUE(st);
        EXPECT_TRUE(channel_of(*st, 1, 11).overridden);
        EXPECT_EQ(channel_of(*st, 1, 11).amps, 9.5);
        d.run_inline(0.5);
        EXPECT_NEAR(d.snapshot().panel[0].channel[10].current, 9.5, 0.3);
    }
    std::ofstream(dir.path / kKeptLoadsFile, std::ios::trunc) << "not json";
    Device d(cfg, dir.path);
    EXPECT_TRUE(d.sim_kept_loads().empty());
    EXPECT_FALSE(channel_of(*d.sim_state(), 1, 11).overridden);
    EXPECT_TRUE(std::filesystem::exists(dir.path / (std::string(kKeptLoadsFile) + ".damaged")));
}

TEST(KeptLoads, WithoutAStateDirectoryNothingIsKept) {
    Device d(default_config(), std::nullopt);
    std::string why;
    EXPECT_FALSE(d.sim_keep_loads({{1, 1, 1.0, std::nullopt}}, why));
    EXPECT_NE(why.find("state directory"), std::string::npos);
}

}  // namespace
}  // namespace openbcpm
