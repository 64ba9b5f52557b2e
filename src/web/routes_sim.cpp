// The web face: the simulator's controls.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "config/config.hpp"
#include "model/snapshot_json.hpp"
#include "points/write_plan.hpp"
#include "web/assets.hpp"
#include "web/bdt.hpp"
#include "web/gui_parameters.hpp"
#include "web/http_parse.hpp"
#include "web/routes_gui.hpp"
#include "web/routes_internal.hpp"
#include "web/server.hpp"

namespace openbcpm::web {

using namespace route_util;

// An uploaded scenario file's bound (scenarios/events.toml is 4 KB).
inline constexpr size_t kMaxScenarioBytes = 64 * 1024;

namespace {
const char* const kPhaseNames[] = {"A", "B", "C"};

// The simulator's own state (SimulatorState) as the API gives it: simulated
// seconds to come turned into Unix times at the present speed.
nlohmann::json sim_state_json(const SimulatorState& st, const std::vector<KeptLoad>& kept,
                              const Settings& s, double speed, double now) {
    const auto wall = [&](double sim_at) { return now + (sim_at - st.time) / speed; };
    const auto is_kept = [&](int p, int ch) {
        return std::any_of(kept.begin(), kept.end(),
                           [&](const KeptLoad& k) { return k.panel == p && k.channel == ch; });
    };
    nlohmann::json loads = nlohmann::json::array(), trips = nlohmann::json::array();
    for (int p = 1; p <= s.model.panels; ++p) {
        for (int ch = 1; ch <= kChannelsPerPanel; ++ch) {
            if (!s.model.has_channel(ch)) continue;
            const auto& c = st.channels[static_cast<size_t>(p - 1)][static_cast<size_t>(ch - 1)];
            if (c.overridden) {
                loads.push_back({{"panel", p},
                                 {"channel", ch},
                                 {"amps", c.amps},
                                 {"pf", c.has_pf ? nlohmann::json(c.pf) : nlohmann::json()},
                                 {"ramp_until", c.ramp_end >= 0.0 ? nlohmann::json(wall(c.ramp_end))
                                                                  : nlohmann::json()},
                                 {"kept", is_kept(p, ch)}});
            }
            if (c.tripped) trips.push_back({{"panel", p}, {"channel", ch}});
        }
    }
    nlohmann::json voltage = nlohmann::json::array();
    for (size_t ph = 0; ph < st.voltage.size(); ++ph) {
        const auto& v = st.voltage[ph];
        if (v.magnitude == 1.0) continue;
        voltage.push_back(
            {{"phase", kPhaseNames[ph]},
             {"magnitude", v.magnitude},
             {"kind", v.magnitude < 1.0 ? "sag" : "swell"},
             {"until", v.end >= 0.0 ? nlohmann::json(wall(v.end)) : nlohmann::json()}});
    }
    nlohmann::json kept_list = nlohmann::json::array();
    for (const KeptLoad& k : kept) {
        kept_list.push_back({{"panel", k.panel},
                             {"channel", k.channel},
                             {"amps", k.amps},
                             {"pf", k.pf ? nlohmann::json(*k.pf) : nlohmann::json()}});
    }
    nlohmann::json scenario;  // null: none
    const std::string name(st.scenario_name.data(),
                           strnlen(st.scenario_name.data(), st.scenario_name.size()));
    if (st.scenario_events > 0) {
        scenario = {
            {"name", name},
            {"events", st.scenario_events},
            {"done", st.scenario_done},
            {"running", st.scenario_done < st.scenario_events},
            {"elapsed", st.time - st.scenario_started},
            {"next_at", st.scenario_next_at >= 0.0
                            ? nlohmann::json(st.scenario_next_at - st.scenario_started)
                            : nlohmann::json()},
            {"next_time", st.scenario_next_at >= 0.0 ? nlohmann::json(wall(st.scenario_next_at))
                                                     : nlohmann::json()}};
    }
    return {{"time", st.time},
            {"frequency", st.frequency},
            {"nominal_frequency", st.nominal_frequency},
            {"loads", loads},
            {"trips", trips},
            {"voltage", voltage},
            {"kept", kept_list},
            {"scenario", scenario}};
}
}  // namespace

Reply WebServer::api_sim_get(Context& c) {
    // When this device started (its System Restart or the process's start):
    // the simulator holds nothing set before it.
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - device_.started());
    nlohmann::json body = {{"simulating", device_.simulating()},
                           {"speed", device_.speed()},
                           {"started", unix_now() - up.count()}};
    if (auto st = device_.sim_state()) {
        const double now =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        body["state"] = sim_state_json(*st, device_.sim_kept_loads(), device_.settings(),
                                       std::max(device_.speed(), 1e-6), now);
    }
    return respond(c, http::status::ok, body);
}

namespace {
// Panel and channel of a simulator request, checked against the model.
std::optional<std::pair<int, int>> sim_channel(const nlohmann::json& j, const Settings& s,
                                               std::string& why) {
    auto p = json_int(j, "panel");
    auto ch = json_int(j, "channel");
    if (!p || !ch || !s.model.has_panel(static_cast<int>(*p)) || *ch < 1 ||
        *ch > kChannelsPerPanel || !s.model.has_channel(static_cast<int>(*ch))) {
        why = "panel and channel must name an input of this " + s.model.model_name();
        return std::nullopt;
    }
    return std::pair{static_cast<int>(*p), static_cast<int>(*ch)};
}

std::optional<bool> json_bool(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_boolean()) return std::nullopt;
    return it->get<bool>();
}

// The kept loads but the one of this channel.
std::vector<KeptLoad> kept_except(const MeterModel& device, std::pair<int, int> where) {
    std::vector<KeptLoad> kept = device.sim_kept_loads();
    std::erase_if(kept, [&](const KeptLoad& k) {
        return k.panel == where.first && k.channel == where.second;
    });
    return kept;
}
}  // namespace

Reply WebServer::api_sim_load(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object");
    std::string why;
    auto where = sim_channel(*c.json, device_.settings(), why);
    if (!where) return error(c, http::status::bad_request, why);
    auto amps = json_number(*c.json, "amps");
    if (!amps || *amps < 0.0 || *amps > 10000.0)
        return error(c, http::status::bad_request, "amps must be 0 to 10000");
    std::optional<double> pf;
    if (c.json->contains("pf") && !(*c.json)["pf"].is_null()) {
        pf = json_number(*c.json, "pf");
        if (!pf || *pf < -1.0 || *pf > 1.0 || std::abs(*pf) < 0.01) {
            return error(c, http::status::bad_request, "pf must be -1 to 1 (not 0)");
        }
    }
    const std::optional<bool> keep = json_bool(*c.json, "keep");
    if (!keep && c.json->contains("keep"))
        return error(c, http::status::bad_request, "keep is true or false");
    if (!device_.simulating())
        return error(c, http::status::conflict, "the source is not the simulator");
    // Kept first: a load that cannot be kept is not set either.
    std::vector<KeptLoad> kept = kept_except(device_, *where);
    if (keep.value_or(false)) kept.push_back({where->first, where->second, *amps, pf});
    if (kept != device_.sim_kept_loads() && !device_.sim_keep_loads(kept, why))
        return error(c, http::status::service_unavailable, "not kept: " + why);
    if (!device_.sim_set_load(where->first, where->second, *amps, pf)) {
        return error(c, http::status::conflict, "the source is not the simulator");
    }
    audit(c, "sim load",
          fmt::format("panel {} channel {}: {} A{}", where->first, where->second, *amps,
                      keep.value_or(false) ? " (kept across restarts)" : ""));
    return respond(c, http::status::ok, {{"ok", true}});
}

Reply WebServer::api_sim_trip(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object");
    std::string why;
    auto where = sim_channel(*c.json, device_.settings(), why);
    if (!where) return error(c, http::status::bad_request, why);
    const auto tripped = json_bool(*c.json, "tripped");
    if (!tripped) return error(c, http::status::bad_request, "tripped must be true or false");
    if (!device_.sim_trip(where->first, where->second, *tripped)) {
        return error(c, http::status::conflict, "the source is not the simulator");
    }
    audit(c, *tripped ? "sim trip" : "sim restore",
          fmt::format("panel {} channel {}", where->first, where->second));
    return respond(c, http::status::ok, {{"ok", true}});
}

Reply WebServer::api_sim_voltage(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object");
    const std::string phases = json_string(*c.json, "phases").value_or("");
    int mask = 0;
    for (char p : phases) {
        if (p == 'A' || p == 'a')
            mask |= 1;
        else if (p == 'B' || p == 'b')
            mask |= 2;
        else if (p == 'C' || p == 'c')
            mask |= 4;
        else
            return error(c, http::status::bad_request, "phases is a string of A, B and C");
    }
    if (mask == 0 || phases.size() > 3)
        return error(c, http::status::bad_request, "name one to three phases (A, B, C)");
    auto magnitude = json_number(*c.json, "magnitude");
    if (!magnitude || *magnitude < 0.0 || *magnitude > 2.0) {
        return error(c, http::status::bad_request, "magnitude is a multiple of nominal, 0 to 2");
    }
    const double seconds = json_number(*c.json, "seconds").value_or(0.0);
    if (seconds < 0.0 || seconds > 86400.0)
        return error(c, http::status::bad_request, "seconds must be 0 to 86400");
    if (!device_.sim_voltage(mask, *magnitude, seconds)) {
        return error(c, http::status::conflict, "the source is not the simulator");
    }
    audit(c, "sim voltage", fmt::format("phases {}: x{} for {} s", phases, *magnitude, seconds));
    return respond(c, http::status::ok, {{"ok", true}});
}

Reply WebServer::api_sim_speed(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object");
    auto speed = json_number(*c.json, "speed");
    if (!speed || *speed < 0.01 || *speed > 1000.0)
        return error(c, http::status::bad_request, "speed must be 0.01 to 1000");
    if (!device_.sim_speed(*speed)) return error(c, http::status::bad_request, "speed refused");
    audit(c, "sim speed", fmt::format("x{}", *speed));
    return respond(c, http::status::ok, {{"ok", true}, {"speed", device_.speed()}});
}

Reply WebServer::api_sim_keep(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object");
    std::string why;
    auto where = sim_channel(*c.json, device_.settings(), why);
    if (!where) return error(c, http::status::bad_request, why);
    const auto keep = json_bool(*c.json, "keep");
    if (!keep) return error(c, http::status::bad_request, "keep must be true or false");
    auto st = device_.sim_state();
    if (!st) return error(c, http::status::conflict, "the source is not the simulator");
    std::vector<KeptLoad> kept = kept_except(device_, *where);
    if (*keep) {
        // What the simulator draws on it now, as set at run time.
        const auto& ch = st->channels[static_cast<size_t>(where->first - 1)]
                                     [static_cast<size_t>(where->second - 1)];
        if (!ch.overridden)
            return error(c, http::status::bad_request,
                         "no load was set on this channel: set one to keep it");
        kept.push_back({where->first, where->second, ch.amps,
                        ch.has_pf ? std::optional<double>(ch.pf) : std::nullopt});
    }
    if (!device_.sim_keep_loads(kept, why))
        return error(c, http::status::service_unavailable, "not kept: " + why);
    audit(c, *keep ? "sim keep" : "sim forget",
          fmt::format("panel {} channel {}", where->first, where->second));
    return respond(c, http::status::ok, {{"ok", true}});
}

Reply WebServer::api_sim_scenario(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object");
    if (!device_.simulating())
        return error(c, http::status::conflict, "the source is not the simulator");
    auto it = c.json->find("stop");
    if (it != c.json->end()) {
        if (!it->is_boolean() || !it->get<bool>())
            return error(c, http::status::bad_request, "stop is true");
        if (!device_.sim_scenario({}, ""))
            return error(c, http::status::conflict, "a scenario is being started; try again");
        audit(c, "sim scenario", "stopped");
        return respond(c, http::status::ok, {{"ok", true}});
    }
    auto text = json_string(*c.json, "text");
    if (!text)
        return error(c, http::status::bad_request,
                     "text is the scenario file (TOML with [[simulation.event]] tables)");
    if (text->size() > kMaxScenarioBytes) {
        return error(c, http::status::payload_too_large,
                     fmt::format("a scenario file is at most {} bytes", kMaxScenarioBytes));
    }
    std::string name = json_string(*c.json, "name").value_or("uploaded scenario");
    if (name.empty() || name.size() > 63 || std::any_of(name.begin(), name.end(), [](char ch) {
            return static_cast<unsigned char>(ch) < 0x20;
        })) {
        return error(c, http::status::bad_request, "name is 1 to 63 characters of text");
    }
    // The configuration's own parser: the same keys and messages as --config.
    Config parsed;
    try {
        parsed = parse_config(*text, name);
    } catch (const std::exception& e) {
        return error(c, http::status::bad_request, e.what());
    }
    std::vector<ScenarioEvent> events = std::move(parsed.simulation.events);
    if (events.empty())
        return error(c, http::status::bad_request,
                     name + ": no [[simulation.event]] tables: nothing to run");
    for (size_t i = 0; i < events.size(); ++i) {
        if (!device_.settings().model.has_panel(events[i].panel)) {
            return error(c, http::status::bad_request,
                         fmt::format("{}: event {} names panel {}, this {} has {}", name, i + 1,
                                     events[i].panel, device_.settings().model.model_name(),
                                     device_.settings().model.panels));
        }
    }
    const size_t count = events.size();
    if (!device_.sim_scenario(std::move(events), name))
        return error(c, http::status::conflict, "a scenario is being started; try again");
    audit(c, "sim scenario", fmt::format("{}: {} events started", name, count));
    return respond(c, http::status::ok, {{"ok", true}, {"events", count}});
}

}  // namespace openbcpm::web
