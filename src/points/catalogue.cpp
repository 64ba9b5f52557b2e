#include "points/catalogue.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <unordered_map>

namespace openbcpm::points {

std::string_view access_name(Access a) {
    switch (a) {
        case Access::Read:
            return "R";
        case Access::ReadWrite:
            return "R/W";
        case Access::Write:
            return "W";
    }
    return "R";
}

std::string setting_key(const Point& p, int panel) {
    if (p.setting_key.rfind("gateway.", 0) == 0) return p.setting_key;
    return "panel." + std::to_string(panel) + "." + p.setting_key;
}

namespace {

bool is_channel_reading(Q q) {
    return (q >= Q::ChCurrent && q <= Q::ChMaxKwDemand) || q == Q::EvStatus;
}
bool is_group_reading(Q q) {
    return q >= Q::GrKw && q <= Q::GrMaxCurrentDemand;
}
bool is_voltage_reading(Q q) {
    return q >= Q::VoltLn && q <= Q::VoltAngle;
}

std::vector<Quantity> read_quantities(QuantityOf of) {
    struct Source {
        std::string_view id_prefix;
        std::string_view name_prefix;
        bool (*reading)(Q);
    };
    const Source src = [of]() -> Source {
        switch (of) {
            case QuantityOf::Channel:
                return {"ch1.", "channel 1 ", is_channel_reading};
            case QuantityOf::Circuit:
                return {"lc1.", "Logical circuit 1 ", is_group_reading};
            case QuantityOf::Mains:
                return {"mains.", "Mains ", is_group_reading};
            case QuantityOf::Voltage:
                break;
        }
        return {"", "", is_voltage_reading};
    }();
    std::vector<Quantity> out;
    for (const Point& p : Catalogue::instance().points()) {
        if (!src.reading(p.ref.q) || p.id.rfind(src.id_prefix, 0) != 0) continue;
        Quantity q;
        q.key = p.id.substr(src.id_prefix.size());
        if (q.key.find('.') != std::string::npos && of != QuantityOf::Voltage) continue;
        if (of == QuantityOf::Voltage) {
            if (q.key.rfind("volts_", 0) == 0) q.key.erase(0, 6);
            const size_t dot = q.key.find('.');  // "a.angle" -> "angle_a"
            if (dot != std::string::npos)
                q.key = q.key.substr(dot + 1) + "_" + q.key.substr(0, dot);
        }
        q.name =
            p.name.rfind(src.name_prefix, 0) == 0 ? p.name.substr(src.name_prefix.size()) : p.name;
        q.unit = p.unit;
        q.ref = p.ref;
        const bool seen =
            std::any_of(out.begin(), out.end(), [&](const Quantity& o) { return o.key == q.key; });
        if (!seen) out.push_back(std::move(q));
    }
    std::stable_sort(out.begin(), out.end(), [](const Quantity& a, const Quantity& b) {
        return std::pair(a.ref.q, a.ref.index) < std::pair(b.ref.q, b.ref.index);
    });
    return out;
}

}  // namespace

const std::vector<Quantity>& quantities(QuantityOf of) {
    static const std::array<std::vector<Quantity>, 4> all{
        read_quantities(QuantityOf::Channel), read_quantities(QuantityOf::Circuit),
        read_quantities(QuantityOf::Mains), read_quantities(QuantityOf::Voltage)};
    return all[static_cast<size_t>(of)];
}

std::string prometheus_name(std::string_view scope, const Quantity& q) {
    const UnitInfo& u = unit_info(q.unit);
    std::string token(u.symbol);  // "kW" -> "kw", the key's word for the unit
    std::transform(token.begin(), token.end(), token.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    std::string name = "bcpm_" + std::string(scope);
    size_t start = 0;
    while (start <= q.key.size()) {
        size_t end = q.key.find('_', start);
        if (end == std::string::npos) end = q.key.size();
        const std::string word = q.key.substr(start, end - start);
        name += '_';
        name += !u.quantity.empty() && word == token ? std::string(u.quantity) : word;
        start = end + 1;
    }
    if (!u.prometheus.empty()) name += "_" + std::string(u.prometheus);
    if (prometheus_counter(q)) name += "_total";
    return name;
}

bool prometheus_counter(const Quantity& q) {
    return q.ref.q == Q::ChKwh || q.ref.q == Q::GrKwh;
}

std::string quantity_label(const Quantity& q) {
    std::string s = q.name;
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

namespace {

std::string s(int n) {
    return std::to_string(n);
}

bool aux(int c) {
    return is_aux_channel(c);
}

// Readable channel names: "channel 5", "aux 2".
std::string channel_name(int c) {
    return aux(c) ? "aux " + s(c - kMaxBranchChannels) : "channel " + s(c);
}

class Builder {
  public:
    explicit Builder(std::vector<Point>& out) : out_(out) {}

    Point& add(std::string id, std::string name, Unit unit, Access access, bool nv, Ref ref) {
        Point p;
        p.id = std::move(id);
        p.name = std::move(name);
        p.unit = unit;
        p.access = access;
        p.nv = nv;
        p.ref = ref;
        out_.push_back(std::move(p));
        return out_.back();
    }

    Point& setting(std::string id, std::string name, Unit unit, std::string key) {
        Point& p =
            add(std::move(id), std::move(name), unit, Access::ReadWrite, true, Ref{Q::Setting});
        p.write = WriteKind::Setting;
        p.setting_key = std::move(key);
        return p;
    }

    Point& reset(std::string id, std::string name, ResetScope scope, int index) {
        Point& p =
            add(std::move(id), std::move(name), Unit::None, Access::Write, false, Ref{Q::Command});
        p.write = WriteKind::Reset;
        p.reset_scope = scope;
        p.reset_index = static_cast<uint8_t>(index);
        return p;
    }

  private:
    std::vector<Point>& out_;
};

ModbusBinding mb(uint16_t reg, Repr repr, std::string map_name, uint16_t scale_reg = 0,
                 int8_t fixed = 0, MapVariant variant = MapVariant::Always) {
    ModbusBinding b;
    b.reg = reg;
    b.repr = repr;
    b.words = repr == Repr::Int32 || repr == Repr::Float32 ? 2 : 1;
    b.scale_reg = scale_reg;
    b.fixed_scale = fixed;
    b.variant = variant;
    b.map_name = std::move(map_name);
    return b;
}

ModbusBinding fl(uint16_t reg, MapVariant variant = MapVariant::Always) {
    return mb(reg, Repr::Float32, "", 0, 0, variant);
}

Ref ch(Q q, int c) {
    return Ref{q, static_cast<uint8_t>(c)};
}
Ref gr(Q q, GroupKind k, int n) {
    Ref r{q, static_cast<uint8_t>(n)};
    r.group = k;
    return r;
}
Ref fixed(int e) {
    Ref r{Q::ScaleFixed};
    r.fixed_scale = static_cast<int8_t>(e);
    return r;
}

// Pins (docs/decisions.md, Pinned identities): each argument is a literal, or a
// literal base plus a channel, meter, circuit or phase number.
BacnetPin pin(ObjectKind type, int instance) {
    return BacnetPin{type, static_cast<uint32_t>(instance)};
}
BacnetPin ai(int instance) {
    return pin(ObjectKind::AnalogInput, instance);
}
BacnetPin av(int instance) {
    return pin(ObjectKind::AnalogValue, instance);
}
BacnetPin ao(int instance) {
    return pin(ObjectKind::AnalogOutput, instance);
}
SnmpPin mib(MibGroup group, int arc, std::string descriptor, int row = 0) {
    return SnmpPin{group, static_cast<uint32_t>(arc), static_cast<uint32_t>(row),
                   std::move(descriptor)};
}
using G = MibGroup;

// Aux input 1..4 of channel 43..46.
int aux_number(int c) {
    return c - kMaxBranchChannels;
}

// Units and default COV increments of the measurement kinds.
struct Kind {
    const char* id;
    const char* name;
    Unit unit;
    double cov;
};
constexpr Kind kCurrent{"current", "current", Unit::Amps, 0.5};
constexpr Kind kKw{"kw", "real power", Unit::Kilowatts, 0.1};
constexpr Kind kKva{"kva", "apparent power", Unit::KilovoltAmps, 0.1};
constexpr Kind kPf{"pf", "power factor", Unit::PowerFactor, 0.05};
constexpr Kind kKwh{"kwh", "energy", Unit::KilowattHours, 1.0};

// ---------------------------------------------------------------- the common section
void common_section(Builder& b) {
    {
        Point& p = b.add("serial_number_msw", "Serial number (high word)", Unit::None, Access::Read,
                         true, Ref{Q::SerialMsw});
        p.integer = mb(1, Repr::Uint16, "Serial Number MSW");
        p.bacnet = ai(1);
        p.snmp = mib(G::Product, 1, "SerialNumberHigh");
    }
    {
        Point& p = b.add("serial_number_lsw", "Serial number (low word)", Unit::None, Access::Read,
                         true, Ref{Q::SerialLsw});
        p.integer = mb(2, Repr::Uint16, "Serial Number LSW");
        p.bacnet = ai(2);
        p.snmp = mib(G::Product, 2, "SerialNumberLow");
    }
    {
        Point& p = b.add("firmware_rs", "Firmware revision RS", Unit::None, Access::Read, true,
                         Ref{Q::FirmwareRs});
        p.integer = mb(3, Repr::Uint16, "Firmware Revision RS");
        p.bacnet = ai(3);
        p.snmp = mib(G::Product, 3, "FirmwareRs");
    }
    {
        Point& p = b.add("firmware_os", "Firmware revision OS", Unit::None, Access::Read, true,
                         Ref{Q::FirmwareOs});
        p.integer = mb(4, Repr::Uint16, "Firmware Revision OS");
        p.bacnet = ai(4);
        p.snmp = mib(G::Product, 4, "FirmwareOs");
    }
    {
        Point& p = b.add("device_id", "Device ID (model)", Unit::None, Access::Read, true,
                         Ref{Q::DeviceId});
        p.integer = mb(5, Repr::Uint16, "Device ID:");
        p.bacnet = ai(5);
        p.snmp = mib(G::Product, 5, "DeviceId");
    }
    {
        Point& p = b.setting("configuration", "Strip configuration", Unit::None, "configuration");
        p.integer = mb(6, Repr::Uint16, "Configuration (bit 0 is LSB):");
        p.bacnet = av(1);
        p.snmp = mib(G::Setup, 1, "StripConfiguration");
    }
    {
        Point& p = b.setting("location", "Location string", Unit::Text, "location");
        p.integer = mb(7, Repr::Text, "Location String");
        p.integer.words = 64;
        p.snmp = mib(G::Setup, 5, "Location");
    }
    {
        Point& p = b.setting("demand_subintervals", "Sub-intervals per demand interval",
                             Unit::Count, "demand_subintervals");
        p.integer = mb(71, Repr::Uint16, "Number of Sub-Intervals per Demand Interval");
        p.bacnet = av(2);
        p.snmp = mib(G::Setup, 2, "DemandSubintervals");
    }
    {
        Point& p = b.setting("subinterval_seconds", "Demand sub-interval length", Unit::Seconds,
                             "subinterval_seconds");
        p.integer = mb(72, Repr::Uint16,
                       "Sub-Interval Length in seconds. For sync-to-comms, set this to 0.");
        p.bacnet = av(3);
        p.snmp = mib(G::Setup, 3, "SubintervalSeconds");
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.setting("ch" + s(c) + ".ct_size", channel_name(c) + " CT size", Unit::Amps,
                             "ct_size." + s(c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(72 + c), Repr::Uint16,
                       aux(c) ? "AUX CT Size" : "Branch CT Size");
        p.bacnet = av(3 + c);
        p.snmp = mib(G::ChannelConfig, 2, "ChannelCtSize", c);
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.setting("ch" + s(c) + ".breaker_size", channel_name(c) + " breaker size",
                             Unit::Amps, "breaker_size." + s(c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(118 + c), Repr::Uint16,
                       aux(c) ? "AUX Breaker Size" : "Branch Breaker Size");
        p.bacnet = av(49 + c);
        p.snmp = mib(G::ChannelConfig, 3, "ChannelBreakerSize", c);
    }
    struct SettingRow {
        uint16_t reg;
        const char* key;
        const char* name;
        Unit unit;
        const char* map_name;
        int8_t scale;
        int av;   // BACnet AV instance
        int arc;  // EventConfig arc
        const char* descriptor;
    };
    const SettingRow timers[] = {
        {165, "hh_delay", "High-high latching delay", Unit::Seconds,
         "High-High Latching Alarm Time Delay", 0, 96, 1, "HighHighDelay"},
        {166, "h_delay", "High latching delay", Unit::Seconds, "High Latching Alarm Time Delay", 0,
         97, 2, "HighDelay"},
        {167, "l_delay", "Low latching delay", Unit::Seconds, "Low Latching Alarm Time Delay", 0,
         98, 3, "LowDelay"},
        {168, "ll_delay", "Low-low latching delay", Unit::Seconds,
         "Low-Low Latching Alarm Time Delay", 0, 99, 4, "LowLowDelay"},
        {169, "on_time", "Latching ON time", Unit::Seconds,
         "Latching Alarm ON Time (when current is above Low-Low alarm & ON Time elapses then ON "
         "state is declared)",
         0, 100, 5, "OnTime"},
        {170, "off_time", "Time until OFF state", Unit::Seconds,
         "Latching Alarms time until OFF state declared (current is below Low-Low alarm and a ON "
         "state was declared)",
         0, 101, 6, "OffTime"},
        {171, "hh_threshold", "High-high latching threshold", Unit::PercentTenths,
         "High-High Latching Alarm Threshold", -1, 102, 7, "HighHighThreshold"},
        {172, "h_threshold", "High latching threshold", Unit::PercentTenths,
         "High Alarm Latching Alarm Threshold", -1, 103, 8, "HighThreshold"},
        {173, "l_threshold", "Low latching threshold", Unit::PercentTenths,
         "Low Alarm Latching Alarm Threshold", -1, 104, 9, "LowThreshold"},
        {174, "ll_threshold", "Low-low latching threshold", Unit::PercentTenths,
         "Low Low Latching Alarm Threshold", -1, 105, 10, "LowLowThreshold"},
        {175, "nl_high_threshold", "Non-latching high threshold", Unit::PercentTenths,
         "Non-Latching High Threshold", -1, 106, 11, "NonLatchingHighThreshold"},
        {176, "nl_low_threshold", "Non-latching low threshold", Unit::PercentTenths,
         "Non-Latching Low Threshold", -1, 107, 12, "NonLatchingLowThreshold"},
        {177, "nl_hysteresis", "Non-latching hysteresis", Unit::PercentTenths,
         "Non-Latching Hysteresis (0-100% percent of setpoint)", -1, 108, 13,
         "NonLatchingHysteresis"},
    };
    for (const SettingRow& r : timers) {
        Point& p = b.setting(r.key, r.name, r.unit, r.key);
        p.integer = mb(r.reg, r.scale ? Repr::Int16 : Repr::Uint16, r.map_name, 0, r.scale);
        p.bacnet = av(r.av);
        p.snmp = mib(G::EventConfig, r.arc, r.descriptor);
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.add("ch" + s(c) + ".event_status", channel_name(c) + " event status",
                         Unit::Bits, Access::ReadWrite, true, ch(Q::EvStatus, c));
        p.write = WriteKind::LatchClear;
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(177 + c), Repr::Uint16,
                       aux(c) ? "AUX Alarm Status" : "Branch Alarm Status");
        p.bacnet = av(108 + c);
        p.snmp = mib(G::ChannelEvents, 2, "ChannelEventStatus", c);
    }
    struct StatusRow {
        const char* id;
        const char* name;
        Unit unit;
        bool nv;
        Q q;
        uint16_t reg;
        const char* map_name;
        int ai;
        int arc;  // EventStatus arc
        const char* descriptor;
    };
    const StatusRow statuses[] = {
        {"global_latching_status", "Global latching event status", Unit::Bits, true,
         Q::EvGlobalLatching, 224, "Global Latching Alarm Status", 6, 1, "GlobalLatchingStatus"},
        {"global_non_latching_status", "Global non-latching event status", Unit::Bits, false,
         Q::EvGlobalNonLatching, 225, "Global Non-Latching Alarm Status", 7, 2,
         "GlobalNonLatchingStatus"},
        {"recent_latching_channel", "Most recent latching event channel", Unit::None, true,
         Q::EvRecentLatching, 226, "Global Most-Recent Latching Alarm Channel", 8, 3,
         "RecentLatchingChannel"},
        {"recent_non_latching_channel", "Most recent non-latching event channel", Unit::None, true,
         Q::EvRecentNonLatching, 227, "Global Most-Recent Non-Latching Alarm Channel", 9, 4,
         "RecentNonLatchingChannel"},
        {"channels_latched", "Channels in latching event", Unit::Count, false, Q::EvChannelsLatched,
         228, "Total number of channels in alarm (based on latching alarms)", 10, 5,
         "ChannelsLatched"},
        {"channels_non_latched", "Channels in non-latching event", Unit::Count, false,
         Q::EvChannelsNonLatched, 229,
         "Total number of channels in alarm (based on non-latching alarms)", 11, 6,
         "ChannelsNonLatched"},
    };
    for (const StatusRow& r : statuses) {
        Point& p = b.add(r.id, r.name, r.unit, Access::Read, r.nv, Ref{r.q});
        p.integer = mb(r.reg, Repr::Uint16, r.map_name);
        p.bacnet = ai(r.ai);
        p.snmp = mib(G::EventStatus, r.arc, r.descriptor);
    }
    for (int i = 1; i <= 6; ++i) {
        b.add("error_bitmap" + s(i), "Error bitmap " + s(i), Unit::Bits, Access::Read, false,
              Ref{Q::Reserved})
            .integer = mb(static_cast<uint16_t>(229 + i), Repr::Uint16,
                          "Error Bitmap" + s(i) + " (placeholder - bits TBD)");
    }
    const SettingRow voltage_alarms[] = {
        {236, "over_voltage_timer", "Overvoltage event timer", Unit::Seconds,
         "Overvoltage Alarm Timer", 0, 155, 14, "OverVoltageTimer"},
        {237, "under_voltage_timer", "Undervoltage event timer", Unit::Seconds,
         "Undervoltage Alarm Timer", 0, 156, 15, "UnderVoltageTimer"},
        {238, "over_voltage_threshold", "Overvoltage threshold (L-L)", Unit::Volts,
         "Overvoltage Alarm Threshold", 0, 157, 16, "OverVoltageThreshold"},
        {239, "under_voltage_threshold", "Undervoltage threshold (L-L)", Unit::Volts,
         "Undervoltage Alarm Threshold", 0, 158, 17, "UnderVoltageThreshold"},
        {240, "voltage_hysteresis", "Voltage event hysteresis", Unit::PercentTenths,
         "Voltage Alarm Hysteresis (percentage of setpoint)", -1, 159, 18, "VoltageHysteresis"},
    };
    for (const SettingRow& r : voltage_alarms) {
        Point& p = b.setting(r.key, r.name, r.unit, r.key);
        const bool volts = r.reg == 238 || r.reg == 239;
        p.integer = mb(r.reg, volts || r.scale ? Repr::Int16 : Repr::Uint16, r.map_name,
                       volts ? 244 : 0, r.scale);
        p.bacnet = av(r.av);
        p.snmp = mib(G::EventConfig, r.arc, r.descriptor);
    }
    const char* pairs[] = {"ab", "bc", "ca"};
    for (int i = 0; i < 3; ++i) {
        Point& p = b.add(std::string("voltage_") + pairs[i] + ".event_status",
                         std::string("Voltage ") + pairs[i] + " event status", Unit::Bits,
                         Access::ReadWrite, true, Ref{Q::EvVoltageStatus, static_cast<uint8_t>(i)});
        p.write = WriteKind::LatchClear;
        p.integer = mb(static_cast<uint16_t>(241 + i), Repr::Uint16, "Voltage Alarm Status");
        const int pair = i + 1;  // 1 A-B, 2 B-C, 3 C-A
        p.bacnet = av(159 + pair);
        p.snmp = mib(G::VoltageEvents, 2, "VoltageEventStatus", pair);
    }
    b.add("voltage_scale", "Voltage scale", Unit::Exponent, Access::Read, true,
          fixed(kVoltageScale))
        .integer = mb(244, Repr::Int16, "Voltage Scale Register");

    // Voltage inputs (floats 600..617).
    Point& f = b.add("frequency", "Frequency (phase A)", Unit::Hertz, Access::Read, false,
                     Ref{Q::Frequency});
    f.integer = mb(245, Repr::Int16, "Frequency (derived from Phase A)", 0, -2);
    f.floating = fl(600);
    f.cov_increment = 0.05;
    f.bacnet = ai(12);
    f.snmp = mib(G::VoltageSummary, 1, "Frequency");
    struct VoltRow {
        const char* id;
        const char* name;
        Ref ref;
        const char* map_name;
        int ai;
        SnmpPin snmp;
    };
    const VoltRow volts[] = {
        {"volts_ln_average", "Voltage L-N average", Ref{Q::VoltLnAverage}, "VOLTS L-N 3ph Ave", 13,
         mib(G::VoltageSummary, 2, "VoltsLineNeutralAverage")},
        {"volts_ll_average", "Voltage L-L average", Ref{Q::VoltLlAverage}, "VOLTS L-L 3ph Ave", 14,
         mib(G::VoltageSummary, 3, "VoltsLineLineAverage")},
        {"volts_an", "Voltage A-N", Ref{Q::VoltLn, 0}, "VOLTS A-N", 15,
         mib(G::VoltagePhases, 2, "VoltsLineNeutral", 1)},
        {"volts_bn", "Voltage B-N", Ref{Q::VoltLn, 1}, "VOLTS B-N", 16,
         mib(G::VoltagePhases, 2, "VoltsLineNeutral", 2)},
        {"volts_cn", "Voltage C-N", Ref{Q::VoltLn, 2}, "VOLTS C-N", 17,
         mib(G::VoltagePhases, 2, "VoltsLineNeutral", 3)},
        {"volts_ab", "Voltage A-B", Ref{Q::VoltLl, 0}, "VOLTS A-B", 18,
         mib(G::VoltagePhases, 3, "VoltsLineLine", 1)},
        {"volts_bc", "Voltage B-C", Ref{Q::VoltLl, 1}, "VOLTS B-C", 19,
         mib(G::VoltagePhases, 3, "VoltsLineLine", 2)},
        {"volts_ca", "Voltage A-C", Ref{Q::VoltLl, 2}, "VOLTS A-C", 20,
         mib(G::VoltagePhases, 3, "VoltsLineLine", 3)},
    };
    for (size_t i = 0; i < std::size(volts); ++i) {
        Point& p =
            b.add(volts[i].id, volts[i].name, Unit::Volts, Access::Read, false, volts[i].ref);
        p.integer = mb(static_cast<uint16_t>(246 + i), Repr::Int16, volts[i].map_name, 244);
        p.floating = fl(static_cast<uint16_t>(602 + 2 * i));
        p.cov_increment = 1.0;
        p.bacnet = ai(volts[i].ai);
        p.snmp = volts[i].snmp;
    }

    // Aux inputs: the mains as a 3-phase meter and the four aux channels.
    const GroupKind M = GroupKind::Mains;
    auto mains = [&](const char* id, const char* name, Unit u, double cov, Ref r, uint16_t reg,
                     Repr repr, const char* map_name, uint16_t scale, int8_t fixed_scale,
                     uint16_t float_reg, bool nv, int ai_instance, int arc,
                     const char* descriptor) {
        Point& p =
            b.add(std::string("mains.") + id, std::string("Mains ") + name, u, Access::Read, nv, r);
        p.integer = mb(reg, repr, map_name, scale, fixed_scale);
        if (float_reg) p.floating = fl(float_reg);
        p.cov_increment = cov;
        p.bacnet = ai(ai_instance);
        p.snmp = mib(G::Mains, arc, descriptor);
    };
    mains("kwh", "energy", Unit::KilowattHours, 1.0, gr(Q::GrKwh, M, 1), 254, Repr::Int32,
          "3ph KWH (MSW)", 291, 0, 618, true, 21, 5, "MainsKwh");
    mains("kw", "real power", Unit::Kilowatts, 0.5, gr(Q::GrKw, M, 1), 256, Repr::Int16,
          "3ph Total KW", 292, 0, 620, false, 22, 1, "MainsKw");
    mains("pf", "power factor", Unit::PowerFactor, 0.05, gr(Q::GrPf, M, 1), 257, Repr::Int16,
          "3ph Total PF", 0, -3, 622, false, 23, 3, "MainsPf");
    mains("current", "average current", Unit::Amps, 1.0, gr(Q::GrCurrent, M, 1), 258, Repr::Int16,
          "3ph Average Current (phases 1,2,3)", 293, 0, 624, false, 24, 4, "MainsCurrent");
    for (int ph = 0; ph < 3; ++ph) {
        const int c = kFirstAuxChannel + ph;
        Point& p = b.add("ch" + s(c) + ".kw", channel_name(c) + " real power", Unit::Kilowatts,
                         Access::Read, false, ch(Q::ChKw, c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(259 + ph), Repr::Int16, "KW Phase " + s(ph + 1),
                       static_cast<uint16_t>(288 + ph));
        p.floating = fl(static_cast<uint16_t>(626 + 2 * ph));
        p.cov_increment = 0.5;
        p.bacnet = ai(24 + aux_number(c));
        p.snmp = mib(G::Aux, 3, "AuxKw", aux_number(c));
    }
    for (int ph = 0; ph < 3; ++ph) {
        const int c = kFirstAuxChannel + ph;
        Point& p = b.add("ch" + s(c) + ".pf", channel_name(c) + " power factor", Unit::PowerFactor,
                         Access::Read, false, ch(Q::ChPf, c));
        p.channel = c;
        p.integer =
            mb(static_cast<uint16_t>(262 + ph), Repr::Int16, "PF Phase " + s(ph + 1), 0, -3);
        p.floating = fl(static_cast<uint16_t>(632 + 2 * ph));
        p.cov_increment = 0.05;
        p.bacnet = ai(27 + aux_number(c));
        p.snmp = mib(G::Aux, 5, "AuxPf", aux_number(c));
    }
    struct AuxRow {
        Q q;
        const char* id;
        const char* name;
        uint16_t reg;
        const char* map;
        uint16_t float_reg;
        bool nv;
        int ai_base;  // + the aux input number
        int arc;      // in the Aux table
        const char* descriptor;
    };
    const AuxRow aux_rows[] = {
        {Q::ChCurrent, "current", "current", 265, "Current Phase ", 638, false, 30, 2,
         "AuxCurrent"},
        {Q::ChCurrentDemand, "current_demand", "current demand", 269,
         "Present Current Demand Phase ", 646, false, 34, 7, "AuxCurrentDemand"},
        {Q::ChMaxCurrentDemand, "max_current_demand", "max current demand", 273,
         "Max Current Demand Phase ", 654, true, 38, 8, "AuxMaxCurrentDemand"},
        {Q::ChMaxCurrent, "max_current", "max current", 279, "Max Current Phase ", 666, true, 44, 9,
         "AuxMaxCurrent"},
    };
    for (const AuxRow& r : aux_rows) {
        for (int ph = 0; ph < 4; ++ph) {
            const int c = kFirstAuxChannel + ph;
            Point& p = b.add("ch" + s(c) + "." + r.id, channel_name(c) + " " + r.name, Unit::Amps,
                             Access::Read, r.nv, ch(r.q, c));
            p.channel = c;
            p.integer = mb(static_cast<uint16_t>(r.reg + ph), Repr::Int16, r.map + s(ph + 1),
                           static_cast<uint16_t>(284 + ph));
            p.floating = fl(static_cast<uint16_t>(r.float_reg + 2 * ph));
            p.cov_increment = 1.0;
            p.bacnet = ai(r.ai_base + aux_number(c));
            p.snmp = mib(G::Aux, r.arc, r.descriptor, aux_number(c));
        }
        if (r.q == Q::ChMaxCurrentDemand) {
            mains("kw_demand", "real power demand", Unit::Kilowatts, 0.5, gr(Q::GrKwDemand, M, 1),
                  277, Repr::Int16, "3ph Present KW-Total Demand", 292, 0, 662, false, 43, 7,
                  "MainsKwDemand");
            mains("max_kw_demand", "max real power demand", Unit::Kilowatts, 0.5,
                  gr(Q::GrMaxKwDemand, M, 1), 278, Repr::Int16, "3ph Max KW-Total Demand", 292, 0,
                  664, true, 44, 8, "MainsMaxKwDemand");
        }
    }
    mains("max_kw", "max real power", Unit::Kilowatts, 0.5, gr(Q::GrMaxKw, M, 1), 283, Repr::Int16,
          "3ph Max KW-Total", 292, 0, 674, true, 49, 9, "MainsMaxKw");
    for (int ph = 0; ph < 4; ++ph) {
        const int c = kFirstAuxChannel + ph;
        b.add("ch" + s(c) + ".current_scale", channel_name(c) + " current scale", Unit::Exponent,
              Access::Read, true, ch(Q::ScaleCurrent, c))
            .integer =
            mb(static_cast<uint16_t>(284 + ph), Repr::Int16, "Current Scale Phase " + s(ph + 1));
    }
    for (int ph = 0; ph < 3; ++ph) {
        const int c = kFirstAuxChannel + ph;
        b.add("ch" + s(c) + ".power_scale", channel_name(c) + " power scale", Unit::Exponent,
              Access::Read, true, ch(Q::ScalePower, c))
            .integer =
            mb(static_cast<uint16_t>(288 + ph), Repr::Int16, "Power Scale Phase " + s(ph + 1));
    }
    b.add("mains.energy_scale", "Mains energy scale", Unit::Exponent, Access::Read, true,
          gr(Q::ScaleGroupEnergy, M, 1))
        .integer = mb(291, Repr::Int16, "Energy Scale (3ph)");
    b.add("mains.power_scale", "Mains power scale", Unit::Exponent, Access::Read, true,
          gr(Q::ScaleGroupPower, M, 1))
        .integer = mb(292, Repr::Int16, "Power Scale (3ph)");
    b.add("mains.current_scale", "Mains current scale", Unit::Exponent, Access::Read, true,
          gr(Q::ScaleGroupCurrent, M, 1))
        .integer = mb(293, Repr::Int16, "Current Scale 3ph (Avg)");
    {
        Point& p = b.reset("aux_reset", "AUX resets", ResetScope::Aux, 0);
        p.integer = mb(294, Repr::Uint16,
                       "AUX Resets - Write the listed value to perform the listed reset:");
        p.bacnet = ao(1);
        p.snmp = mib(G::Mains, 10, "AuxReset");
    }
    {
        Point& p = b.reset("global_reset", "Global reset", ResetScope::Global, 0);
        p.integer = mb(295, Repr::Uint16,
                       "Global Reset - Write the listed value to perform the listed reset:");
        p.bacnet = ao(2);
        p.snmp = mib(G::Commands, 1, "GlobalReset");
    }

    // Event counters.
    const char* level_names[] = {"High High", "High", "Low", "Low Low", "OFF state"};
    const char* level_ids[] = {"hh", "h", "l", "ll", "off"};
    // Pins of each level: the global counter's AI and EventCounters arc, the
    // channel counters' AI base (+ the channel) and ChannelEvent column.
    const int global_counter_ai[] = {50, 51, 52, 53, 54};
    const int global_counter_arc[] = {1, 2, 3, 4, 5};
    const char* global_counter_mib[] = {"HighHighEventCount", "HighEventCount", "LowEventCount",
                                        "LowLowEventCount", "OffStateEventCount"};
    const int counter_ai_base[] = {54, 100, 146, 192, 238};
    const int counter_arc[] = {3, 4, 5, 6, 7};
    const char* counter_mib[] = {"ChannelHighHighCount", "ChannelHighCount", "ChannelLowCount",
                                 "ChannelLowLowCount", "ChannelOffStateCount"};
    for (int l = 0; l < kLatchLevels; ++l) {
        const std::string map =
            l == 4 ? "Latching Alarm OFF state Global Counter"
                   : std::string(level_names[l]) + " Latching Alarm Global Counter";
        Point& p = b.add(std::string("global_counter.") + level_ids[l],
                         std::string(level_names[l]) + " global event counter", Unit::Count,
                         Access::Read, true, Ref{Q::EvGlobalCounter, static_cast<uint8_t>(l)});
        p.integer = mb(static_cast<uint16_t>(296 + l), Repr::Uint16, map);
        p.bacnet = ai(global_counter_ai[l]);
        p.snmp = mib(G::EventCounters, global_counter_arc[l], global_counter_mib[l]);
    }
    for (int l = 0; l < kLatchLevels; ++l) {
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            const std::string base = l == 4
                                         ? "Latching Alarm OFF state Counter"
                                         : std::string(level_names[l]) + " Latching Alarm Counter";
            Point& p = b.add("ch" + s(c) + ".counter." + level_ids[l],
                             channel_name(c) + " " + level_names[l] + " event counter", Unit::Count,
                             Access::Read, false,
                             Ref{Q::EvCounter, static_cast<uint8_t>(l), static_cast<uint8_t>(c)});
            p.channel = c;
            p.integer = mb(static_cast<uint16_t>(301 + l * kChannelsPerPanel + c - 1), Repr::Uint16,
                           aux(c) ? "AUX " + base : base);
            p.bacnet = ai(counter_ai_base[l] + c);
            p.snmp = mib(G::ChannelEvents, counter_arc[l], counter_mib[l], c);
        }
    }
    // Diagnostics.
    {
        Point& p = b.add("power_up_counter", "Power-up counter", Unit::Count, Access::ReadWrite,
                         true, Ref{Q::PowerUpCounter});
        p.write = WriteKind::PowerUpCounter;
        p.integer = mb(531, Repr::Uint16, "Power Up Counter");
        p.bacnet = av(163);
        p.snmp = mib(G::EventCounters, 6, "PowerUpCount");
    }
    {
        Point& p = b.add("device_health", "Device health", Unit::Bits, Access::Read, false,
                         Ref{Q::Health});
        p.integer = mb(532, Repr::Uint16, "Device Health");
        p.bacnet = ai(285);
        p.snmp = mib(G::EventStatus, 7, "DeviceHealth");
    }
    for (int i = 0; i < 6; ++i) {
        b.add("reserved" + s(533 + i), "Reserved", Unit::None, Access::Read, false,
              Ref{Q::Reserved})
            .integer = mb(static_cast<uint16_t>(533 + i), Repr::Uint16, "Reserved for future use");
    }
    {
        Point& p =
            b.add("product_id", "Product ID", Unit::Bits, Access::Read, false, Ref{Q::ProductId});
        p.integer = mb(539, Repr::Uint16, "Product ID");
        p.bacnet = ai(286);
        p.snmp = mib(G::Product, 6, "ProductId");
    }
    mains("kva", "apparent power", Unit::KilovoltAmps, 0.5, gr(Q::GrKva, M, 1), 540, Repr::Int16,
          "3ph Total KVA", 292, 0, 676, false, 287, 2, "MainsKva");
    for (int ph = 0; ph < 3; ++ph) {
        const int c = kFirstAuxChannel + ph;
        Point& p = b.add("ch" + s(c) + ".kva", channel_name(c) + " apparent power",
                         Unit::KilovoltAmps, Access::Read, false, ch(Q::ChKva, c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(541 + ph), Repr::Int16, "KVA Phase " + s(ph + 1),
                       static_cast<uint16_t>(288 + ph));
        p.floating = fl(static_cast<uint16_t>(678 + 2 * ph));
        p.cov_increment = 0.5;
        p.bacnet = ai(287 + aux_number(c));
        p.snmp = mib(G::Aux, 4, "AuxKva", aux_number(c));
    }
}

// ---------------------------------------------------------------- 42 single-phase meters
void single_phase_section(Builder& b) {
    for (int c = 1; c <= kMaxBranchChannels; ++c) {
        b.add("ch" + s(c) + ".current_scale", channel_name(c) + " current scale", Unit::Exponent,
              Access::Read, true, ch(Q::ScaleCurrent, c))
            .integer = mb(static_cast<uint16_t>(999 + c), Repr::Int16, "Current Scale");
    }
    for (int c = 1; c <= kMaxBranchChannels; ++c) {
        b.add("ch" + s(c) + ".power_scale", channel_name(c) + " power scale", Unit::Exponent,
              Access::Read, true, ch(Q::ScalePower, c))
            .integer = mb(static_cast<uint16_t>(1041 + c), Repr::Int16, "Power Scale");
    }
    for (int c = 1; c <= kMaxBranchChannels; ++c) {
        b.add("ch" + s(c) + ".energy_scale", channel_name(c) + " energy scale", Unit::Exponent,
              Access::Read, true, ch(Q::ScaleEnergy, c))
            .integer = mb(static_cast<uint16_t>(1083 + c), Repr::Int16, "Energy Scale");
    }
    for (int c = 1; c <= kMaxBranchChannels; ++c) {
        Point& p =
            b.reset("ch" + s(c) + ".reset", channel_name(c) + " reset", ResetScope::Channel, c);
        p.channel = c;
        p.integer =
            mb(static_cast<uint16_t>(1125 + c), Repr::Uint16,
               c == 1 ? "Reset - Write the listed value to perform the listed reset:" : "Reset");
        p.bacnet = ao(2 + c);
        p.snmp = mib(G::Branch, 15, "BranchReset", c);
    }
    struct Row {
        Q q;
        Kind kind;
        const char* id;
        const char* name;
        const char* map;
        uint16_t reg;
        uint16_t float_reg;
        uint16_t scale_base;  // 1000 current, 1042 power, 1084 energy, 0 = fixed -3
        bool nv;
        int ai_base;  // + the channel
        int arc;      // in the Branch table
        const char* descriptor;
    };
    const Row rows[] = {
        {Q::ChKwh, kKwh, "kwh", "energy", "KWH (MSW)", 1168, 2000, 1084, true, 290, 7, "BranchKwh"},
        {Q::ChKw, kKw, "kw", "real power", "KW", 1252, 2084, 1042, false, 332, 3, "BranchKw"},
        {Q::ChPf, kPf, "pf", "power factor", "PF", 1294, 2168, 0, false, 374, 5, "BranchPf"},
        {Q::ChCurrent, kCurrent, "current", "current", "Current", 1336, 2252, 1000, false, 416, 2,
         "BranchCurrent"},
        {Q::ChKwDemand, kKw, "kw_demand", "real power demand", "Present KW Demand", 1378, 2336,
         1042, false, 458, 10, "BranchKwDemand"},
        {Q::ChMaxKwDemand, kKw, "max_kw_demand", "max real power demand", "Max KW Demand", 1420,
         2420, 1042, true, 500, 14, "BranchMaxKwDemand"},
        {Q::ChCurrentDemand, kCurrent, "current_demand", "current demand", "Present Current Demand",
         1462, 2504, 1000, false, 542, 9, "BranchCurrentDemand"},
        {Q::ChMaxCurrentDemand, kCurrent, "max_current_demand", "max current demand",
         "Max Current Demand", 1504, 2588, 1000, true, 584, 13, "BranchMaxCurrentDemand"},
        {Q::ChMaxKw, kKw, "max_kw", "max real power", "Max KW-Total", 1546, 2672, 1042, true, 626,
         12, "BranchMaxKw"},
        {Q::ChMaxCurrent, kCurrent, "max_current", "max current", "Max Current", 1588, 2756, 1000,
         true, 668, 11, "BranchMaxCurrent"},
        {Q::ChKva, kKva, "kva", "apparent power", "KVA", 1630, 2840, 1042, false, 710, 4,
         "BranchKva"},
    };
    for (const Row& r : rows) {
        const bool energy = r.q == Q::ChKwh;
        for (int c = 1; c <= kMaxBranchChannels; ++c) {
            Point& p = b.add("ch" + s(c) + "." + r.id, channel_name(c) + " " + r.name, r.kind.unit,
                             Access::Read, r.nv, ch(r.q, c));
            p.channel = c;
            p.cov_increment = r.kind.cov;
            const auto reg = static_cast<uint16_t>(r.reg + (energy ? 2 : 1) * (c - 1));
            p.integer = mb(reg, energy ? Repr::Int32 : Repr::Int16, r.map,
                           r.scale_base ? static_cast<uint16_t>(r.scale_base + c - 1) : 0,
                           r.scale_base ? 0 : -3);
            p.floating = fl(static_cast<uint16_t>(r.float_reg + 2 * (c - 1)));
            p.bacnet = ai(r.ai_base + c);
            p.snmp = mib(G::Branch, r.arc, r.descriptor, c);
        }
    }
}

// ---------------------------------------------------------------- legacy 21 two-phase and 14
// three-phase meters
void legacy_section(Builder& b, GroupKind kind, int meters, int phases, uint16_t base,
                    uint16_t float_base, int reset_ao_base) {
    const MapVariant V = MapVariant::Legacy;
    const std::string prefix = (phases == 2 ? "2ph" : "3ph");
    const std::string label = (phases == 2 ? "2-phase meter " : "3-phase meter ");
    const auto scale_current = base;
    const auto scale_power = static_cast<uint16_t>(base + meters);
    const auto scale_energy = static_cast<uint16_t>(base + 2 * meters);
    for (int m = 1; m <= meters; ++m) {
        b.add(prefix + s(m) + ".current_scale", label + s(m) + " current scale", Unit::Exponent,
              Access::Read, true, gr(Q::ScaleGroupCurrent, kind, m))
            .integer =
            mb(static_cast<uint16_t>(scale_current + m - 1), Repr::Int16, "Current Scale", 0, 0, V);
    }
    for (int m = 1; m <= meters; ++m) {
        b.add(prefix + s(m) + ".power_scale", label + s(m) + " power scale", Unit::Exponent,
              Access::Read, true, gr(Q::ScaleGroupPower, kind, m))
            .integer =
            mb(static_cast<uint16_t>(scale_power + m - 1), Repr::Int16, "Power Scale", 0, 0, V);
    }
    for (int m = 1; m <= meters; ++m) {
        b.add(prefix + s(m) + ".energy_scale", label + s(m) + " energy scale", Unit::Exponent,
              Access::Read, true, gr(Q::ScaleGroupEnergy, kind, m))
            .integer =
            mb(static_cast<uint16_t>(scale_energy + m - 1), Repr::Int16, "Energy Scale", 0, 0, V);
    }
    auto reg = static_cast<uint16_t>(base + 3 * meters);
    for (int m = 1; m <= meters; ++m) {
        Point& p = b.reset(prefix + s(m) + ".reset", label + s(m) + " reset",
                           phases == 2 ? ResetScope::TwoPhase : ResetScope::ThreePhase, m);
        p.integer =
            mb(reg++, Repr::Uint16,
               m == 1 ? "Reset - Write the listed value to perform the listed reset:" : "Reset", 0,
               0, V);
        p.bacnet = ao(reset_ao_base + m);
    }
    auto freg = float_base;
    const std::string avg =
        phases == 2 ? "Current Average of 2 phases" : "Current Average of 3 phases";
    // (quantity, id, name, unit, map name, scale: 'c' current 'p' power 'e' energy 'f' fixed -3,
    // per phase?, nv)
    struct Row {
        Ref ref;
        bool per_phase;
        const char* id;
        const char* name;
        Kind kind;
        std::string map;
        char scale;
        bool nv;
        // AI base (+ the meter number) of each phase (or of the total), for
        // the 2-phase and for the 3-phase meters.
        int two_phase_ai[2];
        int three_phase_ai[3];
    };
    const Row rows[] = {
        {Ref{Q::GrKwh}, false, "kwh", "energy", kKwh, "KWH (MSW)", 'e', true, {752}, {1214}},
        {Ref{Q::GrKw}, false, "kw", "total real power", kKw, "KW Total", 'p', false, {773}, {1228}},
        {Ref{Q::GrPf},
         false,
         "pf",
         "total power factor",
         kPf,
         "PF Total",
         'f',
         false,
         {794},
         {1242}},
        {Ref{Q::GrCurrent},
         false,
         "current",
         "average current",
         kCurrent,
         avg,
         'c',
         false,
         {815},
         {1256}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChKw},
         true,
         "kw_phase",
         "real power phase ",
         kKw,
         "KW Phase ",
         'p',
         false,
         {836, 857},
         {1270, 1284, 1298}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChPf},
         true,
         "pf_phase",
         "power factor phase ",
         kPf,
         "PF Phase ",
         'f',
         false,
         {878, 899},
         {1312, 1326, 1340}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChCurrent},
         true,
         "current_phase",
         "current phase ",
         kCurrent,
         "Current Phase ",
         'c',
         false,
         {920, 941},
         {1354, 1368, 1382}},
        {Ref{Q::GrKwDemand},
         false,
         "kw_demand",
         "total real power demand",
         kKw,
         "Present KW-Total Demand",
         'p',
         false,
         {962},
         {1396}},
        {Ref{Q::GrMaxKwDemand},
         false,
         "max_kw_demand",
         "max total real power demand",
         kKw,
         "Max KW-Total Demand",
         'p',
         true,
         {983},
         {1410}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChCurrentDemand},
         true,
         "current_demand_phase",
         "current demand phase ",
         kCurrent,
         "Present Current Demand Phase ",
         'c',
         false,
         {1004, 1025},
         {1424, 1438, 1452}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChMaxCurrentDemand},
         true,
         "max_current_demand_phase",
         "max current demand phase ",
         kCurrent,
         "Max Current Demand Phase ",
         'c',
         true,
         {1046, 1067},
         {1466, 1480, 1494}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChMaxCurrent},
         true,
         "max_current_phase",
         "max current phase ",
         kCurrent,
         "Max Current Phase ",
         'c',
         true,
         {1088, 1109},
         {1508, 1522, 1536}},
        {Ref{Q::GrMaxKw},
         false,
         "max_kw",
         "max total real power",
         kKw,
         "Max KW Total",
         'p',
         true,
         {1130},
         {1550}},
        {Ref{Q::GrKva},
         false,
         "kva",
         "total apparent power",
         kKva,
         "KVA Total",
         'p',
         false,
         {1151},
         {1564}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChKva},
         true,
         "kva_phase",
         "apparent power phase ",
         kKva,
         "KVA Phase ",
         'p',
         false,
         {1172, 1193},
         {1578, 1592, 1606}},
    };
    for (const Row& r : rows) {
        const int phase_count = r.per_phase ? phases : 1;
        for (int ph = 0; ph < phase_count; ++ph) {
            for (int m = 1; m <= meters; ++m) {
                Ref ref = r.ref;
                ref.index = static_cast<uint8_t>(m);
                ref.group = kind;
                ref.member = static_cast<uint8_t>(ph);
                const std::string suffix = r.per_phase ? s(ph + 1) : "";
                Point& p =
                    b.add(prefix + s(m) + "." + r.id + suffix, label + s(m) + " " + r.name + suffix,
                          r.kind.unit, Access::Read, r.nv, ref);
                p.cov_increment = r.kind.cov;
                uint16_t scale = 0;
                if (r.scale == 'c') scale = static_cast<uint16_t>(scale_current + m - 1);
                if (r.scale == 'p') scale = static_cast<uint16_t>(scale_power + m - 1);
                if (r.scale == 'e') scale = static_cast<uint16_t>(scale_energy + m - 1);
                const bool energy = r.ref.q == Q::GrKwh;
                p.integer = mb(reg, energy ? Repr::Int32 : Repr::Int16, r.map + suffix, scale,
                               r.scale == 'f' ? -3 : 0, V);
                reg = static_cast<uint16_t>(reg + (energy ? 2 : 1));
                p.floating = fl(freg, V);
                freg = static_cast<uint16_t>(freg + 2);
                p.bacnet = ai((phases == 2 ? r.two_phase_ai[ph] : r.three_phase_ai[ph]) + m);
            }
        }
    }
}

// ---------------------------------------------------------------- BCPME extensions
// (docs/modbus.md) Logical circuits by measurement type (4000..9999 while 62017 bit 3 is clear),
// logical circuits by circuit (10000..), phase angles, assignments, snapshots, RTC.
constexpr int kLogicalByTypeBase = 4000;
constexpr int kLogicalByTypeFloatBase = 6000;
constexpr int kLogicalByCircuitBase = 10000;
constexpr int kLogicalByCircuitStride = 500;

struct LogicalRow {
    Ref ref;
    bool per_phase;
    const char* id;
    const char* name;
    Kind kind;
    char scale;  // c p e f(-3) a(angle -1) n(none: raw count)
    bool nv;
    // Pins of the by-type points of each phase (or of the total): the AI base
    // (+ the circuit number), the Flex table's column and its descriptor.
    int ai[3];
    int arc[3];
    const char* descriptor[3];
};

const std::vector<LogicalRow>& logical_rows() {
    static const std::vector<LogicalRow> rows = {
        {Ref{Q::GrKwh}, false, "kwh", "energy", kKwh, 'e', true, {1666}, {10}, {"FlexKwh"}},
        {Ref{Q::GrKw}, false, "kw", "total real power", kKw, 'p', false, {1712}, {6}, {"FlexKw"}},
        {Ref{Q::GrKva},
         false,
         "kva",
         "total apparent power",
         kKva,
         'p',
         false,
         {1758},
         {7},
         {"FlexKva"}},
        {Ref{Q::GrPf}, false, "pf", "total power factor", kPf, 'f', false, {1804}, {8}, {"FlexPf"}},
        {Ref{Q::GrCurrent},
         false,
         "current",
         "average current",
         kCurrent,
         'c',
         false,
         {1850},
         {9},
         {"FlexCurrent"}},
        {Ref{Q::GrKwDemand},
         false,
         "kw_demand",
         "total real power demand",
         kKw,
         'p',
         false,
         {1896},
         {12},
         {"FlexKwDemand"}},
        {Ref{Q::GrMaxKwDemand},
         false,
         "max_kw_demand",
         "max total real power demand",
         kKw,
         'p',
         true,
         {1942},
         {15},
         {"FlexMaxKwDemand"}},
        {Ref{Q::GrCurrentDemand},
         false,
         "current_demand",
         "average current demand",
         kCurrent,
         'c',
         false,
         {1988},
         {13},
         {"FlexCurrentDemand"}},
        {Ref{Q::GrMaxCurrentDemand},
         false,
         "max_current_demand",
         "max average current demand",
         kCurrent,
         'c',
         true,
         {2034},
         {17},
         {"FlexMaxCurrentDemand"}},
        {Ref{Q::GrMaxKw},
         false,
         "max_kw",
         "max total real power",
         kKw,
         'p',
         true,
         {2080},
         {14},
         {"FlexMaxKw"}},
        {Ref{Q::GrMaxCurrent},
         false,
         "max_current",
         "max average current",
         kCurrent,
         'c',
         true,
         {2126},
         {16},
         {"FlexMaxCurrent"}},
        {Ref{Q::GrKwhSnapshot},
         false,
         "kwh_snapshot",
         "energy snapshot",
         kKwh,
         'e',
         true,
         {2172},
         {11},
         {"FlexKwhSnapshot"}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChKw},
         true,
         "kw_phase",
         "real power phase ",
         kKw,
         'p',
         false,
         {2218, 2264, 2310},
         {18, 19, 20},
         {"FlexKwPhase1", "FlexKwPhase2", "FlexKwPhase3"}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChKva},
         true,
         "kva_phase",
         "apparent power phase ",
         kKva,
         'p',
         false,
         {2356, 2402, 2448},
         {21, 22, 23},
         {"FlexKvaPhase1", "FlexKvaPhase2", "FlexKvaPhase3"}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChPf},
         true,
         "pf_phase",
         "power factor phase ",
         kPf,
         'f',
         false,
         {2494, 2540, 2586},
         {24, 25, 26},
         {"FlexPfPhase1", "FlexPfPhase2", "FlexPfPhase3"}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChCurrent},
         true,
         "current_phase",
         "current phase ",
         kCurrent,
         'c',
         false,
         {2632, 2678, 2724},
         {27, 28, 29},
         {"FlexCurrentPhase1", "FlexCurrentPhase2", "FlexCurrentPhase3"}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChCurrentDemand},
         true,
         "current_demand_phase",
         "current demand phase ",
         kCurrent,
         'c',
         false,
         {2770, 2816, 2862},
         {30, 31, 32},
         {"FlexCurrentDemandPhase1", "FlexCurrentDemandPhase2", "FlexCurrentDemandPhase3"}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChMaxCurrent},
         true,
         "max_current_phase",
         "max current phase ",
         kCurrent,
         'c',
         true,
         {2908, 2954, 3000},
         {33, 34, 35},
         {"FlexMaxCurrentPhase1", "FlexMaxCurrentPhase2", "FlexMaxCurrentPhase3"}},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChAngle},
         true,
         "angle_phase",
         "current angle phase ",
         Kind{"angle", "angle", Unit::Degrees, 2.0},
         'a',
         false,
         {3046, 3092, 3138},
         {36, 37, 38},
         {"FlexAnglePhase1", "FlexAnglePhase2", "FlexAnglePhase3"}},
    };
    return rows;
}

// The scale registers of one logical circuit.
struct LogicalScales {
    uint16_t current = 0, power = 0, energy = 0;
};

// One value point of a logical circuit at reg (integer) and freg (float), which advance.
Point& add_logical_value(Builder& b, const LogicalRow& row, int lc, int ph, const std::string& id,
                         const std::string& name, LogicalScales scales, MapVariant variant,
                         uint16_t& reg, uint16_t& freg) {
    Ref ref = row.ref;
    ref.index = static_cast<uint8_t>(lc);
    ref.group = GroupKind::Logical;
    ref.member = static_cast<uint8_t>(ph);
    const std::string suffix = row.per_phase ? s(ph + 1) : "";
    Point& p = b.add(id + row.id + suffix, name + row.name + suffix, row.kind.unit, Access::Read,
                     row.nv, ref);
    p.cov_increment = row.kind.cov;
    const bool energy = row.kind.unit == Unit::KilowattHours;
    uint16_t scale = 0;
    int8_t fixed_scale = 0;
    switch (row.scale) {
        case 'c':
            scale = scales.current;
            break;
        case 'p':
            scale = scales.power;
            break;
        case 'e':
            scale = scales.energy;
            break;
        case 'f':
            fixed_scale = -3;
            break;
        case 'a':
            fixed_scale = -1;
            break;
        default:
            break;
    }
    p.integer = mb(reg, energy ? Repr::Int32 : Repr::Int16, "", scale, fixed_scale, variant);
    reg = static_cast<uint16_t>(reg + (energy ? 2 : 1));
    p.floating = fl(freg, variant);
    freg = static_cast<uint16_t>(freg + 2);
    return p;
}

void logical_section(Builder& b) {
    const GroupKind L = GroupKind::Logical;
    const int n = kLogicalCircuits;
    const MapVariant T = MapVariant::LogicalByType;
    // By measurement type: scales, resets, then each measurement for circuits 1..46.
    uint16_t reg = kLogicalByTypeBase;
    auto freg = static_cast<uint16_t>(kLogicalByTypeFloatBase);
    const auto scale_current = reg;
    const auto scale_power = static_cast<uint16_t>(reg + n);
    const auto scale_energy = static_cast<uint16_t>(reg + 2 * n);
    for (int lc = 1; lc <= n; ++lc) {
        b.add("lc" + s(lc) + ".current_scale", "Logical circuit " + s(lc) + " current scale",
              Unit::Exponent, Access::Read, true, gr(Q::ScaleGroupCurrent, L, lc))
            .integer = mb(static_cast<uint16_t>(scale_current + lc - 1), Repr::Int16, "", 0, 0, T);
        b.add("lc" + s(lc) + ".power_scale", "Logical circuit " + s(lc) + " power scale",
              Unit::Exponent, Access::Read, true, gr(Q::ScaleGroupPower, L, lc))
            .integer = mb(static_cast<uint16_t>(scale_power + lc - 1), Repr::Int16, "", 0, 0, T);
        b.add("lc" + s(lc) + ".energy_scale", "Logical circuit " + s(lc) + " energy scale",
              Unit::Exponent, Access::Read, true, gr(Q::ScaleGroupEnergy, L, lc))
            .integer = mb(static_cast<uint16_t>(scale_energy + lc - 1), Repr::Int16, "", 0, 0, T);
        Point& r = b.reset("lc" + s(lc) + ".reset", "Logical circuit " + s(lc) + " reset",
                           ResetScope::Logical, lc);
        r.integer = mb(static_cast<uint16_t>(reg + 3 * n + lc - 1), Repr::Uint16, "", 0, 0, T);
        r.bacnet = ao(79 + lc);
        r.snmp = mib(G::Flex, 39, "FlexReset", lc);
        Point& m = b.add("lc" + s(lc) + ".members", "Logical circuit " + s(lc) + " channel count",
                         Unit::Count, Access::Read, false, gr(Q::GrMembers, L, lc));
        m.integer = mb(static_cast<uint16_t>(reg + 4 * n + lc - 1), Repr::Uint16, "", 0, 0, T);
        m.bacnet = ai(1620 + lc);
        m.snmp = mib(G::Flex, 2, "FlexChannelCount", lc);
    }
    reg = static_cast<uint16_t>(reg + 5 * n);
    for (const LogicalRow& row : logical_rows()) {
        for (int ph = 0; ph < (row.per_phase ? 3 : 1); ++ph) {
            for (int lc = 1; lc <= n; ++lc) {
                const LogicalScales scales{static_cast<uint16_t>(scale_current + lc - 1),
                                           static_cast<uint16_t>(scale_power + lc - 1),
                                           static_cast<uint16_t>(scale_energy + lc - 1)};
                Point& p =
                    add_logical_value(b, row, lc, ph, "lc" + s(lc) + ".",
                                      "Logical circuit " + s(lc) + " ", scales, T, reg, freg);
                p.bacnet = ai(row.ai[ph] + lc);
                p.snmp = mib(G::Flex, row.arc[ph], row.descriptor[ph], lc);
            }
        }
    }
}

// By circuit: one block of kLogicalByCircuitStride registers per circuit. These
// registers present the same points as the by-type map; they are separate points
// so every register has one owner (ids "lcN.by_circuit.*").
void logical_by_circuit_section(Builder& b) {
    const GroupKind L = GroupKind::Logical;
    for (int lc = 1; lc <= kLogicalCircuits; ++lc) {
        const auto base =
            static_cast<uint16_t>(kLogicalByCircuitBase + (lc - 1) * kLogicalByCircuitStride);
        const std::string id = "lc" + s(lc) + ".by_circuit.";
        const std::string name = "Logical circuit " + s(lc) + " ";
        b.add(id + "number", name + "number", Unit::None, Access::Read, false,
              gr(Q::GrNumber, L, lc))
            .integer = mb(base, Repr::Uint16, "");
        b.add(id + "members", name + "channel count", Unit::Count, Access::Read, false,
              gr(Q::GrMembers, L, lc))
            .integer = mb(static_cast<uint16_t>(base + 1), Repr::Uint16, "");
        const char* channel_mib[] = {"FlexChannel1", "FlexChannel2", "FlexChannel3"};
        for (int m = 0; m < 3; ++m) {
            Ref r = gr(Q::GrMemberChannel, L, lc);
            r.member = static_cast<uint8_t>(m);
            Point& p = b.add(id + "channel" + s(m + 1), name + "channel of phase " + s(m + 1),
                             Unit::None, Access::Read, false, r);
            p.integer = mb(static_cast<uint16_t>(base + 2 + m), Repr::Uint16, "");
            p.snmp = mib(G::Flex, 3 + m, channel_mib[m], lc);
        }
        const auto sc = static_cast<uint16_t>(base + 5);
        const auto sp = static_cast<uint16_t>(base + 6);
        const auto se = static_cast<uint16_t>(base + 7);
        b.add(id + "current_scale", name + "current scale", Unit::Exponent, Access::Read, true,
              gr(Q::ScaleGroupCurrent, L, lc))
            .integer = mb(sc, Repr::Int16, "");
        b.add(id + "power_scale", name + "power scale", Unit::Exponent, Access::Read, true,
              gr(Q::ScaleGroupPower, L, lc))
            .integer = mb(sp, Repr::Int16, "");
        b.add(id + "energy_scale", name + "energy scale", Unit::Exponent, Access::Read, true,
              gr(Q::ScaleGroupEnergy, L, lc))
            .integer = mb(se, Repr::Int16, "");
        b.reset(id + "reset", name + "reset", ResetScope::Logical, lc).integer =
            mb(static_cast<uint16_t>(base + 8), Repr::Uint16, "");
        auto reg = static_cast<uint16_t>(base + 10);
        auto freg = static_cast<uint16_t>(base + 100);
        for (const LogicalRow& row : logical_rows()) {
            for (int ph = 0; ph < (row.per_phase ? 3 : 1); ++ph) {
                add_logical_value(b, row, lc, ph, id, name, LogicalScales{sc, sp, se},
                                  MapVariant::Always, reg, freg);
            }
        }
    }
}

void extension_section(Builder& b) {
    const char* phases[] = {"a", "b", "c"};
    for (int i = 0; i < 3; ++i) {
        Point& p =
            b.add(std::string("volts_") + phases[i] + ".angle",
                  std::string("Voltage ") + static_cast<char>('A' + i) + " phase angle",
                  Unit::Degrees, Access::Read, false, Ref{Q::VoltAngle, static_cast<uint8_t>(i)});
        p.integer = mb(static_cast<uint16_t>(3001 + i), Repr::Int16, "", 0, -1);
        p.floating = fl(static_cast<uint16_t>(3101 + 2 * i));
        p.cov_increment = 2.0;
        const int phase = i + 1;
        p.bacnet = ai(3184 + phase);
        p.snmp = mib(G::VoltagePhases, 4, "VoltsAngle", phase);
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.add("ch" + s(c) + ".angle", channel_name(c) + " current phase angle",
                         Unit::Degrees, Access::Read, false, ch(Q::ChAngle, c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(3003 + c), Repr::Int16, "", 0, -1);
        p.floating = fl(static_cast<uint16_t>(3107 + 2 * (c - 1)));
        p.cov_increment = 2.0;
        p.bacnet = ai(3187 + c);
        p.snmp = aux(c) ? mib(G::Aux, 6, "AuxAngle", aux_number(c))
                        : mib(G::Branch, 6, "BranchAngle", c);
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.setting("ch" + s(c) + ".logical_circuit", channel_name(c) + " logical circuit",
                             Unit::None, "logical_circuit." + s(c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(3200 + c), Repr::Uint16, "");
        p.bacnet = av(210 + c);
        p.snmp = mib(G::ChannelConfig, 5, "ChannelFlexCircuit", c);
    }
    struct RtcRow {
        const char* field;
        int av;
        int arc;  // in Clock
        const char* descriptor;
    };
    const RtcRow fields[] = {
        {"year", 257, 1, "ClockYear"},     {"month", 258, 2, "ClockMonth"},
        {"day", 259, 3, "ClockDay"},       {"hour", 260, 4, "ClockHour"},
        {"minute", 261, 5, "ClockMinute"}, {"second", 262, 6, "ClockSecond"},
    };
    for (int i = 0; i < 6; ++i) {
        Point& p =
            b.add(std::string("rtc.") + fields[i].field, std::string("RTC ") + fields[i].field,
                  Unit::None, Access::ReadWrite, false, Ref{Q::RtcField, static_cast<uint8_t>(i)});
        p.write = WriteKind::Rtc;
        p.integer = mb(static_cast<uint16_t>(3251 + i), Repr::Uint16, "");
        p.bacnet = av(fields[i].av);
        p.snmp = mib(G::Clock, fields[i].arc, fields[i].descriptor);
    }
    {
        Point& p = b.add("rtc.status", "RTC set (1) or not (0)", Unit::None, Access::Read, false,
                         Ref{Q::RtcStatus});
        p.integer = mb(3257, Repr::Uint16, "");
        p.bacnet = ai(3234);
        p.snmp = mib(G::Clock, 7, "ClockSet");
    }
    {
        Point& p = b.add("rtc.control", "RTC_Control (0 BACnet, 1 Modbus)", Unit::None,
                         Access::Read, false, Ref{Q::RtcControl});
        p.integer = mb(3258, Repr::Uint16, "");
        p.bacnet = ai(3235);
        p.snmp = mib(G::Clock, 8, "ClockControl");
    }
    for (int c = 1; c <= kMaxBranchChannels; ++c) {
        Point& p = b.add("ch" + s(c) + ".kwh_snapshot", channel_name(c) + " energy snapshot",
                         Unit::KilowattHours, Access::Read, true, ch(Q::ChKwhSnapshot, c));
        p.channel = c;
        p.cov_increment = 1.0;
        p.integer = mb(static_cast<uint16_t>(3301 + 2 * (c - 1)), Repr::Int32, "",
                       static_cast<uint16_t>(1083 + c));
        p.floating = fl(static_cast<uint16_t>(3401 + 2 * (c - 1)));
        p.bacnet = ai(3235 + c);
        p.snmp = mib(G::Branch, 8, "BranchKwhSnapshot", c);
    }
    Point& m = b.add("mains.kwh_snapshot", "Mains energy snapshot", Unit::KilowattHours,
                     Access::Read, true, gr(Q::GrKwhSnapshot, GroupKind::Mains, 1));
    m.cov_increment = 1.0;
    m.integer = mb(3385, Repr::Int32, "", 291);
    m.floating = fl(3485);
    m.bacnet = ai(3278);
    m.snmp = mib(G::Mains, 6, "MainsKwhSnapshot");
}

// ---------------------------------------------------------------- info and custom phase map
void tail_section(Builder& b) {
    {
        Point& p = b.add("fw.modbus_address", "Modbus address", Unit::None, Access::Read, false,
                         Ref{Q::ModbusAddress});
        p.integer = mb(60000, Repr::Uint16, "Modbus Address (based on DIPswitch settings)");
        p.bacnet = ai(3279);
        p.snmp = mib(G::Product, 7, "ModbusAddress");
    }
    {
        Point& p = b.add("fw.baudrate", "Baud rate / 100", Unit::None, Access::Read, false,
                         Ref{Q::Baudrate});
        p.integer = mb(60001, Repr::Uint16, "Baudrate (based on DIPswitch settings)");
        p.bacnet = ai(3280);
        p.snmp = mib(G::Product, 8, "BaudRate");
    }
    b.add("fw.password", "Password (reads 0)", Unit::None, Access::Read, false, Ref{Q::Reserved})
        .integer = mb(60002, Repr::Uint16, "Password (always reads 0)");
    b.add("fw.selftest", "Self test (reads 0)", Unit::None, Access::Read, false, Ref{Q::Reserved})
        .integer = mb(60003, Repr::Uint16, "Selftest (always reads 0)");
    {
        Point& p = b.add("fw.running", "Application running", Unit::None, Access::Read, false,
                         Ref{Q::Running});
        p.integer = mb(60004, Repr::Uint16,
                       "PLOS (reads 0 if application missing, reads > 0 if application running)");
        p.bacnet = ai(3281);
        p.snmp = mib(G::Product, 9, "ApplicationRunning");
    }
    {
        Point& p =
            b.setting("user_defined", "User defined settings (62017)", Unit::Bits, "user_defined");
        p.integer = mb(62017, Repr::Uint16, "User Defined Status Register");
        p.bacnet = av(164);
        p.snmp = mib(G::Setup, 4, "UserDefinedSettings");
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.setting("ch" + s(c) + ".phase", channel_name(c) + " voltage phase", Unit::None,
                             "phase." + s(c));
        p.channel = c;
        std::string map = c == kNeutralAuxChannel ? "N/A No Power Calculations for Aux Channel 4"
                          : aux(c) ? "Voltage Phase for Aux Channel " + s(c - kMaxBranchChannels)
                                   : "Voltage Phase for Branch Channel " + s(c);
        p.integer = mb(static_cast<uint16_t>(62115 + c), Repr::Uint16, map);
        p.bacnet = av(164 + c);
        p.snmp = mib(G::ChannelConfig, 4, "ChannelVoltagePhase", c);
    }
}

// ---------------------------------------------------------------- mains by phase (extension)
// Added after the published points (issue 14), so the catalogue's order stays that of the
// BACnet instances.
void mains_by_phase_section(Builder& b) {
    // The mains by phase (aux 1..3; aux 4, the neutral, has no power): energy,
    // energy snapshot, kW demand and max kW demand, whose totals are 254, 3385,
    // 277 and 278. Integers 3501..3518, floats 3601..3624 (docs/modbus.md).
    struct AuxPhaseRow {
        Q q;
        Kind kind;
        const char* id;
        const char* name;
        bool nv;
        uint16_t reg;        // of aux 1; + 1 or 2 words per phase
        uint16_t float_reg;  // of aux 1; + 2 per phase
        int ai_base;         // + the aux input number
        int arc;             // in the Aux table
        const char* descriptor;
    };
    const AuxPhaseRow aux_phase_rows[] = {
        {Q::ChKwh, kKwh, "kwh", "energy", true, 3501, 3601, 3281, 10, "AuxKwh"},
        {Q::ChKwhSnapshot, kKwh, "kwh_snapshot", "energy snapshot", true, 3507, 3607, 3284, 11,
         "AuxKwhSnapshot"},
        {Q::ChKwDemand, kKw, "kw_demand", "real power demand", false, 3513, 3613, 3287, 12,
         "AuxKwDemand"},
        {Q::ChMaxKwDemand, kKw, "max_kw_demand", "max real power demand", true, 3516, 3619, 3290,
         13, "AuxMaxKwDemand"},
    };
    for (const AuxPhaseRow& r : aux_phase_rows) {
        const bool energy = r.kind.unit == Unit::KilowattHours;
        for (int ph = 0; ph < 3; ++ph) {
            const int c = kFirstAuxChannel + ph;
            Point& p = b.add("ch" + s(c) + "." + r.id, channel_name(c) + " " + r.name, r.kind.unit,
                             Access::Read, r.nv, ch(r.q, c));
            p.channel = c;
            p.cov_increment = energy ? 1.0 : 0.5;
            // Energy at the mains energy scale (291: a phase fits where the total does), power
            // at the phase's power scale (288..290, as KW Phase 259..261).
            p.integer = mb(static_cast<uint16_t>(r.reg + (energy ? 2 : 1) * ph),
                           energy ? Repr::Int32 : Repr::Int16, "",
                           energy ? uint16_t{291} : static_cast<uint16_t>(288 + ph));
            p.floating = fl(static_cast<uint16_t>(r.float_reg + 2 * ph));
            p.bacnet = ai(r.ai_base + aux_number(c));
            p.snmp = mib(G::Aux, r.arc, r.descriptor, aux_number(c));
        }
    }
}

// The gateway's points: settings of the whole meter, on the BACnet router device.
void gateway_section(Builder& b) {
    {
        Point& p = b.setting("gateway.device_id_offset", "DeviceID_Offset", Unit::None,
                             "gateway.device_id_offset");
        p.bacnet = av(1);
    }
    {
        Point& p = b.setting("gateway.virt_router_net", "Virt_Router_Net", Unit::None,
                             "gateway.virt_router_net");
        p.bacnet = av(2);
    }
}

}  // namespace

Catalogue::Catalogue() {
    points_.reserve(12000);
    Builder b(points_);
    common_section(b);
    single_phase_section(b);
    legacy_section(b, GroupKind::TwoPhase, kTwoPhaseMeters, 2, 4000, 5000, 44);
    legacy_section(b, GroupKind::ThreePhase, kThreePhaseMeters, 3, 7000, 8000, 65);
    logical_section(b);
    logical_by_circuit_section(b);
    extension_section(b);
    tail_section(b);
    mains_by_phase_section(b);
    Builder gateway(gateway_);
    gateway_section(gateway);
    std::unordered_map<std::string_view, size_t> seen;
    for (size_t i = 0; i < points_.size(); ++i) {
        if (!seen.emplace(points_[i].id, i).second) {
            throw std::logic_error("duplicate point id " + points_[i].id);
        }
    }
}

const Catalogue& Catalogue::instance() {
    static const Catalogue c;
    return c;
}

const Point* Catalogue::find(std::string_view id) const {
    static const std::unordered_map<std::string_view, const Point*> index = [this] {
        std::unordered_map<std::string_view, const Point*> m;
        for (const Point& p : points_)
            m.emplace(p.id, &p);
        return m;
    }();
    auto it = index.find(id);
    return it == index.end() ? nullptr : it->second;
}

}  // namespace openbcpm::points
