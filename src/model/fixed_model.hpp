// A MeterModel with a fixed state, for the fuzz targets and unit tests of a
// face: the configuration's settings and one snapshot, metered inline from
// the configuration's simulator once at construction (no threads, no store,
// no clock). Writes go through the one write plan (points::plan_writes) on
// this state: a setting that passes is applied, commands are recorded, and a
// write completes at once (ticket 0: the snapshot does not change). Events
// are never published; the simulator's controls are refused.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "metering/meter.hpp"
#include "model/meter_model.hpp"
#include "sources/simulator.hpp"

namespace openbcpm {

class FixedModel final : public MeterModel {
  public:
    // Meters `seconds` of the configuration's simulated panel, then keeps that state.
    explicit FixedModel(const Config& config, double seconds = 0.5)
        : config_(config), settings_(config.settings), initial_(config.settings) {
        std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct{};
        for (int p = 1; p <= settings_.model.panels; ++p)
            for (int c = 1; c <= kChannelsPerPanel; ++c)
                ct[static_cast<size_t>(p - 1)][static_cast<size_t>(c - 1)] =
                    settings_.panel(p).ct_size[static_cast<size_t>(c - 1)];
        PanelSimulator source(config.simulation, settings_.model, ct);
        Meter meter(settings_.model, metering_config(settings_), source.info().nominal_frequency);
        auto block = std::make_unique<SampleBlock>();
        while (meter.snapshot().time < seconds - 1e-9 && source.read(*block))
            meter.process(*block, [&](const MeterSnapshot&) { meter.events().drain(); });
        snapshot_ = meter.snapshot();
    }

    // Back to the state it was built with (settings, counters, records).
    void put_back() {
        settings_ = initial_;
        power_up_.fill(0);
        resets.clear();
        clears.clear();
        rtc_writes.clear();
        batches = 0;
    }
    MeterSnapshot& mutable_snapshot() { return snapshot_; }

    // What the writes asked the meter to do.
    std::vector<ResetCommand> resets;
    std::vector<LatchClearCommand> clears;
    std::vector<int64_t> rtc_writes;
    int batches = 0;  // requests that passed

    // --- MeterModel ---
    const Settings& settings() const override { return settings_; }
    const Config& config() const override { return config_; }
    const MeterSnapshot& snapshot() override { return snapshot_; }
    int power_up_counter(int panel) const override {
        return power_up_[static_cast<size_t>(std::clamp(panel, 1, kMaxPanels) - 1)];
    }

    points::SubmitResult submit(const points::WriteRequest& request) override {
        points::SubmitResult out;
        points::WritePlan plan;
        out.result = points::plan_writes(request, settings_, snapshot_, plan);
        if (!out.ok() || plan.empty()) return out;
        ++batches;
        if (!plan.settings.empty()) settings_ = plan.trial;
        for (const auto& [panel, value] : plan.power_up)
            power_up_[static_cast<size_t>(panel - 1)] = value;
        resets.insert(resets.end(), plan.resets.begin(), plan.resets.end());
        clears.insert(clears.end(), plan.latch_clears.begin(), plan.latch_clears.end());
        if (plan.rtc) rtc_writes.push_back(*plan.rtc);
        return out;
    }
    void when_applied(uint64_t, std::function<void()> fn) override {
        if (poster_)
            poster_(std::move(fn));
        else
            fn();
    }
    bool applied(uint64_t) const override { return true; }
    void set_loop_poster(std::function<void(std::function<void()>)> post) override {
        if (!poster_) poster_ = std::move(post);
    }
    // Settings alone: validated and applied in order on a copy, all or nothing.
    WriteResult write_setting(const SettingDef& def, const SettingValue& value) override {
        return write_settings({{&def, value}});
    }
    WriteResult write_setting(std::string_view key, const SettingValue& value) override {
        const SettingDef* def = find_setting(key);
        if (!def) return {WriteError::UnknownKey, "unknown setting " + std::string(key)};
        return write_setting(*def, value);
    }
    WriteResult write_settings(
        const std::vector<std::pair<const SettingDef*, SettingValue>>& batch) override {
        Settings trial = settings_;
        for (const auto& [def, value] : batch) {
            WriteResult r = openbcpm::write_setting(trial, *def, value);
            if (!r.ok()) return r;
        }
        settings_ = std::move(trial);
        ++batches;
        return {};
    }
    bool set_rtc(int64_t unix_seconds, RtcSource) override {
        rtc_writes.push_back(unix_seconds);
        return true;
    }

    bool simulating() const override { return false; }
    bool sim_set_load(int, int, double, std::optional<double>) override { return false; }
    bool sim_trip(int, int, bool) override { return false; }
    bool sim_ramp(int, int, double, double) override { return false; }
    bool sim_voltage(int, double, double) override { return false; }
    bool sim_frequency(double) override { return false; }
    bool sim_speed(double) override { return false; }
    double speed() const override { return 1.0; }

    [[nodiscard]] Subscription subscribe(EventListener) override {
        return Subscription(this, ++subscriptions_);
    }
    bool request_restart(RestartKind) override { return false; }

    bool serves_panel(FaceProtocol, int panel) const override {
        return panel >= 1 && panel <= settings_.model.panels;
    }
    int profiles_not_served() const override { return 0; }
    int start_protocol_mode() const override { return settings_.gateway.protocol_mode; }
    int start_operating_mode() const override { return settings_.gateway.operating_mode; }

    Store* store() override { return nullptr; }
    StoreHealth storage_health() const override { return {}; }
    const StoreRecovery& storage_recovery() const override { return recovery_; }
    size_t events_pending() const override { return 0; }
    uint64_t events_unrecorded() const override { return 0; }
    uint64_t events_dropped() const override { return 0; }
    std::filesystem::path state_dir() const override { return {}; }
    double lag_seconds() const override { return 0.0; }
    ConnectionStats& connection_stats() override { return stats_; }
    std::chrono::steady_clock::time_point started() const override { return started_; }

  protected:
    void unsubscribe(uint64_t) override {}
    void hold_snapshot(int) override {}

  private:
    Config config_;
    Settings settings_;
    Settings initial_;
    MeterSnapshot snapshot_{};
    std::array<int, kMaxPanels> power_up_{};
    std::function<void(std::function<void()>)> poster_;
    uint64_t subscriptions_ = 0;
    StoreRecovery recovery_;
    ConnectionStats stats_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace openbcpm
