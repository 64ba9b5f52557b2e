#include "web/routes_gui.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/device_model.hpp"
#include "events/event_engine.hpp"
#include "events/event_state.hpp"
#include "model/snapshot_json.hpp"
#include "points/catalogue.hpp"
#include "storage/store.hpp"

namespace openbcpm::web::gui {

namespace {

// The whole history is at most [storage] event_history rows (10 000 by
// default); a filter reads it once per request.
constexpr size_t kReadAtMost = 1'000'000;
constexpr int64_t kMaxLimit = 500;

std::optional<int64_t> whole_number(const std::string& s) {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoll(s);
}

struct Level {
    std::string_view name;
    bool voltage;  // a bit of the L-L voltage status, else of a channel's status
    uint16_t bits;
};

constexpr std::array<Level, 9> kLevels{{
    {"hh", false, event_bits::kHighHigh},
    {"h", false, event_bits::kHigh},
    {"l", false, event_bits::kLow},
    {"ll", false, event_bits::kLowLow},
    {"off", false, event_bits::kOff},
    {"nl-high", false, event_bits::kNonLatchingHigh},
    {"nl-low", false, event_bits::kNonLatchingLow},
    {"over", true, event_bits::kVoltageHighLatching | event_bits::kVoltageHighNonLatching},
    {"under", true, event_bits::kVoltageLowLatching | event_bits::kVoltageLowNonLatching},
}};

}  // namespace

QueryResult events_query(Store* store, const Fields& query, int panels) {
    auto fail = [](std::string why) { return QueryResult{false, {}, std::move(why)}; };
    int panel = 0, channel = 0, voltage = 0;  // 0 = any
    const Level* level = nullptr;
    int64_t before = 0, limit = 50;
    if (auto v = field(query, "panel"); v && !v->empty()) {
        auto n = whole_number(*v);
        if (!n || *n < 1 || *n > panels)
            return fail("panel must be 1 to " + std::to_string(panels));
        panel = static_cast<int>(*n);
    }
    if (auto v = field(query, "channel"); v && !v->empty()) {
        auto n = whole_number(*v);
        if (!n || *n < 1 || *n > kChannelsPerPanel) return fail("channel must be 1 to 46");
        channel = static_cast<int>(*n);
    }
    if (auto v = field(query, "voltage"); v && !v->empty()) {
        static constexpr std::array<std::string_view, 3> pairs{"ab", "bc", "ca"};
        auto it = std::find(pairs.begin(), pairs.end(), *v);
        if (it == pairs.end()) return fail("voltage must be ab, bc or ca");
        voltage = static_cast<int>(it - pairs.begin()) + 1;
    }
    if (channel && voltage) return fail("ask for a channel or a voltage, not both");
    if (auto v = field(query, "level"); v && !v->empty()) {
        for (const Level& l : kLevels) {
            if (l.name == *v) level = &l;
        }
        if (!level) return fail("level must be hh, h, l, ll, off, nl-high, nl-low, over or under");
    }
    if (auto v = field(query, "before"); v && !v->empty()) {
        auto n = whole_number(*v);
        if (!n || *n < 1) return fail("before must be an event id");
        before = *n;
    }
    if (auto v = field(query, "limit"); v && !v->empty()) {
        auto n = whole_number(*v);
        if (!n || *n < 1 || *n > kMaxLimit)
            return fail("limit must be 1 to " + std::to_string(kMaxLimit));
        limit = *n;
    }

    nlohmann::json events = nlohmann::json::array();
    int64_t total = 0;  // matching, in the whole history
    std::optional<int64_t> next;
    if (store) {
        for (const StoredEvent& e : store->load_events(kReadAtMost, 0)) {
            const EventRecord& r = e.record;
            const bool is_voltage = r.channel > kVoltageEventChannelBase;
            if (panel && r.panel != panel) continue;
            if (channel && (is_voltage || r.channel != channel)) continue;
            if (voltage && r.channel != kVoltageEventChannelBase + voltage) continue;
            if (level && (level->voltage != is_voltage || (r.bit & level->bits) == 0)) continue;
            ++total;
            if (before && e.id >= before) continue;
            if (static_cast<int64_t>(events.size()) == limit) {
                if (!next) next = events.back()["id"].get<int64_t>();
                continue;
            }
            nlohmann::json j = event_json(r);
            j["id"] = e.id;
            j["recorded"] = e.wall_time;
            // The event's value and threshold: an L-L voltage or a current.
            j["unit"] =
                points::unit_info(is_voltage ? points::Unit::Volts : points::Unit::Amps).display;
            events.push_back(std::move(j));
        }
    }
    nlohmann::json body = {{"events", std::move(events)}, {"total", total}};
    body["next_before"] = next ? nlohmann::json(*next) : nlohmann::json(nullptr);
    return {true, std::move(body), {}};
}

namespace {

GuiWrite refused(std::string why) {
    GuiWrite w;
    w.ok = false;
    w.error = std::move(why);
    return w;
}

// A whole number in a JSON body, else nothing.
std::optional<int64_t> json_whole(const nlohmann::json& body, const char* key) {
    auto it = body.find(key);
    if (it == body.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
}

const points::Point& catalogue_point(const std::string& id) {
    const points::Point* p = points::Catalogue::instance().find(id);
    if (!p) throw std::logic_error("no catalogue point " + id);
    return *p;
}

}  // namespace

GuiWrite alarm_clear(const nlohmann::json& body, const Settings& settings) {
    const auto panel = json_whole(body, "panel");
    if (!panel || !settings.model.has_panel(static_cast<int>(*panel)))
        return refused("panel must be 1 to " + std::to_string(settings.model.panels));
    const bool has_channel = body.contains("channel");
    const bool has_voltage = body.contains("voltage");
    if (has_channel && has_voltage) return refused("clear a channel or a voltage, not both");
    GuiWrite w;
    w.request.source = points::WriteSource::Web;
    points::WriteItem item;
    item.panel = static_cast<int>(*panel);
    const std::string where = "panel " + std::to_string(*panel);
    if (has_channel) {
        const auto channel = json_whole(body, "channel");
        if (!channel || *channel < 1 || *channel > kChannelsPerPanel ||
            !settings.model.has_channel(static_cast<int>(*channel)))
            return refused("channel must name an input of this " + settings.model.model_name());
        // A 0 written to the event status register clears every latched bit.
        item.point = &catalogue_point("ch" + std::to_string(*channel) + ".event_status");
        item.value = int64_t{0};
        w.detail = where + " channel " + std::to_string(*channel);
    } else if (has_voltage) {
        const auto v = body["voltage"];
        static constexpr std::array<std::string_view, 3> pairs{"ab", "bc", "ca"};
        if (!v.is_string() ||
            std::find(pairs.begin(), pairs.end(), v.get<std::string>()) == pairs.end())
            return refused("voltage must be ab, bc or ca");
        item.point = &catalogue_point("voltage_" + v.get<std::string>() + ".event_status");
        item.value = int64_t{0};
        w.detail = where + " voltage " + v.get<std::string>();
    } else {
        // The Global Reset register's "clear all latched events": every
        // channel and the L-L voltages.
        item.point = &catalogue_point("global_reset");
        item.value = int64_t{points::reset_codes::kClearLatches};
        w.detail = where + ", every channel and voltage";
    }
    w.request.items.push_back(std::move(item));
    return w;
}

namespace {

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos && !text.empty() &&
        text.front() != ' ' && text.back() != ' ')
        return text;
    std::string out = "\"";
    for (char ch : text) {
        if (ch == '"') out += '"';
        out += ch;
    }
    return out + '"';
}

bool in_panel(const SettingDef& d, const Settings& s, int panel) {
    return d.panel == panel && (d.channel == 0 || s.model.has_channel(d.channel));
}

// One CSV line split into its fields (RFC 4180 quoting), or nothing when the
// quoting is broken.
std::optional<std::vector<std::string>> csv_fields(std::string_view line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (quoted) {
            if (ch == '"') {
                if (i + 1 < line.size() && line[i + 1] == '"') {
                    out.back() += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                out.back() += ch;
            }
        } else if (ch == '"' && out.back().empty()) {
            quoted = true;
        } else if (ch == ',') {
            out.emplace_back();
        } else {
            out.back() += ch;
        }
    }
    if (quoted) return std::nullopt;
    return out;
}

constexpr size_t kMaxCsvLines = 1024;

}  // namespace

std::string settings_csv(const Settings& settings, int panel) {
    std::string out = "key,value\r\n";
    for (const SettingDef& d : setting_defs()) {
        if (!in_panel(d, settings, panel)) continue;
        const SettingValue v = d.get(settings);
        const std::string text =
            d.is_string ? std::get<std::string>(v) : std::to_string(std::get<int64_t>(v));
        out += d.key + "," + csv_field(text) + "\r\n";
    }
    return out;
}

GuiWrite settings_csv_request(std::string_view csv, const Settings& settings, int panel) {
    if (!settings.model.has_panel(panel))
        return refused("panel must be 1 to " + std::to_string(settings.model.panels));
    GuiWrite w;
    w.request.source = points::WriteSource::Web;
    std::vector<const SettingDef*> seen;
    int number = 0;
    size_t start = 0;
    while (start <= csv.size()) {
        size_t end = csv.find('\n', start);
        if (end == std::string_view::npos) end = csv.size();
        std::string_view line = csv.substr(start, end - start);
        start = end + 1;
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        if (static_cast<size_t>(number) > kMaxCsvLines)
            return refused("at most " + std::to_string(kMaxCsvLines) + " lines");
        const std::string at = "line " + std::to_string(number) + ": ";
        auto fields = csv_fields(line);
        if (!fields) return refused(at + "an unclosed quote");
        if (fields->size() != 2) return refused(at + "expected key,value");
        const std::string& key = (*fields)[0];
        const std::string& text = (*fields)[1];
        if (number == 1 && key == "key" && text == "value") continue;
        const SettingDef* def = find_setting(key);
        if (!def || !in_panel(*def, settings, panel))
            return refused(at + key + " is not a setting of panel " + std::to_string(panel));
        if (std::find(seen.begin(), seen.end(), def) != seen.end())
            return refused(at + key + " appears twice");
        seen.push_back(def);
        points::WriteItem item;
        item.setting = def;
        item.panel = panel;
        if (def->is_string) {
            item.value = text;
        } else {
            // An integer, as the table's type; text the write path refuses by type.
            const bool negative = !text.empty() && text.front() == '-';
            const std::string digits = negative ? text.substr(1) : text;
            auto n = whole_number(digits);
            if (n) {
                item.value = negative ? -*n : *n;
            } else {
                item.value = text;
            }
        }
        w.lines.push_back(number);
        w.request.items.push_back(std::move(item));
        w.detail += (w.detail.empty() ? "" : ", ") + key + " = " + text;
    }
    if (w.request.items.empty()) return refused("no settings in the file");
    return w;
}

}  // namespace openbcpm::web::gui
