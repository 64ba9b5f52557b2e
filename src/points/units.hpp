// The one unit table: how every face and export writes a catalogue point's
// unit. The catalogue (catalogue.hpp) gives each point a Unit; the point map,
// the web JSON and GUI, Prometheus, the BACnet objects and EDE file and the
// SNMP MIB all read this table instead of keeping one of their own.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

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

struct UnitInfo {
    Unit unit = Unit::None;
    // The point map's and the catalogue export's unit column ("A", "0.1%").
    std::string_view symbol;
    // How the GUI writes a value after its number ("A", "°"; "" for none).
    std::string_view display;
    int decimals = 0;  // and the digits it shows after the point
    // BACnet engineering units (ASHRAE 135 clause 21) of the objects and the
    // EDE file, and the name the EDE's units file gives it.
    uint32_t bacnet = 0;
    std::string_view bacnet_name;
    // The product MIB's UNITS clause ("" for none).
    std::string_view snmp;
    // Prometheus: the base unit a metric name ends with ("" for a ratio), the
    // factor from the catalogue's unit to it (kW -> W: 1000), and the word
    // that stands for the unit's token in a quantity's key ("kw_demand" ->
    // "power_demand"; "" when the unit is no quantity of its own).
    std::string_view prometheus;
    double prometheus_factor = 1.0;
    std::string_view quantity;
};

// Every unit, in the enumeration's order.
std::span<const UnitInfo> unit_table();
const UnitInfo& unit_info(Unit u);
inline std::string_view unit_symbol(Unit u) {
    return unit_info(u).symbol;
}
// The EDE's name of a BACnet engineering unit: the table's, or "units-<code>"
// for a code no catalogue unit has.
std::string bacnet_units_name(uint32_t code);

}  // namespace openbcpm::points
