// A meter model for the product MIB whose state a test or the fuzzer can
// put back: the settings and one snapshot of a simulated meter, with writes
// validated as the Device validates them and commands recorded.
#pragma once

#include <array>
#include <vector>

#include "config/config.hpp"
#include "device/device.hpp"
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
    // The one write path's rules on this model's state; commands recorded.
    points::SubmitResult submit(const points::WriteRequest& request) override {
        points::SubmitResult out;
        points::WritePlan plan;
        out.result = points::plan_writes(request, settings_, snapshot_, plan);
        if (!out.ok() || plan.empty()) return out;
        ++batches;
        if (fail_writes) {
            out.result = {points::Refusal::StorageFailed, 0, "refused by the test"};
            return out;
        }
        if (!plan.settings.empty()) settings_ = plan.trial;
        for (const auto& [panel, value] : plan.power_up)
            power_up_[static_cast<size_t>(panel - 1)] = value;
        resets.insert(resets.end(), plan.resets.begin(), plan.resets.end());
        clears.insert(clears.end(), plan.latch_clears.begin(), plan.latch_clears.end());
        return out;
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
