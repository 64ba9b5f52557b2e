// The point catalogue: one declarative table of every datum a panel exposes.
// The Modbus register map, the BACnet object list, the SNMP MIB and the
// exported documents are all views of it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "points/quantity.hpp"

namespace openbcpm::points {

enum class Unit : uint8_t {
    None,
    Amps,
    Kilowatts,
    KilovoltAmps,
    KilowattHours,
    Volts,
    Hertz,
    Degrees,
    PowerFactor,
    PercentTenths,  // 0.1 % steps (thresholds, hysteresis)
    Seconds,
    Count,
    Bits,
    Text,
    Exponent,
};
std::string_view unit_symbol(Unit u);

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
};

class Catalogue {
  public:
    static const Catalogue& instance();

    const std::vector<Point>& points() const { return points_; }
    const Point* find(std::string_view id) const;

  private:
    Catalogue();
    std::vector<Point> points_;
};

// The full setting key of a panel point ("panel.2.ct_size.5").
std::string setting_key(const Point& p, int panel);

}  // namespace openbcpm::points
