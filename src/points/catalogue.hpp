// The point catalogue: one declarative table of every datum a panel exposes.
// The Modbus register map, the BACnet object list, the SNMP MIB and the
// exported documents are all views of it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "points/quantity.hpp"
#include "points/units.hpp"

namespace openbcpm::points {

enum class Access : uint8_t { Read, ReadWrite, Write };
std::string_view access_name(Access a);

// What a write to a writable point does.
enum class WriteKind : uint8_t {
    None,
    Setting,     // a setting of the panel (setting_key) or of the gateway
    LatchClear,  // a 0 written to a latched event bit clears it
    PowerUpCounter,
    Reset,  // a reset command register (codes below)
    Rtc,    // one field of the RTC; only when RTC_Control says Modbus
};

// Scope of a reset register.
enum class ResetScope : uint8_t { Global, Aux, Channel, TwoPhase, ThreePhase, Logical };

// The register 295 / 294 / 1126.. codes.
namespace reset_codes {
inline constexpr int kNewSubinterval = 26012;
inline constexpr int kResetDemand = 26013;
inline constexpr int kClearLatches = 31010;
inline constexpr int kClearEnergy = 10203;
inline constexpr int kClearMaxima = 29877;
inline constexpr int kClearMaxDemand = 20097;
}  // namespace reset_codes

// How a value sits in Modbus registers.
enum class Repr : uint8_t {
    Int16,    // signed, scaled by the scale register or a fixed exponent
    Uint16,   // raw unsigned (bitmaps, counters, settings, codes)
    Int32,    // signed 32-bit, most significant word first, scaled (kWh)
    Float32,  // IEEE-754, most significant word first
    Text,     // packed ASCII, 2 characters per register, first in the MSB
};

// Which of the two maps of 4000..9999 a register belongs to (62017 bit 3).
enum class MapVariant : uint8_t { Always, LogicalByType, Legacy };

struct ModbusBinding {
    uint16_t reg = 0;  // 1-based register number as printed; 0 = none
    uint8_t words = 1;
    Repr repr = Repr::Uint16;
    // Scale of Int16/Int32: the 1-based register holding the exponent, or none
    // (then fixed_scale applies).
    uint16_t scale_reg = 0;
    int8_t fixed_scale = 0;
    MapVariant variant = MapVariant::Always;
    std::string map_name;  // the point map's description of the register
};

// ---------------------------------------------------------------- pinned identities
// Where a point sits on each face, fixed for good once published
// (docs/decisions.md, Pinned identities): a literal, or a literal base plus
// the channel, meter, circuit or phase number; never a count or the order of
// the catalogue. The faces choose which points they present; a presented
// point without its pin, a pin on a point a face does not present, or two
// points on one identity stop that face's table from being built.

// The BACnet object of a point on each panel device.
enum class ObjectKind : uint8_t { None, AnalogInput, AnalogValue, AnalogOutput };
struct BacnetPin {
    ObjectKind type = ObjectKind::None;
    uint32_t instance = 0;
    bool pinned() const { return type != ObjectKind::None; }
};

// The branches of a panel's subtree of the product MIB; the MIB gives each its
// arcs under the panel node (protocols/snmp/meter_mib.cpp).
enum class MibGroup : uint8_t {
    None,
    EventStatus,     // Alarms.1, scalars
    EventCounters,   // Alarms.2, scalars
    ChannelEvents,   // Alarms.3, table: row = channel
    VoltageEvents,   // Alarms.4, table: row = L-L pair (1 A-B, 2 B-C, 3 C-A)
    VoltageSummary,  // VoltageInputs.1, scalars
    VoltagePhases,   // VoltageInputs.2, table: row = phase
    Mains,           // AuxInputs.1, scalars
    Aux,             // AuxInputs.2, table: row = aux input 1..4
    Branch,          // BranchInputs.1, table: row = branch channel
    Flex,            // FlexCircuits.1, table: row = logical circuit
    Product,         // Configuration.1, scalars
    Commands,        // Configuration.2, scalars
    Setup,           // Configuration.3, scalars
    ChannelConfig,   // Configuration.4, table: row = channel
    EventConfig,     // Configuration.5, scalars
    Clock,           // Configuration.6, scalars
};
struct SnmpPin {
    MibGroup group = MibGroup::None;
    uint32_t arc = 0;        // the object's arc in its group (a table's column)
    uint32_t row = 0;        // a table's row; 0 for a scalar
    std::string descriptor;  // after the panel's prefix: "BranchCurrent" is p1BranchCurrent
    bool pinned() const { return group != MibGroup::None; }
};

struct Point {
    std::string id;    // unique within a panel: "ch5.current", "lc12.kw"
    std::string name;  // a readable name: "Channel 5 current"
    Unit unit = Unit::None;
    Access access = Access::Read;
    bool nv = false;
    Ref ref;
    WriteKind write = WriteKind::None;
    std::string setting_key;  // "ct_size.5" (panel settings, prefix "panel.N."), or "gateway.x"
    ResetScope reset_scope = ResetScope::Global;
    uint8_t reset_index = 0;   // channel or meter number
    int channel = 0;           // the channel it concerns (0 = none)
    double cov_increment = 0;  // default COV increment for analog values
    ModbusBinding integer;     // the integer register(s)
    ModbusBinding floating;    // the float copy, where the map has one
    BacnetPin bacnet;          // its object on the panel devices, if BACnet presents it
    SnmpPin snmp;              // its OID under each panel, if the MIB serves it
};

class Catalogue {
  public:
    static const Catalogue& instance();

    const std::vector<Point>& points() const { return points_; }
    const Point* find(std::string_view id) const;
    // The gateway's own points (settings of the whole meter, not of a panel):
    // the BACnet router device presents them.
    const std::vector<Point>& gateway_points() const { return gateway_; }

  private:
    Catalogue();
    std::vector<Point> points_;
    std::vector<Point> gateway_;
};

// The full setting key of a panel point ("panel.2.ct_size.5").
std::string setting_key(const Point& p, int panel);

// ---------------------------------------------------------------- quantities
// What a channel, a multi-channel meter and the voltage inputs measure, read
// off the catalogue's own points (channel 1's, logical circuit 1's, the
// mains' and the voltage points), so that nothing else describes them: the
// web JSON's keys, the GUI's labels and units (GET /api/quantities) and the
// Prometheus names come from here.
enum class QuantityOf : uint8_t {
    Channel,  // "ch1.<key>": ChCurrent..ChMaxKwDemand, EvStatus
    Circuit,  // "lc1.<key>": GrKw..GrMaxCurrentDemand (logical circuits)
    Mains,    // "mains.<key>": the mains' points
    Voltage,  // the voltage inputs: VoltLn.., Frequency, VoltAngle
};
struct Quantity {
    // The point id without its prefix ("kw_demand" of "ch1.kw_demand"); for
    // the voltage points the id without "volts_", an angle as "angle_a".
    std::string key;
    std::string name;  // the point's name without its prefix: "real power demand"
    Unit unit = Unit::None;
    Ref ref;  // the point's reference (channel 1, circuit 1, the mains, the voltage)
};
// In the order of Q (current, power, ..., maxima, event status).
const std::vector<Quantity>& quantities(QuantityOf of);
// "real power demand" -> "Real power demand".
std::string quantity_label(const Quantity& q);
// The Prometheus metric of a quantity: "bcpm_<scope>_" + the key with its
// unit's token spelled as the quantity it stands for ("kw_demand" ->
// "power_demand"), then the unit's base unit ("_watts"), and "_total" for the
// energy counter: bcpm_channel_power_demand_watts, bcpm_mains_energy_kilowatt_hours_total.
std::string prometheus_name(std::string_view scope, const Quantity& q);
// Energy (kWh) only grows but for a reset: a counter; everything else a gauge.
bool prometheus_counter(const Quantity& q);

}  // namespace openbcpm::points
