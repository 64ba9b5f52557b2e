// The product MIB as the agent serves it: an ObjectView over the layout of
// meter_mib.hpp whose instances read the meter's snapshot and settings and
// whose writes go to the meter as one all-or-nothing batch of settings plus
// latch clears, resets and the power-up counter.
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "core/settings.hpp"
#include "metering/meter.hpp"
#include "metering/snapshot.hpp"
#include "protocols/snmp/meter_mib.hpp"
#include "protocols/snmp/object_view.hpp"

namespace openbcpm::snmp::meter {

// What the product MIB needs of the meter: the Device in the running meter,
// a fixed model where a test or the fuzzer must put every change back.
class MeterModel {
  public:
    using SettingsBatch = std::vector<std::pair<const SettingDef*, SettingValue>>;
    virtual ~MeterModel() = default;
    virtual const Settings& settings() const = 0;
    virtual const MeterSnapshot& snapshot() = 0;  // the newest
    virtual int power_up_counter(int panel) const = 0;
    // Validates the whole batch first; applies all or nothing.
    virtual WriteResult write_settings(const SettingsBatch& batch) = 0;
    virtual void reset(const ResetCommand& command) = 0;
    virtual void clear_latches(const LatchClearCommand& command) = 0;
    // Stored, then applied; StorageFailed changes nothing.
    virtual WriteResult set_power_up_counter(int panel, int value) = 0;
};

class MeterView final : public ObjectView {
  public:
    // Serves the panels the model has (Settings::model.panels).
    explicit MeterView(MeterModel& model);

    // Copies the model's newest snapshot: every read until the next refresh
    // answers from it, so one request sees one metering window.
    void refresh();
    const MeterSnapshot& snapshot() const { return snapshot_; }

    SetError test(std::span<const SetItem> items) override;
    SetError commit(std::span<const SetItem> items) override;
    bool undo(std::span<const SetItem> items) override;

  private:
    struct Target {
        const MibObject* object = nullptr;
        uint32_t row = 0;  // 1 for a scalar
        const points::Point* point = nullptr;
    };
    // The served object and point a binding names (object null when none).
    Target target(const Oid& name) const;
    std::optional<Value> read(const MibObject& o, const Oid& index) const;
    static SettingValue setting_value(const MibObject& o, const Value& v);

    MeterModel& model_;
    MeterSnapshot snapshot_{};
    std::vector<std::pair<Oid, const MibObject*>> served_;  // sorted by oid
    // What the last commit changed that can be put back.
    struct Undo {
        MeterModel::SettingsBatch settings;
        std::vector<std::pair<int, int>> power_up;  // panel, previous value
        bool irreversible = false;                  // latch clears and resets
    } last_;
};

}  // namespace openbcpm::snmp::meter
