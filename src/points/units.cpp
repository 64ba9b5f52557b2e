#include "points/units.hpp"

#include <array>

namespace openbcpm::points {

namespace {

// BACnet engineering units used below (ASHRAE 135 clause 21, BACnetEngineeringUnits).
constexpr uint32_t kAmperes = 3;
constexpr uint32_t kVolts = 5;
constexpr uint32_t kKilovoltAmperes = 9;
constexpr uint32_t kDegreesPhase = 14;
constexpr uint32_t kPowerFactor = 15;
constexpr uint32_t kKilowattHours = 19;
constexpr uint32_t kHertz = 27;
constexpr uint32_t kKilowatts = 48;
constexpr uint32_t kSeconds = 73;
constexpr uint32_t kNoUnits = 95;
constexpr uint32_t kPercent = 98;

// clang-format off
constexpr std::array<UnitInfo, 15> kUnits{{
    // unit                symbol   display  digits BACnet            BACnet name         SNMP       Prometheus        factor  quantity
    {Unit::None,           "",      "",      0,  kNoUnits,         "no-units",         "",        "",               1.0,    ""},
    {Unit::Amps,           "A",     "A",     2,  kAmperes,         "amperes",          "A",       "amperes",        1.0,    ""},
    {Unit::Kilowatts,      "kW",    "kW",    3,  kKilowatts,       "kilowatts",        "kW",      "watts",          1e3,    "power"},
    {Unit::KilovoltAmps,   "kVA",   "kVA",   3,  kKilovoltAmperes, "kilovolt-amperes", "kVA",     "voltamperes",    1e3,    "apparent_power"},
    {Unit::KilowattHours,  "kWh",   "kWh",   3,  kKilowattHours,   "kilowatt-hours",   "kWh",     "kilowatt_hours", 1.0,    "energy"},
    {Unit::Volts,          "V",     "V",     1,  kVolts,           "volts",            "V",       "volts",          1.0,    ""},
    {Unit::Hertz,          "Hz",    "Hz",    2,  kHertz,           "hertz",            "Hz",      "hertz",          1.0,    ""},
    {Unit::Degrees,        "deg",   "\u00b0",1,  kDegreesPhase,   "degrees-phase",    "degrees", "degrees",        1.0,    ""},
    {Unit::PowerFactor,    "PF",    "",      3,  kPowerFactor,     "power-factor",     "",        "",               1.0,    "power_factor"},
    // The BACnet objects and the MIB present these in percent (one decimal).
    {Unit::PercentTenths,  "0.1%",  "0.1 %", 1,  kPercent,         "percent",          "%",       "percent",        0.1,    ""},
    {Unit::Seconds,        "s",     "s",     0,  kSeconds,         "seconds",          "seconds", "seconds",        1.0,    ""},
    {Unit::Count,          "count", "",      0,  kNoUnits,         "no-units",         "",        "",               1.0,    ""},
    {Unit::Bits,           "bits",  "",      0,  kNoUnits,         "no-units",         "",        "",               1.0,    ""},
    {Unit::Text,           "text",  "",      0,  kNoUnits,         "no-units",         "",        "",               1.0,    ""},
    {Unit::Exponent,       "10^n",  "",      0,  kNoUnits,         "no-units",         "",        "",               1.0,    ""},
}};
// clang-format on

constexpr bool in_order() {
    for (size_t i = 0; i < kUnits.size(); ++i)
        if (static_cast<size_t>(kUnits[i].unit) != i) return false;
    return true;
}
static_assert(in_order(), "the unit table lists every Unit once, in the enumeration's order");
static_assert(kUnits.size() == static_cast<size_t>(Unit::Exponent) + 1);

}  // namespace

std::span<const UnitInfo> unit_table() {
    return kUnits;
}

const UnitInfo& unit_info(Unit u) {
    const auto i = static_cast<size_t>(u);
    return i < kUnits.size() ? kUnits[i] : kUnits[0];
}

std::string bacnet_units_name(uint32_t code) {
    for (const UnitInfo& u : kUnits)
        if (u.bacnet == code) return std::string(u.bacnet_name);
    return "units-" + std::to_string(code);
}

}  // namespace openbcpm::points
