#include "protocols/bacnet/meter_objects.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "core/settings.hpp"
#include "events/event_engine.hpp"
#include "points/modbus_map.hpp"

namespace openbcpm::bacnet {

namespace {

using points::Access;
using points::Point;
using points::Q;
using points::Unit;
using points::WriteKind;

std::string capitalised(std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}

uint16_t register_of(const Point& p) {
    return p.integer.reg ? p.integer.reg : p.floating.reg;
}

std::string description_of(const Point& p) {
    const uint16_t reg = register_of(p);
    return reg ? p.id + " (Modbus register " + std::to_string(reg) + ")" : p.id;
}

// Read-only measurements: everything a client reads, but not the scale
// exponents (BACnet REALs carry the value itself), not the reserved
// placeholders, and not the by-circuit copies of the logical circuit points.
bool is_measurement(const Point& p) {
    return p.access == Access::Read && p.unit != Unit::Exponent && p.ref.q != Q::Reserved &&
           p.id.find(".by_circuit.") == std::string::npos;
}

bool is_setting_register(const Point& p) {
    return p.access == Access::ReadWrite && p.integer.reg != 0 &&
           p.integer.repr != points::Repr::Text;
}

bool is_command(const Point& p) {
    return p.access == Access::Write && p.write == WriteKind::Reset &&
           p.id.find(".by_circuit.") == std::string::npos;
}

MeterObject analog_input(const Point& p, uint32_t instance) {
    MeterObject o;
    o.type = ObjectType::AnalogInput;
    o.instance = instance;
    o.point = &p;
    o.name = capitalised(p.name);
    o.description = description_of(p);
    o.units = bacnet_units(p.unit);
    o.cov_increment = p.cov_increment > 0 ? static_cast<float>(p.cov_increment) : 1.0F;
    o.channel = p.channel;
    o.reg = register_of(p);
    if (p.ref.q == Q::ChCurrent && p.channel >= 1) {
        o.notification_class = kCurrentEventClass;
        o.event_channel = p.channel;
    } else if (p.ref.q == Q::VoltLl) {
        o.notification_class = kVoltageEventClass;
        o.event_channel = kVoltageEventChannelBase + 1 + p.ref.index % 3;
    }
    return o;
}

double register_scale(const Point& p) {
    if (p.integer.scale_reg == 0) return std::pow(10.0, static_cast<double>(p.integer.fixed_scale));
    const auto* s = points::ModbusMap::instance().slot(p.integer.scale_reg, false);
    if (!s || s->point->ref.q != Q::ScaleFixed)
        throw std::logic_error("setting " + p.id + " has a variable scale");
    return std::pow(10.0, static_cast<double>(s->point->ref.fixed_scale));
}

MeterObject analog_value(const Point& p, uint32_t instance) {
    MeterObject o;
    o.type = ObjectType::AnalogValue;
    o.instance = instance;
    o.point = &p;
    o.name = capitalised(p.name);
    o.description = description_of(p);
    o.channel = p.channel;
    o.reg = p.integer.reg;
    o.cov_increment = 1.0F;
    // The register's scale: tenths of a percent show as percent, the voltage
    // thresholds (voltage scale register 244) as volts.
    o.units = bacnet_units(p.unit);
    o.scale = register_scale(p);
    switch (p.write) {
        case WriteKind::Setting: {
            o.action = MeterAction::Setting;
            const SettingDef* def = find_setting(points::setting_key(p, 1));
            if (!def) throw std::logic_error("no setting for catalogue point " + p.id);
            o.min_value = static_cast<float>(static_cast<double>(def->min) * o.scale);
            o.max_value = static_cast<float>(static_cast<double>(def->max) * o.scale);
            break;
        }
        case WriteKind::LatchClear:
            o.action = MeterAction::LatchClear;
            o.min_value = 0.0F;
            o.max_value = 65535.0F;
            break;
        case WriteKind::PowerUpCounter:
            o.action = MeterAction::PowerUpCounter;
            o.min_value = 0.0F;
            o.max_value = 32767.0F;
            break;
        case WriteKind::Rtc: {
            o.action = MeterAction::Rtc;
            static constexpr float lo[] = {2000, 1, 1, 0, 0, 0};
            static constexpr float hi[] = {2099, 12, 31, 23, 59, 59};
            o.min_value = lo[p.ref.index % 6];
            o.max_value = hi[p.ref.index % 6];
            break;
        }
        default:
            throw std::logic_error("catalogue point " + p.id + " is writable but has no action");
    }
    return o;
}

MeterObject analog_output(const Point& p, uint32_t instance) {
    MeterObject o;
    o.type = ObjectType::AnalogOutput;
    o.instance = instance;
    o.point = &p;
    o.name = capitalised(p.name);
    o.description = description_of(p);
    o.units = units::kNoUnits;
    o.action = MeterAction::Reset;
    o.min_value = 0.0F;
    o.max_value = 65535.0F;
    o.channel = p.channel;
    o.reg = p.integer.reg;
    return o;
}

// Object names must be unique within a device: a catalogue name shared by
// two points gets the point id appended.
void make_names_unique(std::vector<MeterObject>& objects) {
    std::map<std::string, int> count;
    for (const auto& o : objects)
        ++count[o.name];
    for (auto& o : objects) {
        if (count[o.name] > 1 && o.point) o.name += " (" + o.point->id + ")";
    }
    std::set<std::string> seen;
    for (const auto& o : objects) {
        if (!seen.insert(o.name).second) throw std::logic_error("duplicate object name " + o.name);
    }
}

std::vector<MeterObject> build_panel_table() {
    const auto& points = points::Catalogue::instance().points();
    std::vector<MeterObject> out;
    uint32_t ai = 0;
    for (const Point& p : points) {
        if (is_measurement(p)) out.push_back(analog_input(p, ++ai));
    }
    // The point map's writable registers in register order, then our
    // extensions (registers the BCPMSC map does not have) in register order.
    std::vector<const Point*> map_settings, extensions;
    for (const Point& p : points) {
        if (!is_setting_register(p)) continue;
        (p.integer.map_name.empty() ? extensions : map_settings).push_back(&p);
    }
    const auto by_register = [](const Point* a, const Point* b) {
        return a->integer.reg < b->integer.reg;
    };
    std::stable_sort(map_settings.begin(), map_settings.end(), by_register);
    std::stable_sort(extensions.begin(), extensions.end(), by_register);
    uint32_t av = 0;
    for (const Point* p : map_settings)
        out.push_back(analog_value(*p, ++av));
    for (const Point* p : extensions)
        out.push_back(analog_value(*p, ++av));
    uint32_t ao = 0;
    for (const Point& p : points) {
        if (is_command(p)) out.push_back(analog_output(p, ++ao));
    }
    make_names_unique(out);
    return out;
}

std::vector<MeterObject> build_router_table() {
    std::vector<MeterObject> out;
    const auto add = [&](uint32_t instance, const char* key, const char* name,
                         const char* description) {
        const SettingDef* def = find_setting(key);
        if (!def) throw std::logic_error(std::string("no setting ") + key);
        MeterObject o;
        o.type = ObjectType::AnalogValue;
        o.instance = instance;
        o.setting_key = key;
        o.name = name;
        o.description = description;
        o.action = MeterAction::Setting;
        o.min_value = static_cast<float>(def->min);
        o.max_value = static_cast<float>(def->max);
        out.push_back(std::move(o));
    };
    add(1, "gateway.device_id_offset", "DeviceID_Offset",
        "Default BACnet Device IDs: router = offset, panel = offset + Modbus address "
        "(takes effect at restart)");
    add(2, "gateway.virt_router_net", "Virt_Router_Net",
        "Network number of the virtual router, 1..65534, other values give 5 "
        "(takes effect at restart)");
    return out;
}

}  // namespace

const std::vector<MeterObject>& panel_object_table() {
    static const std::vector<MeterObject> table = build_panel_table();
    return table;
}

std::vector<const MeterObject*> panel_objects(const ModelInfo& model) {
    std::vector<const MeterObject*> out;
    for (const MeterObject& o : panel_object_table()) {
        if (o.channel == 0 || model.has_channel(o.channel)) out.push_back(&o);
    }
    return out;
}

const std::vector<MeterObject>& router_object_table() {
    static const std::vector<MeterObject> table = build_router_table();
    return table;
}

const std::vector<MeterClass>& panel_classes() {
    static const std::vector<MeterClass> classes{
        {kCurrentEventClass, "Current events",
         "Latching over-threshold events of the branch and aux channels (high-high, high: "
         "high limit; low, low-low, OFF: low limit)"},
        {kVoltageEventClass, "Voltage events",
         "Latching over- and under-voltage events of the L-L voltages"},
    };
    return classes;
}

uint32_t bacnet_units(points::Unit u) {
    switch (u) {
        case Unit::Amps:
            return units::kAmperes;
        case Unit::Kilowatts:
            return units::kKilowatts;
        case Unit::KilovoltAmps:
            return units::kKilovoltAmperes;
        case Unit::KilowattHours:
            return units::kKilowattHours;
        case Unit::Volts:
            return units::kVolts;
        case Unit::Hertz:
            return units::kHertz;
        case Unit::Degrees:
            return units::kDegreesPhase;
        case Unit::PowerFactor:
            return units::kPowerFactor;
        case Unit::PercentTenths:
            return units::kPercent;  // the objects present these in percent
        case Unit::Seconds:
            return units::kSeconds;
        case Unit::None:
        case Unit::Count:
        case Unit::Bits:
        case Unit::Text:
        case Unit::Exponent:
            return units::kNoUnits;
    }
    return units::kNoUnits;
}

std::string units_name(uint32_t u) {
    switch (u) {
        case units::kAmperes:
            return "amperes";
        case units::kVolts:
            return "volts";
        case units::kKilovoltAmperes:
            return "kilovolt-amperes";
        case units::kPowerFactor:
            return "power-factor";
        case units::kKilowattHours:
            return "kilowatt-hours";
        case units::kHertz:
            return "hertz";
        case units::kKilowatts:
            return "kilowatts";
        case units::kSeconds:
            return "seconds";
        case units::kDegreesPhase:
            return "degrees-phase";
        case units::kPercent:
            return "percent";
        case units::kNoUnits:
            return "no-units";
        default:
            return "units-" + std::to_string(u);
    }
}

std::string object_type_name(ObjectType t) {
    switch (t) {
        case ObjectType::AnalogInput:
            return "Analog Input";
        case ObjectType::AnalogOutput:
            return "Analog Output";
        case ObjectType::AnalogValue:
            return "Analog Value";
        case ObjectType::Device:
            return "Device";
        case ObjectType::NotificationClass:
            return "Notification Class";
        default:
            return "Object type " + std::to_string(static_cast<int>(t));
    }
}

std::string object_type_abbreviation(ObjectType t) {
    switch (t) {
        case ObjectType::AnalogInput:
            return "AI";
        case ObjectType::AnalogOutput:
            return "AO";
        case ObjectType::AnalogValue:
            return "AV";
        case ObjectType::Device:
            return "DEV";
        case ObjectType::NotificationClass:
            return "NC";
        default:
            return "OBJ" + std::to_string(static_cast<int>(t));
    }
}

}  // namespace openbcpm::bacnet
