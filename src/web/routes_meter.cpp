// The web face: the meter itself (device, snapshot, layout, events,
// settings, alarm clears, settings CSV).
#include <spdlog/spdlog.h>

#include "model/snapshot_json.hpp"
#include "points/catalogue.hpp"
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

// --- Beyond the meter ---

Reply WebServer::api_device(Context& c) {
    const Settings& s = device_.settings();
    const double uptime =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - device_.started()).count();
    return respond(c, http::status::ok,
                   {{"model", s.model.model_name()},
                    {"serial_number", fmt::format("{:08X}", s.identity.serial_number)},
                    {"firmware_rs", s.identity.firmware_rs},
                    {"firmware_os", s.identity.firmware_os},
                    {"panels", s.model.panels},
                    {"channels_per_panel", s.model.channels_per_panel},
                    {"protocol_mode", protocol_mode_},
                    {"simulating", device_.simulating()},
                    {"speed", device_.speed()},
                    {"uptime", uptime}});
}

Reply WebServer::api_snapshot(Context& c) {
    return respond(c, http::status::ok, snapshot_json(device_.snapshot(), device_.settings()));
}

namespace {

// What the snapshot's keys are, read off the catalogue (points::quantities),
// with the one unit table's texts: the GUI's labels and units come from here.
nlohmann::json quantities_json() {
    auto unit_json = [](const points::UnitInfo& u) {
        return nlohmann::json{{"symbol", u.symbol},           {"display", u.display},
                              {"decimals", u.decimals},       {"bacnet", u.bacnet},
                              {"bacnet_name", u.bacnet_name}, {"snmp", u.snmp},
                              {"prometheus", u.prometheus}};
    };
    auto list = [](points::QuantityOf of) {
        nlohmann::json out = nlohmann::json::array();
        for (const points::Quantity& q : points::quantities(of)) {
            const points::UnitInfo& u = points::unit_info(q.unit);
            out.push_back({{"key", q.key},
                           {"name", q.name},
                           {"label", points::quantity_label(q)},
                           {"unit", u.display},
                           {"symbol", u.symbol},
                           {"decimals", u.decimals}});
        }
        return out;
    };
    nlohmann::json units = nlohmann::json::array();
    for (const points::UnitInfo& u : points::unit_table())
        units.push_back(unit_json(u));
    return {{"channel", list(points::QuantityOf::Channel)},
            {"circuit", list(points::QuantityOf::Circuit)},
            {"mains", list(points::QuantityOf::Mains)},
            {"voltage", list(points::QuantityOf::Voltage)},
            {"units", std::move(units)}};
}

}  // namespace

Reply WebServer::api_quantities(Context& c) {
    static const nlohmann::json body = quantities_json();
    return respond(c, http::status::ok, body);
}

Reply WebServer::api_layout(Context& c) {
    const Settings& s = device_.settings();
    nlohmann::json panels = nlohmann::json::array();
    for (int p = 1; p <= s.model.panels; ++p) {
        const PanelSettings& ps = s.panel(p);
        const int n = s.model.strip_size;
        // Which end of each strip has its connector (position 1): the panel is drawn top to bottom.
        const bool a_top = ps.configuration != StripConfiguration::BottomFeed;
        const bool b_top = ps.configuration == StripConfiguration::TopFeed ||
                           ps.configuration == StripConfiguration::Sequential;
        nlohmann::json strips = nlohmann::json::array();
        for (Strip strip : {Strip::A, Strip::B}) {
            const bool top = strip == Strip::A ? a_top : b_top;
            nlohmann::json rows = nlohmann::json::array();
            for (int row = 1; row <= n; ++row) {
                const int position = top ? row : n + 1 - row;
                const int ch = channel_at(ps.configuration, n, {strip, position});
                const auto i = static_cast<size_t>(ch - 1);
                rows.push_back(
                    {{"row", row},
                     {"position", position},
                     {"channel", ch},
                     {"breaker_size", ps.breaker_size[i]},
                     {"ct_size", ps.ct_size[i]},
                     {"phase",
                      std::string(1, kPhaseLetters[static_cast<size_t>(effective_phase(ps, ch))])},
                     {"logical_circuit", ps.logical_circuit[i]}});
            }
            strips.push_back({{"strip", strip == Strip::A ? "A" : "B"},
                              {"feed", top ? "top" : "bottom"},
                              {"rows", rows}});
        }
        nlohmann::json aux = nlohmann::json::array();
        for (int ch = kFirstAuxChannel; ch <= kChannelsPerPanel; ++ch) {
            const auto i = static_cast<size_t>(ch - 1);
            aux.push_back(
                {{"channel", ch},
                 {"name", ch == kNeutralAuxChannel
                              ? "Neutral"
                              : std::string("Main ") +
                                    kPhaseLetters[static_cast<size_t>(ch - kFirstAuxChannel)]},
                 {"ct_size", ps.ct_size[i]},
                 {"breaker_size", ps.breaker_size[i]}});
        }
        panels.push_back({{"panel", p},
                          {"location", ps.location},
                          {"configuration", to_string(ps.configuration)},
                          {"strip_size", n},
                          {"strips", strips},
                          {"aux", aux}});
    }
    return respond(c, http::status::ok, {{"panels", panels}});
}

Reply WebServer::api_events(Context& c) {
    size_t limit = 200;
    int64_t after = 0;
    if (auto l = field(c.target.query, "limit"))
        limit = static_cast<size_t>(std::clamp(std::atoi(l->c_str()), 1, 5000));
    if (auto a = field(c.target.query, "after"))
        after = std::max<int64_t>(0, std::atoll(a->c_str()));
    nlohmann::json events = nlohmann::json::array();
    if (Store* st = device_.store()) {
        for (const StoredEvent& e : st->load_events(limit, after)) {
            nlohmann::json j = event_json(e.record);
            j["id"] = e.id;
            j["recorded"] = e.wall_time;
            events.push_back(std::move(j));
        }
    }
    return respond(c, http::status::ok, {{"events", events}});
}

Reply WebServer::api_events_query(Context& c) {  // routes_gui.cpp
    auto r = gui::events_query(device_.store(), c.target.query, device_.settings().model.panels);
    return r.ok ? respond(c, http::status::ok, r.body)
                : error(c, http::status::bad_request, r.error);
}

Reply WebServer::api_settings_get(Context& c) {
    const std::string prefix = field(c.target.query, "prefix").value_or("");
    const Settings& s = device_.settings();
    nlohmann::json out = nlohmann::json::array();
    for (const SettingDef& d : setting_defs()) {
        if (d.panel > s.model.panels || d.key.rfind(prefix, 0) != 0) continue;
        if (d.channel > 0 && !s.model.has_channel(d.channel)) continue;
        out.push_back({{"key", d.key},
                       {"value", setting_value_json(d.get(s))},
                       {"type", d.is_string ? "string" : "integer"},
                       {"min", d.min},
                       {"max", d.max},
                       {"factory", setting_value_json(d.factory)},
                       {"nv", d.nv},
                       {"restart_required", d.restart_required},
                       {"description", d.description}});
    }
    return respond(c, http::status::ok, {{"settings", out}});
}

Reply WebServer::api_settings_set(Context& c) {
    if (!c.json)
        return error(c, http::status::bad_request,
                     "send a JSON object {\"settings\": {key: value}}");
    auto it = c.json->find("settings");
    if (it == c.json->end() || !it->is_object() || it->empty() || it->size() > 512) {
        return error(c, http::status::bad_request,
                     "settings must be an object of 1 to 512 key: value pairs");
    }
    points::WriteRequest request;
    request.source = points::WriteSource::Web;
    bool restart = false;
    std::string detail;
    for (auto s = it->begin(); s != it->end(); ++s) {
        const SettingDef* def = find_setting(s.key());
        if (!def) return error(c, http::status::bad_request, "unknown setting " + s.key());
        auto v = write_value_of(s.value());
        if (!v)
            return error(c, http::status::bad_request,
                         s.key() + (def->is_string ? " takes a string" : " takes an integer"));
        restart = restart || def->restart_required;
        detail += (detail.empty() ? "" : ", ") + s.key() + " = " + write_value_text(*v);
        points::WriteItem item;
        item.setting = def;
        item.panel = def->panel == 0 ? 1 : def->panel;
        item.value = std::move(*v);
        request.items.push_back(std::move(item));
    }
    // The one write path: validated once, stored, applied; the reply waits
    // until the meter shows it.
    const points::SubmitResult result = device_.submit(request);
    if (!result.ok()) {
        // The refused key too, so that a form can show the message at its field.
        Reply r = error(c, status_of(result.result.refusal), result.result.message);
        if (result.result.item < request.items.size()) {
            nlohmann::json body = {{"error", result.result.message},
                                   {"key", request.items[result.result.item].setting->key}};
            r.response.body() = body.dump();
            r.response.prepare_payload();
        }
        return r;
    }
    audit(c, "settings", detail.size() > 300 ? detail.substr(0, 300) + "..." : detail);
    Reply reply = respond(c, http::status::ok, {{"ok", true}, {"restart_required", restart}});
    reply.ticket = result.ticket;
    return reply;
}

// The GUI's writes (routes_gui.cpp): through the one write path, audited,
// answered once a published snapshot shows them.
Reply WebServer::api_alarms_clear(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object {\"panel\": p}");
    gui::GuiWrite w = gui::alarm_clear(*c.json, device_.settings());
    if (!w.ok) return error(c, http::status::bad_request, w.error);
    const points::SubmitResult result = device_.submit(w.request);
    if (!result.ok()) return error(c, status_of(result.result.refusal), result.result.message);
    audit(c, "clear latches", w.detail);
    Reply reply = respond(c, http::status::ok, {{"ok", true}});
    reply.ticket = result.ticket;
    return reply;
}

namespace {
std::optional<int> panel_of(const Fields& query, const nlohmann::json* body, const Settings& s) {
    std::optional<int64_t> n;
    if (body) {
        n = json_int(*body, "panel");
    } else if (auto v = field(query, "panel");
               v && !v->empty() && v->size() < 3 &&
               v->find_first_not_of("0123456789") == std::string::npos) {
        n = std::stoll(*v);
    }
    if (!n || !s.model.has_panel(static_cast<int>(*n))) return std::nullopt;
    return static_cast<int>(*n);
}
}  // namespace

Reply WebServer::api_settings_export(Context& c) {
    const Settings& s = device_.settings();
    auto panel = panel_of(c.target.query, nullptr, s);
    if (!panel)
        return error(c, http::status::bad_request,
                     "panel must be 1 to " + std::to_string(s.model.panels));
    Response r{http::status::ok, c.request.version()};
    r.set(http::field::content_type, "text/csv; charset=utf-8");
    r.set(http::field::content_disposition,
          "attachment; filename=\"panel-" + std::to_string(*panel) + "-settings.csv\"");
    r.body() = gui::settings_csv(s, *panel);
    r.keep_alive(c.request.keep_alive());
    r.prepare_payload();
    return {std::move(r), {}, {}};
}

Reply WebServer::api_settings_import(Context& c) {
    const Settings& s = device_.settings();
    const nlohmann::json* csv = nullptr;
    if (c.json && c.json->contains("csv") && (*c.json)["csv"].is_string()) csv = &(*c.json)["csv"];
    if (!csv)
        return error(c, http::status::bad_request,
                     "send a JSON object {\"panel\": p, \"csv\": \"key,value...\"}");
    auto panel = panel_of(c.target.query, &*c.json, s);
    if (!panel)
        return error(c, http::status::bad_request,
                     "panel must be 1 to " + std::to_string(s.model.panels));
    gui::GuiWrite w = gui::settings_csv_request(csv->get<std::string>(), s, *panel);
    if (!w.ok) return error(c, http::status::bad_request, w.error);
    // All lines in one request: one refused value and nothing changes.
    const points::SubmitResult result = device_.submit(w.request);
    if (!result.ok()) {
        const size_t i = result.result.item;
        const std::string at =
            i < w.lines.size() ? "line " + std::to_string(w.lines[i]) + ": " : std::string();
        return error(c, status_of(result.result.refusal),
                     at + result.result.message + " (nothing was changed)");
    }
    audit(c, "settings import",
          "panel " + std::to_string(*panel) + ", " + std::to_string(w.request.items.size()) +
              " settings");
    Reply reply =
        respond(c, http::status::ok, {{"ok", true}, {"settings", w.request.items.size()}});
    reply.ticket = result.ticket;
    return reply;
}

}  // namespace openbcpm::web
