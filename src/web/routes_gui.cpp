#include "web/routes_gui.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "app/snapshot_json.hpp"
#include "core/device_model.hpp"
#include "events/event_engine.hpp"
#include "events/event_state.hpp"
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
            j["unit"] = is_voltage ? "V" : "A";
            events.push_back(std::move(j));
        }
    }
    nlohmann::json body = {{"events", std::move(events)}, {"total", total}};
    body["next_before"] = next ? nlohmann::json(*next) : nlohmann::json(nullptr);
    return {true, std::move(body), {}};
}

}  // namespace openbcpm::web::gui
