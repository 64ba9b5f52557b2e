// The Device's simulator controls (what the web GUI's simulation page and the
// JSON API drive) reach the simulated panel and show up in the readings.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <thread>

#include "config/config.hpp"
#include "device/device.hpp"

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

}  // namespace
}  // namespace openbcpm
