// The product MIB as the agent serves it: an ObjectView over the layout of
// meter_mib.hpp whose instances read the meter's snapshot and settings and
// whose writes go to the meter as one write request (the one write path:
// settings, latch clears, resets and the power-up counter, all or nothing).
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "core/settings.hpp"
#include "metering/meter.hpp"
#include "metering/snapshot.hpp"
#include "points/write_plan.hpp"
#include "protocols/snmp/meter_mib.hpp"
#include "protocols/snmp/object_view.hpp"

namespace openbcpm::snmp::meter {

// What the product MIB needs of the meter: the Device in the running meter,
// a fixed model where a test or the fuzzer must put every change back.
class MeterModel {
  public:
    virtual ~MeterModel() = default;
    virtual const Settings& settings() const = 0;
    virtual const MeterSnapshot& snapshot() = 0;  // the newest
    virtual int power_up_counter(int panel) const = 0;
    // The one write path (Device::submit): validates the whole request once,
    // stores and applies all or nothing; the ticket completes when the
    // meter shows it.
    virtual points::SubmitResult submit(const points::WriteRequest& request) = 0;
    // False for a panel whose profile was removed in Locked mode (SNMP the
    // primary protocol): its subtree is not served.
    virtual bool serves_panel(int /*panel*/) const { return true; }
};

class MeterView final : public ObjectView {
  public:
    // Serves the panels the model has (Settings::model.panels) and serves (serves_panel).
    explicit MeterView(MeterModel& model);

    // Takes the model's newest snapshot: every read until the next refresh
    // answers from it. It is not copied: the face holds a SnapshotPin for the
    // request (snmp_face.cpp), so one request sees one metering window and
    // the reference stays good while the request is handled.
    void refresh();
    const MeterSnapshot& snapshot() const { return *snapshot_; }

    SetError test(std::span<const SetItem> items) override;
    SetError commit(std::span<const SetItem> items) override;
    bool undo(std::span<const SetItem> items) override;

    // The ticket of the last committed Set (0 when it has nothing to wait
    // for), once: the face holds the response until the meter shows it.
    uint64_t take_ticket() { return std::exchange(ticket_, 0); }

  private:
    struct Target {
        const MibObject* object = nullptr;
        uint32_t row = 0;  // 1 for a scalar
        const points::Point* point = nullptr;
    };
    // The served object and point a binding names (object null when none).
    Target target(const Oid& name) const;
    std::optional<Value> read(const MibObject& o, const Oid& index) const;
    // A request's read of a setting-backed instance through its definition
    // (found once): the same value as read(), into the caller's value.
    bool read_setting(const MibObject& o, const SettingDef* def, Value& out) const;
    // A point's value as the object serves it (nullopt: a text, not served so).
    std::optional<Value> value_of(const MibObject& o, const points::Value& v) const;
    // The Set's bindings as a write request on the catalogue points; false
    // with `error` set when a binding names nothing writable here.
    bool request_of(std::span<const SetItem> items, points::WriteRequest& request,
                    SetError& error) const;

    MeterModel& model_;
    const MeterSnapshot* snapshot_ = nullptr;
    std::vector<std::pair<Oid, const MibObject*>> served_;  // sorted by oid
    // What the last commit changed that can be put back.
    struct Undo {
        points::WriteRequest previous;  // settings and counters as they were
        bool irreversible = false;      // latch clears and resets
    } last_;
    uint64_t ticket_ = 0;
};

}  // namespace openbcpm::snmp::meter
