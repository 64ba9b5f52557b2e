#include "protocols/bacnet/ede.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <cmath>
#include <ctime>
#include <fstream>
#include <set>
#include <stdexcept>

#include "config/config.hpp"
#include "protocols/bacnet/meter_node.hpp"
#include "protocols/bacnet/meter_objects.hpp"
#include "storage/store.hpp"

namespace openbcpm::bacnet {

namespace {

constexpr const char* kHeader = "# Proposal_Engineering-Data-Exchange - B.I.G.-EU";
constexpr int kColumns = 17;

// A field of the ';'-separated files: no separator, no line break inside.
std::string field(std::string s) {
    for (char& c : s) {
        if (c == ';' || c == '\n' || c == '\r') c = c == ';' ? ',' : ' ';
    }
    return s;
}

// Whole numbers in full (4194057, not 4.19406e+06), others to float precision.
std::string number(double v) {
    if (std::fabs(v) < 1e15 && v == std::round(v)) return fmt::format("{}", std::llround(v));
    return fmt::format("{:.7g}", v);
}

// A line of the data file padded to all its columns.
std::string row(std::vector<std::string> cells) {
    cells.resize(kColumns);
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
        if (i) out += ';';
        out += field(cells[i]);
    }
    return out + "\n";
}

struct Row {
    std::string keyname;
    uint32_t device = 0;
    std::string name;
    ObjectType type = ObjectType::AnalogInput;
    uint32_t instance = 0;
    std::string description;
    std::string default_value, min_value, max_value;
    bool settable = false;
    bool cov = false;
    std::string high_limit, low_limit;
    std::string units;
    std::string address;
    std::string notification_class;
};

std::string line(const Row& r) {
    return row({r.keyname, std::to_string(r.device), r.name,
                std::to_string(static_cast<int>(r.type)), std::to_string(r.instance), r.description,
                r.default_value, r.min_value, r.max_value, r.settable ? "Y" : "N",
                r.cov ? "Y" : "N", r.high_limit, r.low_limit, "", r.units, r.address,
                r.notification_class});
}

std::string optional_number(const std::optional<float>& v) {
    return v ? number(static_cast<double>(*v)) : std::string();
}

Row object_row(const DeviceConfig& dev, const MeterObject& o, const Settings& s, int panel) {
    Row r;
    r.device = dev.instance;
    r.name = o.name;
    r.type = o.type;
    r.instance = o.instance;
    r.keyname = fmt::format("{}_{}{}", dev.name, object_type_abbreviation(o.type), o.instance);
    r.description = o.description;
    r.min_value = optional_number(o.min_value);
    r.max_value = optional_number(o.max_value);
    r.settable = o.action != MeterAction::None;
    r.cov = true;
    r.units = std::to_string(o.units);
    if (o.type == ObjectType::AnalogOutput) {
        r.default_value = number(static_cast<double>(o.relinquish_default));
    } else if (o.action == MeterAction::Setting) {
        const std::string key = o.point ? points::setting_key(*o.point, panel) : o.setting_key;
        if (const SettingDef* def = find_setting(key)) {
            if (const auto* f = std::get_if<int64_t>(&def->factory))
                r.default_value = number(static_cast<double>(*f) * o.scale);
        }
    }
    if (o.point && o.reg) r.address = fmt::format("Modbus {}", o.reg);
    if (!o.setting_key.empty()) r.address = "setting " + o.setting_key;
    if (o.notification_class) {
        r.notification_class = std::to_string(o.notification_class);
        const PanelSettings& ps = s.panel(panel);
        if (o.event_channel > kVoltageEventChannelBase) {
            r.high_limit = number(ps.over_voltage_threshold / 10.0);
            r.low_limit = number(ps.under_voltage_threshold / 10.0);
        } else {
            const int breaker = ps.breaker_size[static_cast<size_t>(o.event_channel - 1)];
            r.high_limit = number(breaker * ps.h_threshold / 1000.0);
            r.low_limit = number(breaker * ps.l_threshold / 1000.0);
        }
    }
    return r;
}

Row device_row(const DeviceConfig& dev) {
    Row r;
    r.keyname = dev.name;
    r.device = dev.instance;
    r.name = dev.name;
    r.type = ObjectType::Device;
    r.instance = dev.instance;
    r.description = dev.description;
    return r;
}

Row class_row(const DeviceConfig& dev, const MeterClass& c) {
    Row r;
    r.keyname = fmt::format("{}_NC{}", dev.name, c.instance);
    r.device = dev.instance;
    r.name = c.name;
    r.type = ObjectType::NotificationClass;
    r.instance = c.instance;
    r.description = c.description;
    return r;
}

}  // namespace

EdeFiles ede_files(const Settings& s,
                   const std::array<DeviceIdentityOverride, 1 + kMaxPanels>& overrides,
                   const std::string& date) {
    const RouterConfig cfg = router_config_from_settings(s, overrides);
    EdeFiles f;
    f.project = s.model.model_name();
    std::string& e = f.ede;
    e += row({kHeader});
    e += row({"PROJECT_NAME", f.project + " branch circuit power meter (openbcpm)"});
    e += row({"VERSION_OF_REFERENCEFILE", "1"});
    e += row({"TIMESTAMP_OF_LAST_CHANGE", date});
    e += row({"AUTHOR_OF_LAST_CHANGE", "openbcpm export ede"});
    e += row({"VERSION_OF_LAYOUT", "2.3"});
    e += row({"#mandatory", "mandatory", "mandatory", "mandatory", "mandatory", "optional",
              "optional", "optional", "optional", "optional", "optional", "optional", "optional",
              "optional", "optional", "optional", "optional"});
    e += row({"# keyname", "device obj.-instance", "object-name", "object-type", "object-instance",
              "description", "present-value-default", "min-present-value", "max-present-value",
              "settable", "supports COV", "hi-limit", "low-limit", "state-text-reference",
              "unit-code", "vendor-specific-address", "notification-class"});
    std::set<uint32_t> units_used;
    std::set<ObjectType> types_used{ObjectType::Device};
    e += line(device_row(cfg.router));
    for (const MeterObject& o : router_object_table()) {
        e += line(object_row(cfg.router, o, s, 1));
        units_used.insert(o.units);
        types_used.insert(o.type);
    }
    const auto objects = panel_objects(s.model);
    for (size_t p = 0; p < cfg.panels.size(); ++p) {
        const DeviceConfig& dev = cfg.panels[p];
        e += line(device_row(dev));
        for (const MeterObject* o : objects) {
            e += line(object_row(dev, *o, s, static_cast<int>(p + 1)));
            units_used.insert(o->units);
            types_used.insert(o->type);
        }
        for (const MeterClass& c : panel_classes()) {
            e += line(class_row(dev, c));
            types_used.insert(ObjectType::NotificationClass);
        }
    }
    // The meter has no binary or multi-state objects: the table is empty.
    f.state_texts =
        "#State Text Reference\n#Reference Number;Text 1 or Inactive-Text;Text 2 or "
        "Active-Text;Text 3;Text 4;Text 5;...;Text n\n";
    f.units = "#Encoding of BACnet Engineering Units\n#Code;Unit Text\n";
    for (uint32_t u : units_used)
        f.units += fmt::format("{};{}\n", u, units_name(u));
    f.object_types = "#Encoding of BACnet Object Types\n#Code;Object Type\n";
    for (ObjectType t : types_used)
        f.object_types += fmt::format("{};{}\n", static_cast<int>(t), object_type_name(t));
    return f;
}

std::vector<std::filesystem::path> write_ede(const std::filesystem::path& dir, const EdeFiles& f) {
    std::filesystem::create_directories(dir);
    std::vector<std::filesystem::path> out;
    for (const auto& [suffix, text] :
         {std::pair{"_EDE.csv", &f.ede}, std::pair{"_StateTexts.csv", &f.state_texts},
          std::pair{"_Units.csv", &f.units}, std::pair{"_ObjTypes.csv", &f.object_types}}) {
        const auto path = dir / (f.project + suffix);
        std::ofstream o(path, std::ios::binary);
        o << *text;
        if (!o) throw std::runtime_error("cannot write " + path.string());
        out.push_back(path);
    }
    return out;
}

std::vector<std::filesystem::path> export_ede(const std::filesystem::path& dir,
                                              const std::string& config_file,
                                              const std::string& state_dir) {
    const Config cfg = config_file.empty() ? default_config() : load_config_file(config_file);
    Settings settings = cfg.settings;
    std::array<DeviceIdentityOverride, 1 + kMaxPanels> overrides{};
    if (!state_dir.empty()) {
        if (!std::filesystem::exists(std::filesystem::path(state_dir) / "openbcpm.db"))
            throw std::runtime_error("no meter state in " + state_dir);
        // The settings as `run` would merge them, and the identities written over BACnet.
        Store store(state_dir, Store::OnDamage::Refuse);  // a reader changes nothing
        std::vector<std::string> warnings;
        settings = merge_settings(store, cfg.settings, cfg.explicit_settings, &warnings);
        for (const auto& w : warnings)
            spdlog::warn("{}", w);
        overrides = load_identity_overrides(&store);
    }
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
    return write_ede(dir, ede_files(settings, overrides, date));
}

// ---------------------------------------------------------------------------
// docs/bacnet-objects.md

namespace {

struct Numbered {
    std::string shape;          // the name with each number replaced by '#'
    std::vector<long> numbers;  // the numbers in order
};

Numbered numbered(const std::string& name) {
    Numbered n;
    for (size_t i = 0; i < name.size();) {
        if (std::isdigit(static_cast<unsigned char>(name[i]))) {
            size_t j = i;
            while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j])))
                ++j;
            n.numbers.push_back(std::stol(name.substr(i, j - i)));
            n.shape += '#';
            i = j;
        } else {
            n.shape += name[i++];
        }
    }
    return n;
}

// The one position where b's numbers are a's plus one (the rest equal), or -1.
int stepping_position(const Numbered& a, const Numbered& b) {
    if (a.shape != b.shape || a.numbers.size() != b.numbers.size()) return -1;
    int pos = -1;
    for (size_t i = 0; i < a.numbers.size(); ++i) {
        if (a.numbers[i] == b.numbers[i]) continue;
        if (b.numbers[i] != a.numbers[i] + 1 || pos != -1) return -1;
        pos = static_cast<int>(i);
    }
    return pos;
}

std::string with_range(const Numbered& first, int pos, long last) {
    std::string out;
    size_t k = 0;
    for (char c : first.shape) {
        if (c != '#') {
            out += c;
            continue;
        }
        if (static_cast<int>(k) == pos)
            out += fmt::format("{}–{}", first.numbers[k], last);
        else
            out += std::to_string(first.numbers[k]);
        ++k;
    }
    return out;
}

std::string limits(const MeterObject& o) {
    if (!o.min_value) return "";
    return number(static_cast<double>(*o.min_value)) + " … " +
           number(static_cast<double>(*o.max_value));
}

std::string action_name(const MeterObject& o) {
    switch (o.action) {
        case MeterAction::None:
            return "";
        case MeterAction::Setting:
            return "setting";
        case MeterAction::LatchClear:
            return "a 0 bit clears that latched event";
        case MeterAction::PowerUpCounter:
            return "counter";
        case MeterAction::Rtc:
            return "RTC field (RTC_Control = 0)";
        case MeterAction::Reset:
            return o.point && o.point->reset_scope == points::ResetScope::Global
                       ? "codes 26012, 26013, 31010, 10203, 29877, 20097"
                       : "codes 10203, 29877";
    }
    return "";
}

}  // namespace

std::string objects_markdown() {
    std::string out;
    out += "# BACnet objects of the meter\n\n";
    out +=
        "Generated from the point catalogue, which pins each object's type and instance "
        "(`Point::bacnet` in `src/points/catalogue.cpp`; which points are objects: "
        "`src/protocols/bacnet/meter_objects.cpp`); an instance never moves "
        "(docs/decisions.md, Pinned identities). "
        "`bacnet_unit_tests` checks that this file is current (run them with "
        "`OPENBCPM_WRITE_DOCS=1` to rewrite it). The same list, per device and with the "
        "meter's identities, comes out of `openbcpm export ede`.\n\n";
    out +=
        "Each panel device (Device ID = DeviceID_Offset + Modbus address) has the objects "
        "below; the router device (Device ID = DeviceID_Offset) has AV1 and AV2. Instances "
        "do not depend on the model: a channel the model does not have has no object, the "
        "other objects keep their numbers. Consecutive objects that differ only by one "
        "number (a channel, a meter, a circuit) share a line.\n\n";
    out +=
        "Present_Value is a REAL in the units shown. Analog Inputs whose value the present "
        "configuration does not give (a logical circuit or a 2/3-phase meter that is not "
        "formed) read 0 with Reliability configuration-error and the fault flag set. Writes "
        "outside the limits, or refused by the meter's validation, answer "
        "`property/value-out-of-range` and change nothing.\n\n";
    out +=
        "## Router device\n\n| Object | Name | Units | Limits | Meaning |\n| --- | --- | --- | "
        "--- | --- |\n";
    for (const MeterObject& o : router_object_table()) {
        out += fmt::format("| AV{} | {} | {} | {} | {} |\n", o.instance, o.name,
                           units_name(o.units), limits(o), o.description);
    }
    out += "\n## Panel devices\n\n";
    out +=
        "| Object | Name | Units | Modbus register | Writes | Limits | COV increment | "
        "Events |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n";
    const auto& table = panel_object_table();
    size_t i = 0;
    while (i < table.size()) {
        const MeterObject& first = table[i];
        const Numbered fn = numbered(first.name);
        size_t j = i + 1;
        int pos = -1;
        long reg_step = 0;
        Numbered prev = fn;
        while (j < table.size()) {
            const MeterObject& o = table[j];
            const MeterObject& p = table[j - 1];
            const Numbered on = numbered(o.name);
            const int step = stepping_position(prev, on);
            const long rs = static_cast<long>(o.reg) - static_cast<long>(p.reg);
            const bool same = o.type == first.type && o.instance == p.instance + 1 && step >= 0 &&
                              (pos == -1 || step == pos) && o.units == first.units &&
                              o.action == first.action && o.cov_increment == first.cov_increment &&
                              o.notification_class == first.notification_class &&
                              limits(o) == limits(first) && (j == i + 1 || rs == reg_step);
            if (!same) break;
            if (pos == -1) {
                pos = step;
                reg_step = rs;
            }
            prev = on;
            ++j;
        }
        const MeterObject& last = table[j - 1];
        const std::string abbr = object_type_abbreviation(first.type);
        const std::string objects =
            j - i > 1 ? fmt::format("{}{}–{}{}", abbr, first.instance, abbr, last.instance)
                      : fmt::format("{}{}", abbr, first.instance);
        const std::string name =
            j - i > 1 ? with_range(fn, pos, prev.numbers[static_cast<size_t>(pos)]) : first.name;
        std::string regs;
        if (first.reg) {
            regs =
                j - i > 1 ? fmt::format("{}–{}", first.reg, last.reg) : std::to_string(first.reg);
            if (j - i > 1 && reg_step != 1) regs += fmt::format(" (step {})", reg_step);
        }
        std::string events;
        if (first.notification_class) events = fmt::format("NC{}", first.notification_class);
        out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", objects, name,
                           units_name(first.units), regs, action_name(first), limits(first),
                           number(static_cast<double>(first.cov_increment)), events);
        i = j;
    }
    out +=
        "\n## Notification classes (each panel device)\n\n| Object | Name | Priority "
        "(offnormal, fault, normal) | Ack_Required | Meaning |\n| --- | --- | --- | --- | "
        "--- |\n";
    for (const MeterClass& c : panel_classes()) {
        out += fmt::format("| NC{} | {} | 100, 100, 200 | to-offnormal | {} |\n", c.instance,
                           c.name, c.description);
    }
    return out;
}

}  // namespace openbcpm::bacnet
