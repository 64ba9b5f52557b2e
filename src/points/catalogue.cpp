#include "points/catalogue.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_map>

namespace openbcpm::points {

std::string_view unit_symbol(Unit u) {
    switch (u) {
        case Unit::None:
            return "";
        case Unit::Amps:
            return "A";
        case Unit::Kilowatts:
            return "kW";
        case Unit::KilovoltAmps:
            return "kVA";
        case Unit::KilowattHours:
            return "kWh";
        case Unit::Volts:
            return "V";
        case Unit::Hertz:
            return "Hz";
        case Unit::Degrees:
            return "deg";
        case Unit::PowerFactor:
            return "PF";
        case Unit::PercentTenths:
            return "0.1%";
        case Unit::Seconds:
            return "s";
        case Unit::Count:
            return "count";
        case Unit::Bits:
            return "bits";
        case Unit::Text:
            return "text";
        case Unit::Exponent:
            return "10^n";
    }
    return "";
}

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
    b.add("serial_number_msw", "Serial number (high word)", Unit::None, Access::Read, true,
          Ref{Q::SerialMsw})
        .integer = mb(1, Repr::Uint16, "Serial Number MSW");
    b.add("serial_number_lsw", "Serial number (low word)", Unit::None, Access::Read, true,
          Ref{Q::SerialLsw})
        .integer = mb(2, Repr::Uint16, "Serial Number LSW");
    b.add("firmware_rs", "Firmware revision RS", Unit::None, Access::Read, true, Ref{Q::FirmwareRs})
        .integer = mb(3, Repr::Uint16, "Firmware Revision RS");
    b.add("firmware_os", "Firmware revision OS", Unit::None, Access::Read, true, Ref{Q::FirmwareOs})
        .integer = mb(4, Repr::Uint16, "Firmware Revision OS");
    b.add("device_id", "Device ID (model)", Unit::None, Access::Read, true, Ref{Q::DeviceId})
        .integer = mb(5, Repr::Uint16, "Device ID:");
    b.setting("configuration", "Strip configuration", Unit::None, "configuration").integer =
        mb(6, Repr::Uint16, "Configuration (bit 0 is LSB):");
    {
        Point& p = b.setting("location", "Location string", Unit::Text, "location");
        p.integer = mb(7, Repr::Text, "Location String");
        p.integer.words = 64;
    }
    b.setting("demand_subintervals", "Sub-intervals per demand interval", Unit::Count,
              "demand_subintervals")
        .integer = mb(71, Repr::Uint16, "Number of Sub-Intervals per Demand Interval");
    b.setting("subinterval_seconds", "Demand sub-interval length", Unit::Seconds,
              "subinterval_seconds")
        .integer =
        mb(72, Repr::Uint16, "Sub-Interval Length in seconds. For sync-to-comms, set this to 0.");
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.setting("ch" + s(c) + ".ct_size", channel_name(c) + " CT size", Unit::Amps,
                             "ct_size." + s(c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(72 + c), Repr::Uint16,
                       aux(c) ? "AUX CT Size" : "Branch CT Size");
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.setting("ch" + s(c) + ".breaker_size", channel_name(c) + " breaker size",
                             Unit::Amps, "breaker_size." + s(c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(118 + c), Repr::Uint16,
                       aux(c) ? "AUX Breaker Size" : "Branch Breaker Size");
    }
    struct SettingRow {
        uint16_t reg;
        const char* key;
        const char* name;
        Unit unit;
        const char* map_name;
        int8_t scale;
    };
    const SettingRow timers[] = {
        {165, "hh_delay", "High-high latching delay", Unit::Seconds,
         "High-High Latching Alarm Time Delay", 0},
        {166, "h_delay", "High latching delay", Unit::Seconds, "High Latching Alarm Time Delay", 0},
        {167, "l_delay", "Low latching delay", Unit::Seconds, "Low Latching Alarm Time Delay", 0},
        {168, "ll_delay", "Low-low latching delay", Unit::Seconds,
         "Low-Low Latching Alarm Time Delay", 0},
        {169, "on_time", "Latching ON time", Unit::Seconds,
         "Latching Alarm ON Time (when current is above Low-Low alarm & ON Time elapses then ON "
         "state is declared)",
         0},
        {170, "off_time", "Time until OFF state", Unit::Seconds,
         "Latching Alarms time until OFF state declared (current is below Low-Low alarm and a ON "
         "state was declared)",
         0},
        {171, "hh_threshold", "High-high latching threshold", Unit::PercentTenths,
         "High-High Latching Alarm Threshold", -1},
        {172, "h_threshold", "High latching threshold", Unit::PercentTenths,
         "High Alarm Latching Alarm Threshold", -1},
        {173, "l_threshold", "Low latching threshold", Unit::PercentTenths,
         "Low Alarm Latching Alarm Threshold", -1},
        {174, "ll_threshold", "Low-low latching threshold", Unit::PercentTenths,
         "Low Low Latching Alarm Threshold", -1},
        {175, "nl_high_threshold", "Non-latching high threshold", Unit::PercentTenths,
         "Non-Latching High Threshold", -1},
        {176, "nl_low_threshold", "Non-latching low threshold", Unit::PercentTenths,
         "Non-Latching Low Threshold", -1},
        {177, "nl_hysteresis", "Non-latching hysteresis", Unit::PercentTenths,
         "Non-Latching Hysteresis (0-100% percent of setpoint)", -1},
    };
    for (const SettingRow& r : timers) {
        b.setting(r.key, r.name, r.unit, r.key).integer =
            mb(r.reg, r.scale ? Repr::Int16 : Repr::Uint16, r.map_name, 0, r.scale);
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.add("ch" + s(c) + ".event_status", channel_name(c) + " event status",
                         Unit::Bits, Access::ReadWrite, true, ch(Q::EvStatus, c));
        p.write = WriteKind::LatchClear;
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(177 + c), Repr::Uint16,
                       aux(c) ? "AUX Alarm Status" : "Branch Alarm Status");
    }
    b.add("global_latching_status", "Global latching event status", Unit::Bits, Access::Read, true,
          Ref{Q::EvGlobalLatching})
        .integer = mb(224, Repr::Uint16, "Global Latching Alarm Status");
    b.add("global_non_latching_status", "Global non-latching event status", Unit::Bits,
          Access::Read, false, Ref{Q::EvGlobalNonLatching})
        .integer = mb(225, Repr::Uint16, "Global Non-Latching Alarm Status");
    b.add("recent_latching_channel", "Most recent latching event channel", Unit::None, Access::Read,
          true, Ref{Q::EvRecentLatching})
        .integer = mb(226, Repr::Uint16, "Global Most-Recent Latching Alarm Channel");
    b.add("recent_non_latching_channel", "Most recent non-latching event channel", Unit::None,
          Access::Read, true, Ref{Q::EvRecentNonLatching})
        .integer = mb(227, Repr::Uint16, "Global Most-Recent Non-Latching Alarm Channel");
    b.add("channels_latched", "Channels in latching event", Unit::Count, Access::Read, false,
          Ref{Q::EvChannelsLatched})
        .integer =
        mb(228, Repr::Uint16, "Total number of channels in alarm (based on latching alarms)");
    b.add("channels_non_latched", "Channels in non-latching event", Unit::Count, Access::Read,
          false, Ref{Q::EvChannelsNonLatched})
        .integer =
        mb(229, Repr::Uint16, "Total number of channels in alarm (based on non-latching alarms)");
    for (int i = 1; i <= 6; ++i) {
        b.add("error_bitmap" + s(i), "Error bitmap " + s(i), Unit::Bits, Access::Read, false,
              Ref{Q::Reserved})
            .integer = mb(static_cast<uint16_t>(229 + i), Repr::Uint16,
                          "Error Bitmap" + s(i) + " (placeholder - bits TBD)");
    }
    const SettingRow voltage_alarms[] = {
        {236, "over_voltage_timer", "Overvoltage event timer", Unit::Seconds,
         "Overvoltage Alarm Timer", 0},
        {237, "under_voltage_timer", "Undervoltage event timer", Unit::Seconds,
         "Undervoltage Alarm Timer", 0},
        {238, "over_voltage_threshold", "Overvoltage threshold (L-L)", Unit::Volts,
         "Overvoltage Alarm Threshold", 0},
        {239, "under_voltage_threshold", "Undervoltage threshold (L-L)", Unit::Volts,
         "Undervoltage Alarm Threshold", 0},
        {240, "voltage_hysteresis", "Voltage event hysteresis", Unit::PercentTenths,
         "Voltage Alarm Hysteresis (percentage of setpoint)", -1},
    };
    for (const SettingRow& r : voltage_alarms) {
        Point& p = b.setting(r.key, r.name, r.unit, r.key);
        const bool volts = r.reg == 238 || r.reg == 239;
        p.integer = mb(r.reg, volts || r.scale ? Repr::Int16 : Repr::Uint16, r.map_name,
                       volts ? 244 : 0, r.scale);
    }
    const char* pairs[] = {"ab", "bc", "ca"};
    for (int i = 0; i < 3; ++i) {
        Point& p = b.add(std::string("voltage_") + pairs[i] + ".event_status",
                         std::string("Voltage ") + pairs[i] + " event status", Unit::Bits,
                         Access::ReadWrite, true, Ref{Q::EvVoltageStatus, static_cast<uint8_t>(i)});
        p.write = WriteKind::LatchClear;
        p.integer = mb(static_cast<uint16_t>(241 + i), Repr::Uint16, "Voltage Alarm Status");
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
    struct VoltRow {
        const char* id;
        const char* name;
        Ref ref;
        const char* map_name;
    };
    const VoltRow volts[] = {
        {"volts_ln_average", "Voltage L-N average", Ref{Q::VoltLnAverage}, "VOLTS L-N 3ph Ave"},
        {"volts_ll_average", "Voltage L-L average", Ref{Q::VoltLlAverage}, "VOLTS L-L 3ph Ave"},
        {"volts_an", "Voltage A-N", Ref{Q::VoltLn, 0}, "VOLTS A-N"},
        {"volts_bn", "Voltage B-N", Ref{Q::VoltLn, 1}, "VOLTS B-N"},
        {"volts_cn", "Voltage C-N", Ref{Q::VoltLn, 2}, "VOLTS C-N"},
        {"volts_ab", "Voltage A-B", Ref{Q::VoltLl, 0}, "VOLTS A-B"},
        {"volts_bc", "Voltage B-C", Ref{Q::VoltLl, 1}, "VOLTS B-C"},
        {"volts_ca", "Voltage A-C", Ref{Q::VoltLl, 2}, "VOLTS A-C"},
    };
    for (size_t i = 0; i < std::size(volts); ++i) {
        Point& p =
            b.add(volts[i].id, volts[i].name, Unit::Volts, Access::Read, false, volts[i].ref);
        p.integer = mb(static_cast<uint16_t>(246 + i), Repr::Int16, volts[i].map_name, 244);
        p.floating = fl(static_cast<uint16_t>(602 + 2 * i));
        p.cov_increment = 1.0;
    }

    // Aux inputs: the mains as a 3-phase meter and the four aux channels.
    const GroupKind M = GroupKind::Mains;
    auto mains = [&](const char* id, const char* name, Unit u, double cov, Ref r, uint16_t reg,
                     Repr repr, const char* map_name, uint16_t scale, int8_t fixed_scale,
                     uint16_t float_reg, bool nv) {
        Point& p =
            b.add(std::string("mains.") + id, std::string("Mains ") + name, u, Access::Read, nv, r);
        p.integer = mb(reg, repr, map_name, scale, fixed_scale);
        if (float_reg) p.floating = fl(float_reg);
        p.cov_increment = cov;
    };
    mains("kwh", "energy", Unit::KilowattHours, 1.0, gr(Q::GrKwh, M, 1), 254, Repr::Int32,
          "3ph KWH (MSW)", 291, 0, 618, true);
    mains("kw", "real power", Unit::Kilowatts, 0.5, gr(Q::GrKw, M, 1), 256, Repr::Int16,
          "3ph Total KW", 292, 0, 620, false);
    mains("pf", "power factor", Unit::PowerFactor, 0.05, gr(Q::GrPf, M, 1), 257, Repr::Int16,
          "3ph Total PF", 0, -3, 622, false);
    mains("current", "average current", Unit::Amps, 1.0, gr(Q::GrCurrent, M, 1), 258, Repr::Int16,
          "3ph Average Current (phases 1,2,3)", 293, 0, 624, false);
    for (int ph = 0; ph < 3; ++ph) {
        const int c = kFirstAuxChannel + ph;
        Point& p = b.add("ch" + s(c) + ".kw", channel_name(c) + " real power", Unit::Kilowatts,
                         Access::Read, false, ch(Q::ChKw, c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(259 + ph), Repr::Int16, "KW Phase " + s(ph + 1),
                       static_cast<uint16_t>(288 + ph));
        p.floating = fl(static_cast<uint16_t>(626 + 2 * ph));
        p.cov_increment = 0.5;
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
    }
    struct AuxRow {
        Q q;
        const char* id;
        const char* name;
        uint16_t reg;
        const char* map;
        uint16_t float_reg;
        bool nv;
    };
    const AuxRow aux_rows[] = {
        {Q::ChCurrent, "current", "current", 265, "Current Phase ", 638, false},
        {Q::ChCurrentDemand, "current_demand", "current demand", 269,
         "Present Current Demand Phase ", 646, false},
        {Q::ChMaxCurrentDemand, "max_current_demand", "max current demand", 273,
         "Max Current Demand Phase ", 654, true},
        {Q::ChMaxCurrent, "max_current", "max current", 279, "Max Current Phase ", 666, true},
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
        }
        if (r.q == Q::ChMaxCurrentDemand) {
            mains("kw_demand", "real power demand", Unit::Kilowatts, 0.5, gr(Q::GrKwDemand, M, 1),
                  277, Repr::Int16, "3ph Present KW-Total Demand", 292, 0, 662, false);
            mains("max_kw_demand", "max real power demand", Unit::Kilowatts, 0.5,
                  gr(Q::GrMaxKwDemand, M, 1), 278, Repr::Int16, "3ph Max KW-Total Demand", 292, 0,
                  664, true);
        }
    }
    mains("max_kw", "max real power", Unit::Kilowatts, 0.5, gr(Q::GrMaxKw, M, 1), 283, Repr::Int16,
          "3ph Max KW-Total", 292, 0, 674, true);
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
    b.reset("aux_reset", "AUX resets", ResetScope::Aux, 0).integer =
        mb(294, Repr::Uint16, "AUX Resets - Write the listed value to perform the listed reset:");
    b.reset("global_reset", "Global reset", ResetScope::Global, 0).integer =
        mb(295, Repr::Uint16, "Global Reset - Write the listed value to perform the listed reset:");

    // Event counters.
    const char* level_names[] = {"High High", "High", "Low", "Low Low", "OFF state"};
    const char* level_ids[] = {"hh", "h", "l", "ll", "off"};
    for (int l = 0; l < kLatchLevels; ++l) {
        const std::string map =
            l == 4 ? "Latching Alarm OFF state Global Counter"
                   : std::string(level_names[l]) + " Latching Alarm Global Counter";
        b.add(std::string("global_counter.") + level_ids[l],
              std::string(level_names[l]) + " global event counter", Unit::Count, Access::Read,
              true, Ref{Q::EvGlobalCounter, static_cast<uint8_t>(l)})
            .integer = mb(static_cast<uint16_t>(296 + l), Repr::Uint16, map);
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
        }
    }
    // Diagnostics.
    {
        Point& p = b.add("power_up_counter", "Power-up counter", Unit::Count, Access::ReadWrite,
                         true, Ref{Q::PowerUpCounter});
        p.write = WriteKind::PowerUpCounter;
        p.integer = mb(531, Repr::Uint16, "Power Up Counter");
    }
    b.add("device_health", "Device health", Unit::Bits, Access::Read, false, Ref{Q::Health})
        .integer = mb(532, Repr::Uint16, "Device Health");
    for (int i = 0; i < 6; ++i) {
        b.add("reserved" + s(533 + i), "Reserved", Unit::None, Access::Read, false,
              Ref{Q::Reserved})
            .integer = mb(static_cast<uint16_t>(533 + i), Repr::Uint16, "Reserved for future use");
    }
    b.add("product_id", "Product ID", Unit::Bits, Access::Read, false, Ref{Q::ProductId}).integer =
        mb(539, Repr::Uint16, "Product ID");
    mains("kva", "apparent power", Unit::KilovoltAmps, 0.5, gr(Q::GrKva, M, 1), 540, Repr::Int16,
          "3ph Total KVA", 292, 0, 676, false);
    for (int ph = 0; ph < 3; ++ph) {
        const int c = kFirstAuxChannel + ph;
        Point& p = b.add("ch" + s(c) + ".kva", channel_name(c) + " apparent power",
                         Unit::KilovoltAmps, Access::Read, false, ch(Q::ChKva, c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(541 + ph), Repr::Int16, "KVA Phase " + s(ph + 1),
                       static_cast<uint16_t>(288 + ph));
        p.floating = fl(static_cast<uint16_t>(678 + 2 * ph));
        p.cov_increment = 0.5;
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
    };
    const Row rows[] = {
        {Q::ChKwh, kKwh, "kwh", "energy", "KWH (MSW)", 1168, 2000, 1084, true},
        {Q::ChKw, kKw, "kw", "real power", "KW", 1252, 2084, 1042, false},
        {Q::ChPf, kPf, "pf", "power factor", "PF", 1294, 2168, 0, false},
        {Q::ChCurrent, kCurrent, "current", "current", "Current", 1336, 2252, 1000, false},
        {Q::ChKwDemand, kKw, "kw_demand", "real power demand", "Present KW Demand", 1378, 2336,
         1042, false},
        {Q::ChMaxKwDemand, kKw, "max_kw_demand", "max real power demand", "Max KW Demand", 1420,
         2420, 1042, true},
        {Q::ChCurrentDemand, kCurrent, "current_demand", "current demand", "Present Current Demand",
         1462, 2504, 1000, false},
        {Q::ChMaxCurrentDemand, kCurrent, "max_current_demand", "max current demand",
         "Max Current Demand", 1504, 2588, 1000, true},
        {Q::ChMaxKw, kKw, "max_kw", "max real power", "Max KW-Total", 1546, 2672, 1042, true},
        {Q::ChMaxCurrent, kCurrent, "max_current", "max current", "Max Current", 1588, 2756, 1000,
         true},
        {Q::ChKva, kKva, "kva", "apparent power", "KVA", 1630, 2840, 1042, false},
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
        }
    }
}

// ---------------------------------------------------------------- legacy 21 two-phase and 14
// three-phase meters
void legacy_section(Builder& b, GroupKind kind, int meters, int phases, uint16_t base,
                    uint16_t float_base) {
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
    };
    const Row rows[] = {
        {Ref{Q::GrKwh}, false, "kwh", "energy", kKwh, "KWH (MSW)", 'e', true},
        {Ref{Q::GrKw}, false, "kw", "total real power", kKw, "KW Total", 'p', false},
        {Ref{Q::GrPf}, false, "pf", "total power factor", kPf, "PF Total", 'f', false},
        {Ref{Q::GrCurrent}, false, "current", "average current", kCurrent, avg, 'c', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChKw}, true, "kw_phase", "real power phase ",
         kKw, "KW Phase ", 'p', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChPf}, true, "pf_phase",
         "power factor phase ", kPf, "PF Phase ", 'f', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChCurrent}, true, "current_phase",
         "current phase ", kCurrent, "Current Phase ", 'c', false},
        {Ref{Q::GrKwDemand}, false, "kw_demand", "total real power demand", kKw,
         "Present KW-Total Demand", 'p', false},
        {Ref{Q::GrMaxKwDemand}, false, "max_kw_demand", "max total real power demand", kKw,
         "Max KW-Total Demand", 'p', true},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChCurrentDemand}, true,
         "current_demand_phase", "current demand phase ", kCurrent, "Present Current Demand Phase ",
         'c', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChMaxCurrentDemand}, true,
         "max_current_demand_phase", "max current demand phase ", kCurrent,
         "Max Current Demand Phase ", 'c', true},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChMaxCurrent}, true, "max_current_phase",
         "max current phase ", kCurrent, "Max Current Phase ", 'c', true},
        {Ref{Q::GrMaxKw}, false, "max_kw", "max total real power", kKw, "Max KW Total", 'p', true},
        {Ref{Q::GrKva}, false, "kva", "total apparent power", kKva, "KVA Total", 'p', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChKva}, true, "kva_phase",
         "apparent power phase ", kKva, "KVA Phase ", 'p', false},
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
};

const std::vector<LogicalRow>& logical_rows() {
    static const std::vector<LogicalRow> rows = {
        {Ref{Q::GrKwh}, false, "kwh", "energy", kKwh, 'e', true},
        {Ref{Q::GrKw}, false, "kw", "total real power", kKw, 'p', false},
        {Ref{Q::GrKva}, false, "kva", "total apparent power", kKva, 'p', false},
        {Ref{Q::GrPf}, false, "pf", "total power factor", kPf, 'f', false},
        {Ref{Q::GrCurrent}, false, "current", "average current", kCurrent, 'c', false},
        {Ref{Q::GrKwDemand}, false, "kw_demand", "total real power demand", kKw, 'p', false},
        {Ref{Q::GrMaxKwDemand}, false, "max_kw_demand", "max total real power demand", kKw, 'p',
         true},
        {Ref{Q::GrCurrentDemand}, false, "current_demand", "average current demand", kCurrent, 'c',
         false},
        {Ref{Q::GrMaxCurrentDemand}, false, "max_current_demand", "max average current demand",
         kCurrent, 'c', true},
        {Ref{Q::GrMaxKw}, false, "max_kw", "max total real power", kKw, 'p', true},
        {Ref{Q::GrMaxCurrent}, false, "max_current", "max average current", kCurrent, 'c', true},
        {Ref{Q::GrKwhSnapshot}, false, "kwh_snapshot", "energy snapshot", kKwh, 'e', true},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChKw}, true, "kw_phase", "real power phase ",
         kKw, 'p', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChKva}, true, "kva_phase",
         "apparent power phase ", kKva, 'p', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChPf}, true, "pf_phase",
         "power factor phase ", kPf, 'f', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChCurrent}, true, "current_phase",
         "current phase ", kCurrent, 'c', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChCurrentDemand}, true,
         "current_demand_phase", "current demand phase ", kCurrent, 'c', false},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChMaxCurrent}, true, "max_current_phase",
         "max current phase ", kCurrent, 'c', true},
        {Ref{Q::GrPhase, 0, 0, GroupKind::Logical, Q::ChAngle}, true, "angle_phase",
         "current angle phase ", Kind{"angle", "angle", Unit::Degrees, 2.0}, 'a', false},
    };
    return rows;
}

// The scale registers of one logical circuit.
struct LogicalScales {
    uint16_t current = 0, power = 0, energy = 0;
};

// One value point of a logical circuit at reg (integer) and freg (float), which advance.
void add_logical_value(Builder& b, const LogicalRow& row, int lc, int ph, const std::string& id,
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
        b.add("lc" + s(lc) + ".members", "Logical circuit " + s(lc) + " channel count", Unit::Count,
              Access::Read, false, gr(Q::GrMembers, L, lc))
            .integer = mb(static_cast<uint16_t>(reg + 4 * n + lc - 1), Repr::Uint16, "", 0, 0, T);
    }
    reg = static_cast<uint16_t>(reg + 5 * n);
    for (const LogicalRow& row : logical_rows()) {
        for (int ph = 0; ph < (row.per_phase ? 3 : 1); ++ph) {
            for (int lc = 1; lc <= n; ++lc) {
                const LogicalScales scales{static_cast<uint16_t>(scale_current + lc - 1),
                                           static_cast<uint16_t>(scale_power + lc - 1),
                                           static_cast<uint16_t>(scale_energy + lc - 1)};
                add_logical_value(b, row, lc, ph, "lc" + s(lc) + ".",
                                  "Logical circuit " + s(lc) + " ", scales, T, reg, freg);
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
        for (int m = 0; m < 3; ++m) {
            Ref r = gr(Q::GrMemberChannel, L, lc);
            r.member = static_cast<uint8_t>(m);
            b.add(id + "channel" + s(m + 1), name + "channel of phase " + s(m + 1), Unit::None,
                  Access::Read, false, r)
                .integer = mb(static_cast<uint16_t>(base + 2 + m), Repr::Uint16, "");
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
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.add("ch" + s(c) + ".angle", channel_name(c) + " current phase angle",
                         Unit::Degrees, Access::Read, false, ch(Q::ChAngle, c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(3003 + c), Repr::Int16, "", 0, -1);
        p.floating = fl(static_cast<uint16_t>(3107 + 2 * (c - 1)));
        p.cov_increment = 2.0;
    }
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.setting("ch" + s(c) + ".logical_circuit", channel_name(c) + " logical circuit",
                             Unit::None, "logical_circuit." + s(c));
        p.channel = c;
        p.integer = mb(static_cast<uint16_t>(3200 + c), Repr::Uint16, "");
    }
    const char* fields[] = {"year", "month", "day", "hour", "minute", "second"};
    for (int i = 0; i < 6; ++i) {
        Point& p =
            b.add(std::string("rtc.") + fields[i], std::string("RTC ") + fields[i], Unit::None,
                  Access::ReadWrite, false, Ref{Q::RtcField, static_cast<uint8_t>(i)});
        p.write = WriteKind::Rtc;
        p.integer = mb(static_cast<uint16_t>(3251 + i), Repr::Uint16, "");
    }
    b.add("rtc.status", "RTC set (1) or not (0)", Unit::None, Access::Read, false,
          Ref{Q::RtcStatus})
        .integer = mb(3257, Repr::Uint16, "");
    b.add("rtc.control", "RTC_Control (0 BACnet, 1 Modbus)", Unit::None, Access::Read, false,
          Ref{Q::RtcControl})
        .integer = mb(3258, Repr::Uint16, "");
    for (int c = 1; c <= kMaxBranchChannels; ++c) {
        Point& p = b.add("ch" + s(c) + ".kwh_snapshot", channel_name(c) + " energy snapshot",
                         Unit::KilowattHours, Access::Read, true, ch(Q::ChKwhSnapshot, c));
        p.channel = c;
        p.cov_increment = 1.0;
        p.integer = mb(static_cast<uint16_t>(3301 + 2 * (c - 1)), Repr::Int32, "",
                       static_cast<uint16_t>(1083 + c));
        p.floating = fl(static_cast<uint16_t>(3401 + 2 * (c - 1)));
    }
    Point& m = b.add("mains.kwh_snapshot", "Mains energy snapshot", Unit::KilowattHours,
                     Access::Read, true, gr(Q::GrKwhSnapshot, GroupKind::Mains, 1));
    m.cov_increment = 1.0;
    m.integer = mb(3385, Repr::Int32, "", 291);
    m.floating = fl(3485);
}

// ---------------------------------------------------------------- info and custom phase map
void tail_section(Builder& b) {
    b.add("fw.modbus_address", "Modbus address", Unit::None, Access::Read, false,
          Ref{Q::ModbusAddress})
        .integer = mb(60000, Repr::Uint16, "Modbus Address (based on DIPswitch settings)");
    b.add("fw.baudrate", "Baud rate / 100", Unit::None, Access::Read, false, Ref{Q::Baudrate})
        .integer = mb(60001, Repr::Uint16, "Baudrate (based on DIPswitch settings)");
    b.add("fw.password", "Password (reads 0)", Unit::None, Access::Read, false, Ref{Q::Reserved})
        .integer = mb(60002, Repr::Uint16, "Password (always reads 0)");
    b.add("fw.selftest", "Self test (reads 0)", Unit::None, Access::Read, false, Ref{Q::Reserved})
        .integer = mb(60003, Repr::Uint16, "Selftest (always reads 0)");
    b.add("fw.running", "Application running", Unit::None, Access::Read, false, Ref{Q::Running})
        .integer = mb(60004, Repr::Uint16,
                      "PLOS (reads 0 if application missing, reads > 0 if application running)");
    b.setting("user_defined", "User defined settings (62017)", Unit::Bits, "user_defined").integer =
        mb(62017, Repr::Uint16, "User Defined Status Register");
    for (int c = 1; c <= kChannelsPerPanel; ++c) {
        Point& p = b.setting("ch" + s(c) + ".phase", channel_name(c) + " voltage phase", Unit::None,
                             "phase." + s(c));
        p.channel = c;
        std::string map = c == kNeutralAuxChannel ? "N/A No Power Calculations for Aux Channel 4"
                          : aux(c) ? "Voltage Phase for Aux Channel " + s(c - kMaxBranchChannels)
                                   : "Voltage Phase for Branch Channel " + s(c);
        p.integer = mb(static_cast<uint16_t>(62115 + c), Repr::Uint16, map);
    }
}

}  // namespace

Catalogue::Catalogue() {
    points_.reserve(12000);
    Builder b(points_);
    common_section(b);
    single_phase_section(b);
    legacy_section(b, GroupKind::TwoPhase, kTwoPhaseMeters, 2, 4000, 5000);
    legacy_section(b, GroupKind::ThreePhase, kThreePhaseMeters, 3, 7000, 8000);
    logical_section(b);
    logical_by_circuit_section(b);
    extension_section(b);
    tail_section(b);
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
