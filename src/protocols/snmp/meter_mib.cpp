#include "protocols/snmp/meter_mib.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "core/settings.hpp"

namespace openbcpm::snmp::meter {

namespace {

using points::Point;
using points::Q;

// ------------------------------------------------------------------ where points go

// The branches of a panel's subtree; which object sits where in them is
// pinned point by point in the catalogue (Point::snmp).
using Group = points::MibGroup;

struct GroupDef {
    Group group;
    std::vector<uint32_t> path;  // arcs under the panel node
    uint32_t rows;               // 0 for a group of scalars
    const char* name;            // node name, or the table's stem ("Branch" -> p1BranchTable)
    const char* description;
    const char* row_description;  // tables: what one row is
};

constexpr const char* kEventBits =
    " Bits (0 = least significant): 0 high-high, 1 high, 2 low, 3 low-low latched, 4 OFF state "
    "declared; 8 non-latching high, 9 non-latching low active. Writing a value with 0 in a "
    "latched bit clears that latch; 1 bits and non-latching bits are left as they are.";

const std::vector<GroupDef>& group_defs() {
    static const std::vector<GroupDef> defs = {
        {Group::EventStatus,
         {arcs::kAlarms, 1},
         0,
         "EventStatus",
         "The panel's global over-threshold event status.",
         nullptr},
        {Group::EventCounters,
         {arcs::kAlarms, 2},
         0,
         "EventCounters",
         "The panel's global latching event counters and its power-up counter.",
         nullptr},
        {Group::ChannelEvents,
         {arcs::kAlarms, 3},
         kChannelsPerPanel,
         "ChannelEvent",
         "Event status and latching event counters of each channel (rows 1..42 branch "
         "channels, 43..46 aux inputs 1..4).",
         "The events of one channel."},
        {Group::VoltageEvents,
         {arcs::kAlarms, 4},
         3,
         "VoltageEvent",
         "Event status of the line-to-line voltages (rows 1 A-B, 2 B-C, 3 C-A).",
         "The events of one line-to-line voltage."},
        {Group::VoltageSummary,
         {arcs::kVoltageInputs, 1},
         0,
         "VoltageSummary",
         "Frequency and average voltages.",
         nullptr},
        {Group::VoltagePhases,
         {arcs::kVoltageInputs, 2},
         3,
         "VoltagePhase",
         "Voltages by phase (rows 1 A, 2 B, 3 C; line-to-line A-B, B-C, C-A).",
         "The voltages of one phase."},
        {Group::Mains,
         {arcs::kAuxInputs, 1},
         0,
         "Mains",
         "The aux inputs 1..3 as a three-phase mains meter.",
         nullptr},
        {Group::Aux,
         {arcs::kAuxInputs, 2},
         kChannelsPerPanel - kMaxBranchChannels,
         "Aux",
         "Measurements of the aux inputs 1..4 (aux 4, the neutral, has a current but no power).",
         "One aux input."},
        {Group::Branch,
         {arcs::kBranchInputs, 1},
         kMaxBranchChannels,
         "Branch",
         "Measurements of the branch channels 1..42.",
         "One branch channel."},
        {Group::Flex,
         {arcs::kFlexCircuits, 1},
         kLogicalCircuits,
         "Flex",
         "Flex (logical) circuits 1..46: channels grouped by their logical circuit setting "
         "into circuits of one to three adjacent channels.",
         "One flex circuit."},
        {Group::Product,
         {arcs::kConfiguration, 1},
         0,
         "Product",
         "Identity of the meter.",
         nullptr},
        {Group::Commands,
         {arcs::kConfiguration, 2},
         0,
         "Commands",
         "Panel-wide reset commands.",
         nullptr},
        {Group::Setup, {arcs::kConfiguration, 3}, 0, "Setup", "The panel's setup.", nullptr},
        {Group::ChannelConfig,
         {arcs::kConfiguration, 4},
         kChannelsPerPanel,
         "ChannelConfig",
         "Settings of each channel (rows 1..42 branch channels, 43..46 aux inputs 1..4).",
         "The settings of one channel."},
        {Group::EventConfig,
         {arcs::kConfiguration, 5},
         0,
         "EventConfig",
         "Delays and thresholds of the over-threshold events.",
         nullptr},
        {Group::Clock,
         {arcs::kConfiguration, 6},
         0,
         "Clock",
         "The real-time clock (UTC). Set through BACnet time synchronization or Modbus, as "
         "RTC_Control says; read-only here.",
         nullptr},
    };
    return defs;
}

const GroupDef& group_def(Group g) {
    for (const GroupDef& d : group_defs())
        if (d.group == g) return d;
    throw std::logic_error("SNMP MIB group without definition");
}

// What an object's DESCRIPTION adds to the point's name, by descriptor.
const char* note_of(const std::string& descriptor) {
    static const std::map<std::string, const char*> notes = {
        {"GlobalLatchingStatus",
         " Bits: 0 high-high, 1 high, 2 low, 3 low-low, 4 OFF state on some channel; 8 high "
         "voltage, 9 low voltage (latched)."},
        {"GlobalNonLatchingStatus",
         " Bits: 0 high, 1 low current on some channel; 8 high voltage, 9 low voltage."},
        {"DeviceHealth",
         " Bits: 1 frequency out of range, 2..4 voltage clipping on phase A..C, 5 current "
         "clipping, 8 strip connection error, 15 branch power model."},
        {"ChannelEventStatus", kEventBits},
        {"PowerUpCount", " Writable (0..32767)."},
        {"VoltageEventStatus",
         " Bits: 0 high, 1 low latched; 8 high, 9 low non-latching. Writing 0 to a latched bit "
         "clears it."},
        {"VoltsLineNeutral", " Line-to-neutral voltage of the row's phase."},
        {"VoltsLineLine",
         " Line-to-line voltage from the row's phase to the next (A-B, B-C, C-A)."},
        {"VoltsAngle", " Phase angle of the row's voltage against phase A."},
        {"AuxKwh",
         " The mains by phase: rows 1..3 add up to the panel's MainsKwh; row 4, the neutral, "
         "has no power."},
        {"AuxKwhSnapshot",
         " The mains by phase: rows 1..3 add up to the panel's MainsKwhSnapshot; row 4, the "
         "neutral, has no power."},
        {"AuxKwDemand",
         " The mains by phase: rows 1..3 add up to the panel's MainsKwDemand; row 4, the "
         "neutral, has no power."},
        {"AuxMaxKwDemand",
         " Each phase's own maximum (the panel's MainsMaxKwDemand is the maximum of the total); "
         "rows 1..3 only: row 4, the neutral, has no power."},
        {"UserDefinedSettings",
         " Bits: 0 user-defined CT to voltage phase assignment, 1 current angles against the "
         "channel's own phase, 2 demand interval from the RTC, 3 legacy multi-phase Modbus "
         "map."},
    };
    const auto it = notes.find(descriptor);
    return it == notes.end() ? nullptr : it->second;
}

bool starts_with(const std::string& s, std::string_view prefix) {
    return s.rfind(prefix, 0) == 0;
}

bool is_legacy(const Point& p) {
    return starts_with(p.id, "2ph") || starts_with(p.id, "3ph");
}

// ------------------------------------------------------------------ how values are carried

// The MIB's UNITS text, from the one unit table (points/units.hpp).
std::string units_of(points::Unit u) {
    return std::string(points::unit_info(u).snmp);
}

const std::vector<std::pair<std::string, int32_t>>& reset_codes(points::ResetScope scope) {
    using namespace points::reset_codes;
    static const std::vector<std::pair<std::string, int32_t>> global = {
        {"none", 0},
        {"clearEnergy", kClearEnergy},
        {"clearMaxDemand", kClearMaxDemand},
        {"beginNewSubinterval", kNewSubinterval},
        {"resetDemand", kResetDemand},
        {"clearMaxima", kClearMaxima},
        {"clearLatches", kClearLatches},
    };
    static const std::vector<std::pair<std::string, int32_t>> local = {
        {"none", 0}, {"clearEnergy", kClearEnergy}, {"clearMaxima", kClearMaxima}};
    return scope == points::ResetScope::Global ? global : local;
}

// The representation of a point, from its unit and how it is written.
void represent(MibObject& o, const Point& p) {
    using points::Unit;
    using points::WriteKind;
    o.units = units_of(p.unit);
    switch (p.write) {
        case WriteKind::Setting: {
            o.write = WriteAs::Setting;
            const SettingDef* def = find_setting(points::setting_key(p, o.panel));
            if (!def) throw std::logic_error("SNMP MIB: no setting for " + p.id);
            if (def->is_string) {
                o.repr = Representation::Text;
                o.min = 0;
                o.max = def->max;
            } else {
                o.repr = Representation::Integer;
                o.decimals = p.unit == Unit::PercentTenths ? 1 : 0;
                o.min = def->min;
                o.max = def->max;
            }
            return;
        }
        case WriteKind::LatchClear:
            o.write = WriteAs::LatchClear;
            o.repr = Representation::Integer;
            o.min = 0;
            o.max = 65535;
            return;
        case WriteKind::Reset:
            o.write = WriteAs::Reset;
            o.repr = Representation::Enumerated;
            o.enumeration = reset_codes(p.reset_scope);
            return;
        case WriteKind::PowerUpCounter:
            o.write = WriteAs::PowerUpCounter;
            o.repr = Representation::Integer;
            o.min = 0;
            o.max = 32767;
            return;
        case WriteKind::Rtc:  // the clock is set through BACnet or Modbus only
        case WriteKind::None:
            break;
    }
    switch (p.unit) {
        case Unit::Amps:
        case Unit::Kilowatts:
        case Unit::KilovoltAmps:
        case Unit::PowerFactor:
            o.repr = Representation::Integer;
            o.decimals = 3;
            break;
        case Unit::KilowattHours:
            o.repr = Representation::Energy;
            o.decimals = 3;
            break;
        case Unit::Volts:
        case Unit::Degrees:
            o.repr = Representation::Integer;
            o.decimals = 1;
            break;
        case Unit::Hertz:
            o.repr = Representation::Integer;
            o.decimals = 2;
            break;
        case Unit::Seconds:
        case Unit::PercentTenths:
        case Unit::Exponent:
            o.repr = Representation::Integer;
            o.decimals = p.unit == Unit::PercentTenths ? 1 : 0;
            break;
        case Unit::Text:
            o.repr = Representation::Text;
            o.min = 0;
            o.max = 255;
            break;
        case Unit::None:
        case Unit::Count:
        case Unit::Bits:
            o.repr = Representation::Unsigned;
            break;
    }
}

// "channel 5 max current" -> "max current"; "Logical circuit 3 energy" -> "energy".
std::string row_text(const std::string& name) {
    for (std::string_view prefix : {"channel ", "aux ", "Logical circuit "}) {
        if (name.rfind(prefix, 0) != 0) continue;
        size_t i = prefix.size();
        while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])))
            ++i;
        if (i > prefix.size() && i < name.size() && name[i] == ' ') return name.substr(i + 1);
    }
    return name;
}

// "ch5.kw" -> "chN.kw", "lc12.by_circuit.channel1" -> "lcN.by_circuit.channel1"
std::string id_template(const std::string& id) {
    size_t i = 0;
    while (i < id.size() && std::isalpha(static_cast<unsigned char>(id[i])))
        ++i;
    size_t j = i;
    while (j < id.size() && std::isdigit(static_cast<unsigned char>(id[j])))
        ++j;
    if (j == i || j >= id.size() || id[j] != '.' ||
        (id.compare(0, i, "ch") && id.compare(0, i, "lc")))
        return id;
    return id.substr(0, i) + "N" + id.substr(j);
}

std::string sentence(std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    if (!s.empty() && s.back() != '.') s += '.';
    return s;
}

std::string describe(const MibObject& o, const Point& p, bool column) {
    std::string d;
    if (o.write == WriteAs::Setting) {
        const SettingDef* def = find_setting(points::setting_key(p, o.panel));
        d = sentence(def ? def->description : p.name);
        d += " A setting: checked like every other write of it and kept in non-volatile storage; "
             "the settings of one request are applied all or none.";
    } else if (column) {
        d = sentence("The " + row_text(p.name) + " of the row");
    } else {
        d = sentence(p.name);
    }
    if (const char* note = note_of(p.snmp.descriptor)) d += note;
    if (o.write == WriteAs::Reset)
        d += " Reads none(0); writing a command carries it out for the row's channels.";
    if (p.nv) d += " Non-volatile.";
    d += " Point " + id_template(p.id);
    if (p.integer.reg) {
        d += ", Modbus register " + std::to_string(p.integer.reg);
        if (column) d += " for row 1";
    }
    d += ".";
    return d;
}

Oid child_of(const Oid& base, const std::vector<uint32_t>& path) {
    Oid o = base;
    for (uint32_t a : path)
        o.push_back(a);
    return o;
}

std::string prefix(int panel) {
    return "p" + std::to_string(panel);
}

}  // namespace

Oid panel_oid(int panel) {
    return oids::kPanels.child(static_cast<uint32_t>(panel));
}

Exclusion MeterMib::exclusion(const points::Point& p) {
    if (p.unit == points::Unit::Exponent) return Exclusion::Scale;
    if (p.ref.q == Q::Reserved) return Exclusion::Reserved;
    if (is_legacy(p)) return Exclusion::LegacyMeter;
    if (p.ref.q == Q::GrNumber) return Exclusion::Duplicate;
    if (p.id.find(".by_circuit.") != std::string::npos && p.ref.q != Q::GrMemberChannel)
        return Exclusion::Duplicate;
    return Exclusion::None;
}

int32_t fixed_point(double value, int decimals) {
    const double scaled = std::round(value * std::pow(10.0, decimals));
    if (!std::isfinite(scaled)) return 0;
    return static_cast<int32_t>(std::clamp(scaled, -2147483648.0, 2147483647.0));
}

namespace {
const std::vector<std::pair<std::string, int32_t>>& level_names() {
    static const std::vector<std::pair<std::string, int32_t>> names = {
        {"highHigh", 1},
        {"high", 2},
        {"low", 3},
        {"lowLow", 4},
        {"offState", 5},
        {"nonLatchingHigh", 6},
        {"nonLatchingLow", 7},
        {"voltageHigh", 8},
        {"voltageLow", 9},
        {"voltageHighNonLatching", 10},
        {"voltageLowNonLatching", 11},
    };
    return names;
}
}  // namespace

int32_t event_level(int channel, uint16_t bit) {
    const bool voltage = channel > kChannelsPerPanel;
    switch (bit) {
        case event_bits::kHighHigh:  // = kVoltageHighLatching
            return voltage ? 8 : 1;
        case event_bits::kHigh:  // = kVoltageLowLatching
            return voltage ? 9 : 2;
        case event_bits::kLow:
            return voltage ? 0 : 3;
        case event_bits::kLowLow:
            return voltage ? 0 : 4;
        case event_bits::kOff:
            return voltage ? 0 : 5;
        case event_bits::kNonLatchingHigh:
            return voltage ? 10 : 6;
        case event_bits::kNonLatchingLow:
            return voltage ? 11 : 7;
        default:
            return 0;
    }
}

MeterMib::MeterMib(const std::vector<points::Point>& points) {
    nodes_.push_back({"panels", oids::kPanels, "The panels the meter monitors."});
    for (int panel = 1; panel <= kPanels; ++panel) {
        const std::string pp = prefix(panel);
        const Oid base = panel_oid(panel);
        const std::string ps = "panel " + std::to_string(panel);
        nodes_.push_back({"panel" + std::to_string(panel), base,
                          "Panel " + std::to_string(panel) +
                              ": its current sensor strips, aux inputs and the shared voltage "
                              "taps (Modbus address " +
                              std::to_string(panel) + " by default)."});
        nodes_.push_back({pp + "Alarms", base.child(arcs::kAlarms),
                          "Over-threshold events of " + ps +
                              ": notifications, global status and counters, status by channel."});
        nodes_.push_back({pp + "Notifications",
                          base.child(arcs::kAlarms).child(arcs::kNotifications),
                          "Notifications of " + ps + "'s over-threshold events."});
        nodes_.push_back({pp + "EventObjects", base.child(arcs::kAlarms).child(arcs::kEventObjects),
                          "Objects that only the notifications of " + ps + " carry."});
        nodes_.push_back({pp + "VoltageInputs", base.child(arcs::kVoltageInputs),
                          "Voltage inputs (shared by both panels), as " + ps + " reports them."});
        nodes_.push_back(
            {pp + "AuxInputs", base.child(arcs::kAuxInputs), "Aux inputs of " + ps + "."});
        nodes_.push_back({pp + "BranchInputs", base.child(arcs::kBranchInputs),
                          "Branch current inputs of " + ps + "."});
        nodes_.push_back({pp + "FlexCircuits", base.child(arcs::kFlexCircuits),
                          "Flex (logical) circuits of " + ps + "."});
        nodes_.push_back({pp + "Configuration", base.child(arcs::kConfiguration),
                          "Identity, commands and every writable setting of " + ps + "."});

        // Each presented point at its pin (Point::snmp), in catalogue order.
        std::map<std::pair<Group, uint32_t>, size_t> by_arc;
        std::map<std::string, const Point*> by_descriptor;  // its first point
        std::map<Group, std::vector<size_t>> group_objects;
        for (const Point& p : points) {
            const points::SnmpPin& at = p.snmp;
            if (exclusion(p) != Exclusion::None) {
                if (at.pinned())
                    throw std::logic_error("SNMP MIB: point " + p.id + " is pinned to " + pp +
                                           at.descriptor +
                                           " but the MIB leaves it out (MeterMib::exclusion)");
                continue;
            }
            if (!at.pinned())
                throw std::logic_error("SNMP MIB: point " + p.id +
                                       " has no pinned OID (group, arc, row and descriptor in "
                                       "src/points/catalogue.cpp)");
            const GroupDef& g = group_def(at.group);
            if (at.arc < (g.rows ? 2U : 1U) || at.descriptor.empty())
                throw std::logic_error("SNMP MIB: point " + p.id + " has an invalid pin");
            const auto [named, first_name] = by_descriptor.emplace(at.descriptor, &p);
            if (!first_name &&
                (named->second->snmp.group != at.group || named->second->snmp.arc != at.arc))
                throw std::logic_error("SNMP MIB: points " + named->second->id + " and " + p.id +
                                       " give " + pp + at.descriptor + " two places");
            auto it = by_arc.find({at.group, at.arc});
            if (it == by_arc.end()) {
                MibObject o;
                o.panel = panel;
                o.column = g.rows != 0;
                o.name = pp + at.descriptor;
                const Oid group_oid = child_of(base, g.path);
                o.oid = g.rows ? group_oid.child(1).child(at.arc) : group_oid.child(at.arc);
                represent(o, p);
                o.description = describe(o, p, o.column);
                o.rows.assign(g.rows ? g.rows : 1, nullptr);
                objects_.push_back(std::move(o));
                it = by_arc.emplace(std::pair{at.group, at.arc}, objects_.size() - 1).first;
                group_objects[at.group].push_back(objects_.size() - 1);
            }
            MibObject& o = objects_[it->second];
            if (o.name != pp + at.descriptor)
                throw std::logic_error("SNMP MIB: point " + p.id + " is pinned to the arc of " +
                                       o.name + " under another name, " + at.descriptor);
            if (g.rows ? at.row < 1 || at.row > g.rows : at.row != 0)
                throw std::logic_error("SNMP MIB: point " + p.id + " is pinned to row " +
                                       std::to_string(at.row) + " of " + o.name);
            const Point*& cell = o.rows[g.rows ? at.row - 1 : 0];
            if (cell)
                throw std::logic_error("SNMP MIB: points " + cell->id + " and " + p.id +
                                       " are both pinned to " + o.name +
                                       (g.rows ? "." + std::to_string(at.row) : ".0"));
            cell = &p;
        }
        for (const GroupDef& g : group_defs()) {
            auto members = group_objects.find(g.group);
            if (members == group_objects.end()) continue;
            const Oid group_oid = child_of(base, g.path);
            if (g.rows == 0) {
                nodes_.push_back({pp + g.name, group_oid, g.description});
                continue;
            }
            MibTable t;
            t.name = pp + g.name + "Table";
            t.entry = pp + g.name + "Entry";
            t.index = pp + g.name + "Index";
            t.oid = group_oid;
            t.panel = panel;
            t.rows = g.rows;
            t.description = std::string(g.description) +
                            " A cell is absent (noSuchInstance) while the model has no such "
                            "channel or the circuit does not exist.";
            t.row_description = g.row_description;
            t.columns = members->second;
            std::sort(t.columns.begin(), t.columns.end(),
                      [&](size_t a, size_t b) { return objects_[a].oid < objects_[b].oid; });
            tables_.push_back(std::move(t));
        }

        // The objects the notifications carry, and the notifications.
        const Oid objects = base.child(arcs::kAlarms).child(arcs::kEventObjects);
        auto notify_object = [&](const std::string& name, uint32_t arc, Representation repr,
                                 int decimals, std::string units, std::string description) {
            MibObject o;
            o.name = pp + name;
            o.oid = objects.child(arc);
            o.panel = panel;
            o.notify_only = true;
            o.repr = repr;
            o.decimals = decimals;
            o.units = std::move(units);
            o.description = std::move(description);
            return o;
        };
        MibObject channel =
            notify_object("EventChannel", 1, Representation::Unsigned, 0, "",
                          "The channel of the event: 1..42 branch channels, 43..46 aux inputs "
                          "1..4, 47..49 the line-to-line voltages A-B, B-C, C-A.");
        channel.min = 1;
        channel.max = kChannelsPerPanel + 3;
        objects_.push_back(std::move(channel));
        MibObject level = notify_object("EventLevel", 2, Representation::Enumerated, 0, "",
                                        "The level whose status changed.");
        level.enumeration = level_names();
        objects_.push_back(std::move(level));
        objects_.push_back(notify_object(
            "EventValue", 3, Representation::Integer, 3, "A or V",
            "The channel's current (A), or the line-to-line voltage (V), when the status "
            "changed."));
        objects_.push_back(notify_object(
            "EventThreshold", 4, Representation::Integer, 3, "A or V",
            "The threshold of the level in A (or V for the voltages); 0 for a cleared latch."));
        const std::vector<std::string> carried = {pp + "EventChannel", pp + "EventLevel",
                                                  pp + "EventValue", pp + "EventThreshold"};
        const Oid notifications = base.child(arcs::kAlarms).child(arcs::kNotifications);
        const std::string tail =
            " The bindings after sysUpTime.0 and snmpTrapOID.0 are the objects listed, then the "
            "channel's present status (" +
            pp + "ChannelEventStatus, or " + pp +
            "VoltageEventStatus for the voltages). Sent in the trap community to the "
            "notification receiver (SNMP_Notif_IP).";
        notifications_.push_back(
            {pp + "EventLatched", notifications.child(1), panel, EventKind::Latched, carried,
             "A latching level (or the OFF state) latched on a channel of " + ps + "." + tail});
        notifications_.push_back(
            {pp + "EventLatchCleared", notifications.child(2), panel, EventKind::LatchCleared,
             carried, "A latched level of " + ps + " was cleared by a write or a reset." + tail});
        notifications_.push_back({pp + "NonLatchingEventActive", notifications.child(3), panel,
                                  EventKind::NonLatchingOn, carried,
                                  "A non-latching level became active on " + ps + "." + tail});
        notifications_.push_back({pp + "NonLatchingEventInactive", notifications.child(4), panel,
                                  EventKind::NonLatchingOff, carried,
                                  "A non-latching level of " + ps + " became inactive." + tail});
    }
    nodes_.push_back({"bcpmeConformance", oids::kConformance, "Conformance of this module."});
    nodes_.push_back({"bcpmeCompliances", oids::kConformance.child(1), "Compliance statements."});
    nodes_.push_back(
        {"bcpmeGroups", oids::kConformance.child(2), "Object and notification groups."});
}

const MeterMib& MeterMib::instance() {
    static const MeterMib mib(points::Catalogue::instance().points());
    return mib;
}

const MibObject* MeterMib::find(const std::string& name) const {
    for (const MibObject& o : objects_)
        if (o.name == name) return &o;
    return nullptr;
}

std::optional<Notification> event_notification(const EventRecord& e, uint16_t present_status) {
    if (e.panel < 1 || e.panel > kPanels) return std::nullopt;
    const int32_t level = event_level(e.channel, e.bit);
    if (level == 0 || e.channel < 1 || e.channel > kChannelsPerPanel + 3) return std::nullopt;
    const MeterMib& mib = MeterMib::instance();
    const MibNotification* n = nullptr;
    for (const MibNotification& candidate : mib.notifications())
        if (candidate.panel == e.panel && candidate.kind == e.kind) n = &candidate;
    if (!n) return std::nullopt;
    const std::string pp = prefix(e.panel);
    auto oid_of = [&](const std::string& name) {
        const MibObject* o = mib.find(pp + name);
        if (!o) throw std::logic_error("SNMP MIB lacks " + pp + name);
        return o->oid;
    };
    Notification out;
    out.trap_oid = n->oid;
    out.varbinds.push_back({oid_of("EventChannel").child(0), Gauge32{e.channel}});
    out.varbinds.push_back({oid_of("EventLevel").child(0), level});
    out.varbinds.push_back({oid_of("EventValue").child(0), fixed_point(e.value, 3)});
    out.varbinds.push_back({oid_of("EventThreshold").child(0), fixed_point(e.threshold, 3)});
    if (e.channel <= kChannelsPerPanel) {
        out.varbinds.push_back(
            {oid_of("ChannelEventStatus").child(e.channel), int32_t{present_status}});
    } else {
        out.varbinds.push_back({oid_of("VoltageEventStatus")
                                    .child(static_cast<uint32_t>(e.channel - kChannelsPerPanel)),
                                int32_t{present_status}});
    }
    return out;
}

}  // namespace openbcpm::snmp::meter
