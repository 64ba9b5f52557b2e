// The meter's product MIB (OPENBCPM-BCPME-MIB under 1.3.6.1.4.1.3833.1.30),
// laid out from the point catalogue: per panel the six branches the guide
// names (Alarms, Voltage Inputs, Aux Inputs, Branch Inputs, Flex Circuits,
// Configuration), scalars for panel values and tables for per-channel and
// per-circuit ones. The same layout drives the agent's view and the exported
// SMIv2 module, so the two cannot disagree. Pure data: no device, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/event_engine.hpp"
#include "points/catalogue.hpp"
#include "protocols/snmp/value.hpp"

namespace openbcpm::snmp::meter {

inline constexpr const char* kModuleName = "OPENBCPM-BCPME-MIB";
inline constexpr int kPanels = 2;

namespace oids {
inline const Oid kBcpme{1, 3, 6, 1, 4, 1, 3833, 1, 30};
inline const Oid kPanels{1, 3, 6, 1, 4, 1, 3833, 1, 30, 1};
inline const Oid kConformance{1, 3, 6, 1, 4, 1, 3833, 1, 30, 2};
inline const Oid kModule{1, 3, 6, 1, 4, 1, 3833, 1, 30, 3};  // the MODULE-IDENTITY
}  // namespace oids

// The arcs of a panel's six branches (panels.N.<arc>) and the Alarms branch.
namespace arcs {
inline constexpr uint32_t kAlarms = 1;
inline constexpr uint32_t kVoltageInputs = 2;
inline constexpr uint32_t kAuxInputs = 3;
inline constexpr uint32_t kBranchInputs = 4;
inline constexpr uint32_t kFlexCircuits = 5;
inline constexpr uint32_t kConfiguration = 6;
inline constexpr uint32_t kNotifications = 0;  // under Alarms
inline constexpr uint32_t kEventObjects = 5;   // under Alarms: the notifications' objects
}  // namespace arcs

Oid panel_oid(int panel);

// How a value is carried. SMIv2 has no floats: measurements are Integer32
// fixed-point numbers with a DISPLAY-HINT of their decimals.
enum class Representation : uint8_t {
    Integer,     // Integer32 (value x 10^decimals)
    Unsigned,    // Unsigned32 (Gauge32 encoding)
    Energy,      // kWh in thousandths, a gauge carried in Counter64's encoding
    Text,        // DisplayString
    Enumerated,  // INTEGER with named numbers (the reset command registers)
};

enum class WriteAs : uint8_t { ReadOnly, Setting, LatchClear, Reset, PowerUpCounter };

struct MibObject {
    std::string name;  // "p1BranchCurrent"
    Oid oid;           // the OBJECT-TYPE; instances are oid.0 or oid.<row>
    int panel = 1;
    bool column = false;       // a table column (rows 1..n) or a scalar (.0)
    bool notify_only = false;  // accessible-for-notify: no instance is served
    Representation repr = Representation::Integer;
    int decimals = 0;
    std::string units;
    // Value range of Integer/Unsigned, SIZE of Text; none when min > max.
    int64_t min = 1, max = 0;
    std::vector<std::pair<std::string, int32_t>> enumeration;
    WriteAs write = WriteAs::ReadOnly;
    std::string description;
    // The point of each instance: rows[0] for a scalar, rows[r - 1] for row r.
    std::vector<const points::Point*> rows;
};

struct MibTable {
    std::string name;   // "p1BranchTable"; the entry is "p1BranchEntry"
    std::string entry;  // "p1BranchEntry"
    std::string index;  // "p1BranchIndex" (column 1, not-accessible)
    Oid oid;            // entry = oid.1
    int panel = 1;
    uint32_t rows = 0;  // index 1..rows
    std::string description;
    std::string row_description;
    std::vector<size_t> columns;  // into MeterMib::objects(), arc order
};

// OBJECT-IDENTITY nodes that only structure the tree.
struct MibNode {
    std::string name;
    Oid oid;
    std::string description;
};

struct MibNotification {
    std::string name;
    Oid oid;
    int panel = 1;
    EventKind kind = EventKind::Latched;
    std::vector<std::string> objects;
    std::string description;
};

// Why a catalogue point is not in the MIB (every point is placed or excluded
// by one of these rules).
enum class Exclusion : uint8_t {
    None,
    Scale,        // a scale register: SNMP values carry their decimals instead
    Reserved,     // reserved and placeholder registers, registers that always read 0
    LegacyMeter,  // the legacy 2- and 3-phase meters of the Modbus map (62017 bit 3)
    Duplicate,    // the by-circuit copy of a logical circuit, or the row number itself
};

class MeterMib {
  public:
    // The layout of both panels (the exported module always has both; the
    // agent serves the panels the model has).
    static const MeterMib& instance();
    // The layout of other points (tests). Every point the MIB serves is at
    // its pin (Point::snmp); throws std::logic_error naming the point when a
    // served point has no pin, a left-out point has one, or two points (or
    // two descriptors) share one place.
    explicit MeterMib(const std::vector<points::Point>& points);

    const std::vector<MibObject>& objects() const { return objects_; }
    const std::vector<MibTable>& tables() const { return tables_; }
    const std::vector<MibNode>& nodes() const { return nodes_; }
    const std::vector<MibNotification>& notifications() const { return notifications_; }
    const MibObject* find(const std::string& name) const;
    // Why a point is left out (Exclusion::None for a placed one).
    static Exclusion exclusion(const points::Point& p);

    // The SMIv2 module text (`openbcpm export mib`).
    std::string module_text() const;

  private:
    std::vector<MibObject> objects_;
    std::vector<MibTable> tables_;
    std::vector<MibNode> nodes_;
    std::vector<MibNotification> notifications_;
};

// The named number of an event's level (the EventLevel objects), from the
// channel (47..49: L-L voltage pairs) and the status bit; 0 when unknown.
int32_t event_level(int channel, uint16_t bit);

// The notification an event change sends: its OID and the bindings after
// sysUpTime.0 and snmpTrapOID.0 (channel, level, value, threshold, then the
// channel's present status). nullopt for an event the MIB cannot name.
struct Notification {
    Oid trap_oid;
    std::vector<VarBind> varbinds;
};
std::optional<Notification> event_notification(const EventRecord& e, uint16_t present_status);

// A measurement in engineering units as an Integer32 with `decimals`
// decimals (rounded, clamped to the type).
int32_t fixed_point(double value, int decimals);

}  // namespace openbcpm::snmp::meter
