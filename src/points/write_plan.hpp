// The one write path's rules. Every face turns its request into a
// WriteRequest (actions on catalogue points, or on settings by their table
// entry); plan_writes() checks the whole request once, on a trial copy of the
// settings, and gives the plan the meter then persists and applies: settings,
// power-up counters, reset and latch-clear commands, the RTC. A refused
// request changes nothing, and its refusal says which item and why, in terms
// each face maps to its own error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/settings.hpp"
#include "metering/meter.hpp"
#include "metering/snapshot.hpp"
#include "points/catalogue.hpp"

namespace openbcpm::points {

// Who writes: the RTC follows RTC_Control (0 BACnet, 1 Modbus); the others
// (web, SNMP, tests) are not bound by it.
enum class WriteSource : uint8_t { Modbus, Bacnet, Snmp, Web, Other };

// A written value: a register count (Modbus, SNMP), text (location), or a
// number in engineering units (BACnet REAL, web JSON numbers) that must be a
// whole number of register steps of `scale`.
using WriteValue = std::variant<int64_t, double, std::string>;

struct WriteItem {
    const Point* point = nullptr;         // a catalogue point of `panel`,
    const SettingDef* setting = nullptr;  // or a setting by its table entry
    int panel = 1;
    WriteValue value = int64_t{0};
    double scale = 1.0;  // engineering units per register count (double values)
};

struct WriteRequest {
    WriteSource source = WriteSource::Other;
    std::vector<WriteItem> items;
};

// Why a request was refused. Each face has its own error for each:
//   NotWritable    Modbus 02, BACnet write-access-denied, SNMP notWritable, web 400
//   WrongType      Modbus 03, BACnet invalid-data-type, SNMP wrongType, web 400
//   OutOfRange     Modbus 03, BACnet value-out-of-range, SNMP wrongValue, web 400
//   NotWholeStep   (as OutOfRange: a value between two register steps)
//   Inconsistent   Modbus 03, BACnet value-out-of-range, SNMP inconsistentValue, web 400
//   AccessDenied   Modbus 04, BACnet write-access-denied, SNMP noAccess, web 403 (RTC_Control)
//   StorageFailed  Modbus 04, BACnet resources, SNMP commitFailed, web 503 (nothing changed)
enum class Refusal : uint8_t {
    None,
    NotWritable,
    WrongType,
    OutOfRange,
    NotWholeStep,
    Inconsistent,
    AccessDenied,
    StorageFailed,
};
std::string_view refusal_name(Refusal r);

struct PlanResult {
    Refusal refusal = Refusal::None;
    size_t item = 0;  // index of the refused item in the request
    std::string message;
    bool ok() const { return refusal == Refusal::None; }
};

// The checked effect of a request, in request order.
struct WritePlan {
    std::vector<std::pair<const SettingDef*, SettingValue>> settings;
    Settings trial;                             // the settings once `settings` are applied
    std::vector<std::pair<int, int>> power_up;  // panel, new counter
    std::vector<ResetCommand> resets;
    std::vector<LatchClearCommand> latch_clears;
    std::optional<int64_t> rtc;  // the RTC fields written, assembled: seconds since 1970
    bool empty() const {
        return settings.empty() && power_up.empty() && resets.empty() && latch_clears.empty() &&
               !rtc;
    }
    // Whether the metering thread must take part (commands, metering settings).
    bool meter_commands() const;
};

// What the meter made of a submitted request: the plan's verdict (or
// StorageFailed), and the ticket that completes once a published snapshot
// shows the write (0: nothing to wait for, it shows already).
struct SubmitResult {
    PlanResult result;
    uint64_t ticket = 0;
    bool ok() const { return result.ok(); }
};

// Checks `request` against the settings now (validated in order on a copy,
// by the settings table) and the newest snapshot (reset scopes of logical
// circuits, the RTC the fields are written into). On refusal `plan` is left
// empty.
PlanResult plan_writes(const WriteRequest& request, const Settings& settings,
                       const MeterSnapshot& snapshot, WritePlan& plan);

// `value` / `scale` when it is a whole number (to the precision a REAL
// carries), else nothing: 72.55 % at 0.1 % steps is not a register value.
std::optional<int64_t> whole_step(double value, double scale);

// The mask of latched bits of a status point (0 written = clear) and the event
// channel it belongs to (1..46, or 47..49 for the L-L voltage status).
uint16_t latch_mask(const Point& p);
int latch_channel(const Point& p);

}  // namespace openbcpm::points
