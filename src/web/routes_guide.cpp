// The web face: the guide's pages (Configuration Parameters, Active
// profiles, Network Settings, System Restart, file transfer).
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

// --- The guide's pages ---

Reply WebServer::api_parameters_get(Context& c) {
    const Settings& s = device_.settings();
    nlohmann::json params = nlohmann::json::array();
    for (const GuiParameter* p : parameters_for_mode(protocol_mode_)) {
        params.push_back({{"name", p->name},
                          {"description", p->description},
                          {"value", display_value(*p, s)},
                          {"restart_required", find_setting(p->setting_key)->restart_required}});
    }
    return respond(c, http::status::ok,
                   {{"model", s.model.model_name()},
                    {"serial_number", fmt::format("{:08X}", s.identity.serial_number)},
                    {"protocol_mode", protocol_mode_},
                    {"stored_protocol_mode", s.gateway.protocol_mode},
                    {"parameters", params},
                    {"profiles", profiles_json()}});
}

nlohmann::json WebServer::profiles_json() {
    const Settings& s = device_.settings();
    nlohmann::json profiles = nlohmann::json::array();
    for (const ActiveProfile& a :
         active_profiles(s, protocol_mode_, device_.profiles_not_served())) {
        profiles.push_back({{"number", a.number},
                            {"node_id", a.node_id},
                            {"profile", a.profile},
                            {"parameters", a.parameters},
                            {"removed", a.removed}});
    }
    nlohmann::json not_served = nlohmann::json::array();
    for (int p = 1; p <= s.model.panels; ++p) {
        if (device_.profiles_not_served() & (1 << (p - 1))) not_served.push_back(p);
    }
    return {{"profiles", profiles},
            {"not_served", not_served},
            {"primary_protocol", primary_protocol_name(protocol_mode_)},
            {"operating_mode", device_.start_operating_mode()},
            {"stored_operating_mode", s.gateway.operating_mode}};
}

Reply WebServer::api_parameters_set(Context& c) {
    std::string name, value;
    if (c.json) {
        name = json_string(*c.json, "name").value_or("");
        auto it = c.json->find("value");
        if (it != c.json->end()) value = it->is_string() ? it->get<std::string>() : it->dump();
    } else if (c.form) {
        name = field(*c.form, "name").value_or("");
        value = field(*c.form, "value").value_or("");
    }
    const GuiParameter* p = find_gui_parameter(name);
    const auto shown = parameters_for_mode(protocol_mode_);
    if (!p || std::find(shown.begin(), shown.end(), p) == shown.end()) {
        return error(
            c, http::status::bad_request,
            "no parameter " + name + " in Protocol_Mode " + std::to_string(protocol_mode_));
    }
    ParsedValue parsed = parse_display_value(*p, value);
    if (!parsed.value) return error(c, http::status::bad_request, parsed.error);
    const WriteResult result = device_.write_setting(p->setting_key, *parsed.value);
    if (!result.ok()) return error(c, status_of(result), result.message);
    const bool restart = find_setting(p->setting_key)->restart_required;
    audit(c, "parameter", std::string(p->name) + " = " + display_value(*p, device_.settings()));
    return respond(c, http::status::ok,
                   {{"ok", true},
                    {"name", p->name},
                    {"value", display_value(*p, device_.settings())},
                    {"restart_required", restart},
                    {"message", restart ? std::string(p->name) +
                                              " stored. Restart the system (System Restart) for it "
                                              "to take effect."
                                        : std::string(p->name) + " stored."}});
}

Reply WebServer::api_profiles(Context& c) {
    return respond(c, http::status::ok, profiles_json());
}

// Remove (the Active profiles table): the panel joins the stored set of
// removed profiles, through the one write path (validated, stored, or refused
// with nothing changed). Used at the next start: Locked mode then no longer
// serves the panel on the primary protocol, Discovery mode discovers it again.
Reply WebServer::api_profiles_remove(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object {\"panel\": n}");
    const Settings& s = device_.settings();
    const auto panel = json_int(*c.json, "panel");
    if (!panel || *panel < 1 || *panel > s.model.panels) {
        return error(
            c, http::status::bad_request,
            "panel must be a panel of this meter (1 to " + std::to_string(s.model.panels) + ")");
    }
    if ((device_.profiles_not_served() & (1 << (*panel - 1))) != 0) {
        return error(c, http::status::bad_request,
                     "panel " + std::to_string(*panel) + " has no active profile");
    }
    if (s.gateway.operating_mode == 0) {
        audit(c, "profile removal refused", "panel " + std::to_string(*panel) + ": Locked");
        return error(c, http::status::conflict, std::string(kLockedProfilesMessage));
    }
    points::WriteRequest request;
    request.source = points::WriteSource::Web;
    points::WriteItem item;
    item.setting = find_setting("gateway.removed_profiles");
    item.panel = 1;
    item.value = int64_t{s.gateway.removed_profiles | (1 << (*panel - 1))};
    request.items.push_back(std::move(item));
    const points::SubmitResult result = device_.submit(request);
    if (!result.ok()) return error(c, status_of(result.result.refusal), result.result.message);
    audit(c, "profile removed",
          "panel " + std::to_string(*panel) + " (node " +
              std::to_string(s.gateway.modbus_address + *panel - 1) + ")");
    nlohmann::json out = profiles_json();
    out["ok"] = true;
    out["restart_required"] = true;
    out["message"] = "Profile " + std::to_string(*panel) +
                     " removed. It takes effect at System Restart: in Discovery mode the panel "
                     "is discovered again then; in Locked mode it is no longer served on " +
                     std::string(primary_protocol_name(protocol_mode_)) + ".";
    Reply reply = respond(c, http::status::ok, out);
    reply.ticket = result.ticket;
    return reply;
}

Reply WebServer::api_network_get(Context& c) {
    const GatewaySettings& g = device_.settings().gateway;
    return respond(c, http::status::ok,
                   {{"ip_address", g.ip_address},
                    {"netmask", g.netmask},
                    {"default_gateway", g.default_gateway},
                    {"web_port", g.web_port}});
}

Reply WebServer::api_network_set(Context& c) {
    if (!c.json) return error(c, http::status::bad_request, "send a JSON object");
    std::vector<std::pair<const SettingDef*, SettingValue>> batch;
    std::string detail;
    for (const char* k : {"ip_address", "netmask", "default_gateway", "web_port"}) {
        auto it = c.json->find(k);
        if (it == c.json->end()) continue;
        const SettingDef* def = find_setting(std::string("gateway.") + k);
        auto v = setting_value_of(*def, *it);
        if (!v) return error(c, http::status::bad_request, std::string(k) + " has the wrong type");
        batch.emplace_back(def, std::move(*v));
        detail += std::string(detail.empty() ? "" : ", ") + k + " = " +
                  openbcpm::to_string(batch.back().second);
    }
    if (batch.empty()) return error(c, http::status::bad_request, "nothing to change");
    const WriteResult result = device_.write_settings(batch);
    if (!result.ok()) return error(c, status_of(result), result.message);
    audit(c, "network settings", detail);
    return respond(
        c, http::status::ok,
        {{"ok", true},
         {"restart_required", true},
         {"message",
          "IP settings stored. Click System Restart: the faces bind to the new address after "
          "the restart."}});
}

Reply WebServer::api_restart(Context& c) {
    audit(c, "system restart", "");
    Reply r =
        respond(c, http::status::accepted,
                {{"ok", true},
                 {"message", "The system is restarting; the page reconnects when it is back."}});
    r.response.keep_alive(false);
    MeterModel* device = &device_;
    // The reply goes out first; then the run loop re-initialises the meter.
    r.after_write = [device] {
        if (!device->request_restart(RestartKind::Warm))
            spdlog::warn("web: System Restart requested but no restart handler is installed");
    };
    return r;
}

Reply WebServer::api_file_get(Context& c) {
    const auto dir = device_.state_dir();
    if (dir.empty() || !std::filesystem::exists(dir / "bdt.ini")) {
        return error(c, http::status::not_found, "no bdt.ini has been transferred");
    }
    Response r{http::status::ok, c.request.version()};
    r.set(http::field::content_type, "text/plain; charset=utf-8");
    r.set(http::field::content_disposition, "attachment; filename=\"bdt.ini\"");
    r.body() = read_file(dir / "bdt.ini");
    r.keep_alive(c.request.keep_alive());
    r.prepare_payload();
    return {std::move(r), {}, {}};
}

Reply WebServer::api_file_set(Context& c) {
    if (!c.parts)
        return error(c, http::status::bad_request, "send the file as multipart/form-data");
    const Part* file = find_part(*c.parts, "file");
    if (!file || !file->filename) return error(c, http::status::bad_request, "choose a file");
    // The General tab takes bdt.ini only: other names could be critical files on a real unit.
    std::string name = *file->filename;
    if (const size_t slash = name.find_last_of("/\\"); slash != std::string::npos)
        name = name.substr(slash + 1);
    if (lower_ascii(name) != "bdt.ini") {
        return error(c, http::status::bad_request, "the General tab accepts bdt.ini only");
    }
    const BdtFile bdt = parse_bdt_ini(file->data);
    if (!bdt.ok()) {
        audit(c, "file transfer refused",
              "bdt.ini line " + std::to_string(bdt.line) + ": " + bdt.error);
        return error(c, http::status::bad_request,
                     "bdt.ini line " + std::to_string(bdt.line) + ": " + bdt.error +
                         ". The file was not updated.");
    }
    const auto dir = device_.state_dir();
    if (dir.empty())
        return error(c, http::status::conflict, "the meter runs without a state directory");
    const auto tmp = dir / "bdt.ini.tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << file->data;
        if (!out) return error(c, http::status::internal_server_error, "cannot write bdt.ini");
    }
    std::filesystem::rename(tmp, dir / "bdt.ini");
    audit(c, "file transfer", "bdt.ini, " + std::to_string(bdt.entries.size()) + " BBMD entries");
    return respond(c, http::status::ok,
                   {{"ok", true},
                    {"entries", bdt.entries.size()},
                    {"message", "The file was updated successfully."}});
}

}  // namespace openbcpm::web
