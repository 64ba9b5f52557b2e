// The web face: the simulator's controls.
#include <spdlog/spdlog.h>

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

Reply WebServer::api_sim_get(Context& c) {
    // When this device started (its System Restart or the process's start):
    // the simulator holds nothing set before it.
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - device_.started());
    return respond(c, http::status::ok,
                   {{"simulating", device_.simulating()},
                    {"speed", device_.speed()},
                    {"started", unix_now() - up.count()}});
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
    if (!device_.sim_set_load(where->first, where->second, *amps, pf)) {
        return error(c, http::status::conflict, "the source is not the simulator");
    }
    audit(c, "sim load",
          fmt::format("panel {} channel {}: {} A", where->first, where->second, *amps));
    return respond(c, http::status::ok, {{"ok", true}});
}

Reply WebServer::api_sim_trip(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object");
    std::string why;
    auto where = sim_channel(*c.json, device_.settings(), why);
    if (!where) return error(c, http::status::bad_request, why);
    auto it = c.json->find("tripped");
    if (it == c.json->end() || !it->is_boolean())
        return error(c, http::status::bad_request, "tripped must be true or false");
    const bool tripped = it->get<bool>();
    if (!device_.sim_trip(where->first, where->second, tripped)) {
        return error(c, http::status::conflict, "the source is not the simulator");
    }
    audit(c, tripped ? "sim trip" : "sim restore",
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

}  // namespace openbcpm::web
