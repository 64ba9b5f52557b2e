// A meter model for the product MIB whose state a test or the fuzzer can
// put back: the settings and one snapshot of a simulated meter, with writes
// validated as the Device validates them and commands recorded.
#pragma once

#include <array>
#include <vector>

#include "app/device.hpp"
#include "config/config.hpp"
#include "protocols/snmp/meter_view.hpp"

namespace openbcpm::snmp::testing {

class FixedModel final : public meter::MeterModel {
  public:
    // Meters `seconds` of the configuration's simulation, then keeps its state.
    FixedModel(const Config& config, double seconds) {
        Device device(config, std::nullopt);
        device.run_inline(seconds);
        settings_ = device.settings();
        snapshot_ = device.snapshot();
        initial_ = settings_;
    }

    const Settings& settings() const override { return settings_; }
    const MeterSnapshot& snapshot() override { return snapshot_; }
    int power_up_counter(int panel) const override {
        return power_up_[static_cast<size_t>(panel - 1)];
    }
    WriteResult write_settings(const SettingsBatch& batch) override {
        ++batches;
        if (fail_writes) return {WriteError::Inconsistent, "refused by the test"};
        Settings trial = settings_;
        for (const auto& [def, value] : batch) {
            WriteResult r = write_setting(trial, *def, value);
            if (!r.ok()) return r;
        }
        settings_ = trial;
        return {};
    }
    void reset(const ResetCommand& command) override { resets.push_back(command); }
    void clear_latches(const LatchClearCommand& command) override { clears.push_back(command); }
    WriteResult set_power_up_counter(int panel, int value) override {
        power_up_[static_cast<size_t>(panel - 1)] = value;
        return {};
    }

    // Back to the state it was built with.
    void put_back() {
        settings_ = initial_;
        power_up_ = {};
        resets.clear();
        clears.clear();
        batches = 0;
        fail_writes = false;
    }
    MeterSnapshot& mutable_snapshot() { return snapshot_; }

    std::vector<ResetCommand> resets;
    std::vector<LatchClearCommand> clears;
    int batches = 0;
    bool fail_writes = false;

  private:
    Settings settings_;
    Settings initial_;
    MeterSnapshot snapshot_{};
    std::array<int, kMaxPanels> power_up_{};
};

}  // namespace openbcpm::snmp::testing
