#include "protocols/bacnet/meter_objects.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
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

ObjectType object_type(points::ObjectKind k) {
    switch (k) {
        case points::ObjectKind::AnalogInput:
            return ObjectType::AnalogInput;
        case points::ObjectKind::AnalogValue:
            return ObjectType::AnalogValue;
        case points::ObjectKind::AnalogOutput:
            return ObjectType::AnalogOutput;
        case points::ObjectKind::None:
            break;
    }
    throw std::logic_error("BACnet: no object type");
}

// The objects of the points a device presents, at their pinned instances, in
// Object_List order (AIs, AVs, AOs, each by instance). `presented` says which
// object type the face makes of a point (None: the point is not presented).
std::vector<MeterObject> objects_at_pins(
    const std::vector<Point>& points,
    const std::function<points::ObjectKind(const Point&)>& presented,
    const std::function<MeterObject(const Point&, uint32_t)>& make) {
    std::vector<MeterObject> out;
    std::map<std::pair<ObjectType, uint32_t>, const Point*> owner;
    for (const Point& p : points) {
        const points::ObjectKind kind = presented(p);
        if (kind == points::ObjectKind::None) {
            if (p.bacnet.pinned())
                throw std::logic_error("BACnet: point " + p.id + " is pinned to " +
                                       object_type_abbreviation(object_type(p.bacnet.type)) +
                                       std::to_string(p.bacnet.instance) +
                                       " but BACnet does not present it");
            continue;
        }
        if (!p.bacnet.pinned())
            throw std::logic_error("BACnet: point " + p.id + " is presented as an " +
                                   object_type_abbreviation(object_type(kind)) +
                                   " but has no pinned instance (src/points/catalogue.cpp)");
        if (p.bacnet.type != kind)
            throw std::logic_error("BACnet: point " + p.id + " is pinned as an " +
                                   object_type_abbreviation(object_type(p.bacnet.type)) +
                                   " but presented as an " +
                                   object_type_abbreviation(object_type(kind)));
        if (p.bacnet.instance == 0 || p.bacnet.instance >= kMaxInstance)
            throw std::logic_error("BACnet: point " + p.id + " is pinned to instance " +
                                   std::to_string(p.bacnet.instance) + ", not 1..4194302");
        const ObjectType type = object_type(kind);
        const auto [it, added] = owner.emplace(std::pair{type, p.bacnet.instance}, &p);
        if (!added)
            throw std::logic_error("BACnet: points " + it->second->id + " and " + p.id +
                                   " are both pinned to " + object_type_abbreviation(type) +
                                   std::to_string(p.bacnet.instance));
        out.push_back(make(p, p.bacnet.instance));
    }
    const auto rank = [](ObjectType t) {
        return t == ObjectType::AnalogInput ? 0 : t == ObjectType::AnalogValue ? 1 : 2;
    };
    std::stable_sort(out.begin(), out.end(), [&](const MeterObject& a, const MeterObject& b) {
        return std::pair{rank(a.type), a.instance} < std::pair{rank(b.type), b.instance};
    });
    return out;
}

// What a panel device makes of a point: measurements are AIs, setting
// registers AVs, reset commands AOs.
points::ObjectKind panel_presentation(const Point& p) {
    if (is_measurement(p)) return points::ObjectKind::AnalogInput;
    if (is_setting_register(p)) return points::ObjectKind::AnalogValue;
    if (is_command(p)) return points::ObjectKind::AnalogOutput;
    return points::ObjectKind::None;
}

MeterObject panel_object(const Point& p, uint32_t instance) {
    switch (panel_presentation(p)) {
        case points::ObjectKind::AnalogInput:
            return analog_input(p, instance);
        case points::ObjectKind::AnalogValue:
            return analog_value(p, instance);
        default:
            return analog_output(p, instance);
    }
}

const char* gateway_description(const std::string& id) {
    if (id == "gateway.device_id_offset")
        return "Default BACnet Device IDs: router = offset, panel = offset + Modbus address "
               "(takes effect at restart)";
    if (id == "gateway.virt_router_net")
        return "Network number of the virtual router, 1..65534, other values give 5 "
               "(takes effect at restart)";
    return "";
}

MeterObject router_object(const Point& p, uint32_t instance) {
    const SettingDef* def = find_setting(p.setting_key);
    if (!def) throw std::logic_error("no setting " + p.setting_key);
    MeterObject o;
    o.type = ObjectType::AnalogValue;
    o.instance = instance;
    o.point = &p;
    o.setting_key = p.setting_key;
    o.name = p.name;
    o.description = gateway_description(p.id);
    o.action = MeterAction::Setting;
    o.min_value = static_cast<float>(def->min);
    o.max_value = static_cast<float>(def->max);
    return o;
}

}  // namespace

std::vector<MeterObject> build_panel_objects(const std::vector<points::Point>& points) {
    std::vector<MeterObject> out = objects_at_pins(points, panel_presentation, panel_object);
    make_names_unique(out);
    return out;
}

std::vector<MeterObject> build_router_objects(const std::vector<points::Point>& gateway) {
    // The router device presents every gateway point that is a setting.
    return objects_at_pins(
        gateway,
        [](const Point& p) {
            return p.write == WriteKind::Setting ? points::ObjectKind::AnalogValue
                                                 : points::ObjectKind::None;
        },
        router_object);
}

const std::vector<MeterObject>& panel_object_table() {
    static const std::vector<MeterObject> table =
        build_panel_objects(points::Catalogue::instance().points());
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
    static const std::vector<MeterObject> table =
        build_router_objects(points::Catalogue::instance().gateway_points());
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

// The one unit table (points/units.hpp) has the codes and their names.
uint32_t bacnet_units(points::Unit u) {
    return points::unit_info(u).bacnet;
}

std::string units_name(uint32_t u) {
    return points::bacnet_units_name(u);
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
