// The request side of the web face: the route table, dispatch (sessions,
// CSRF, integrity tags, the security gate) and the pages. The handlers are in
// routes_*.cpp by area: auth, guide (the guide's pages), meter, sim, metrics,
// gui. Every handler runs on the event loop thread.
#include <spdlog/spdlog.h>

#include <boost/beast/version.hpp>
#include <fstream>
#include <sstream>

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

namespace {

// The pages: URL path -> embedded asset of the same path.
const std::vector<std::string> kPages = {"/",           "/network",  "/diagnostics",
                                         "/panel",      "/charts",   "/events",
                                         "/simulation", "/security", "/settings"};

}  // namespace

using namespace route_util;

// --- The route table ---

const std::vector<WebServer::Route>& WebServer::routes() {
    using V = http::verb;
    static const std::vector<Route> table = [] {
        std::vector<Route> r = {
            {V::get, "/", false, true, &WebServer::page_root},
            {V::get, "/login", true, true, &WebServer::page},
            {V::get, "/unconfigured", true, true, &WebServer::page},
            {V::get, "/static/", true, false, &WebServer::page_static},
            {V::post, "/api/login", true, false, &WebServer::api_login},
            {V::post, "/api/login/challenge", true, false, &WebServer::api_login_challenge},
            {V::post, "/api/login/proof", true, false, &WebServer::api_login_proof},
            {V::post, "/api/logout", false, false, &WebServer::api_logout},
            {V::get, "/api/session", false, false, &WebServer::api_session},
            {V::post, "/api/password", false, false, &WebServer::api_password},
            {V::get, "/api/security", false, false, &WebServer::api_security_get},
            {V::post, "/api/security", false, false, &WebServer::api_security_set},
            {V::get, "/api/audit", false, false, &WebServer::api_audit},
            {V::get, "/api/storage", false, false, &WebServer::api_storage},
            {V::get, "/api/metrics-token", false, false, &WebServer::api_metrics_token},
            {V::post, "/api/metrics-token", false, false, &WebServer::api_metrics_token},
            {V::get, "/api/parameters", false, false, &WebServer::api_parameters_get},
            {V::post, "/api/parameters", false, false, &WebServer::api_parameters_set},
            {V::get, "/api/profiles", false, false, &WebServer::api_profiles},
            {V::post, "/api/profiles/remove", false, false, &WebServer::api_profiles_remove},
            {V::get, "/api/network", false, false, &WebServer::api_network_get},
            {V::post, "/api/network", false, false, &WebServer::api_network_set},
            {V::post, "/api/restart", false, false, &WebServer::api_restart},
            {V::get, "/api/files/bdt.ini", false, false, &WebServer::api_file_get},
            {V::post, "/api/files/general", false, false, &WebServer::api_file_set},
            {V::get, "/api/device", false, false, &WebServer::api_device},
            {V::get, "/api/snapshot", false, false, &WebServer::api_snapshot},
            {V::get, "/api/quantities", false, false, &WebServer::api_quantities},
            {V::get, "/api/layout", false, false, &WebServer::api_layout},
            {V::get, "/api/events", false, false, &WebServer::api_events},
            {V::get, "/api/events/query", false, false, &WebServer::api_events_query},
            {V::get, "/api/settings", false, false, &WebServer::api_settings_get},
            {V::post, "/api/settings", false, false, &WebServer::api_settings_set},
            {V::get, "/api/settings/export", false, false, &WebServer::api_settings_export},
            {V::post, "/api/settings/import", false, false, &WebServer::api_settings_import},
            {V::post, "/api/alarms/clear", false, false, &WebServer::api_alarms_clear},
            {V::get, "/api/sim", false, false, &WebServer::api_sim_get},
            {V::post, "/api/sim/load", false, false, &WebServer::api_sim_load},
            {V::post, "/api/sim/trip", false, false, &WebServer::api_sim_trip},
            {V::post, "/api/sim/voltage", false, false, &WebServer::api_sim_voltage},
            {V::post, "/api/sim/speed", false, false, &WebServer::api_sim_speed},
            {V::post, "/api/sim/keep", false, false, &WebServer::api_sim_keep},
            {V::post, "/api/sim/scenario", false, false, &WebServer::api_sim_scenario},
            {V::get, "/api/trends", false, false, &WebServer::api_trends},
            {V::get, "/api/stream", false, false, &WebServer::api_stream_info},
            {V::get, "/api/connections", false, false, &WebServer::api_connections},
            {V::get, "/metrics", false, false, &WebServer::metrics},
            {V::get, "/site", false, true, &WebServer::page_site},
            {V::get, "/api/site", false, false, &WebServer::api_site},
        };
        for (const std::string& p : kPages) {
            if (p != "/") r.push_back({V::get, p, false, true, &WebServer::page});
        }
        return r;
    }();
    return table;
}

std::vector<RouteInfo> route_table() {
    std::vector<RouteInfo> out;
    for (const auto& r : WebServer::routes()) {
        out.push_back({std::string(http::to_string(r.method)), r.path, r.is_public, r.is_page});
    }
    return out;
}

// --- Dispatch ---

Session* WebServer::session_of(const Request& request) {
    auto it = request.find(http::field::cookie);
    if (it == request.end()) return nullptr;
    for (const auto& [name, value] : parse_cookies(sv(it->value()))) {
        if (name == kCookie) {
            if (Session* s = sessions_.find(value, unix_now())) return s;
        }
    }
    return nullptr;
}

namespace {

// "host[:port]" (a Host header or what follows scheme:// in an Origin) split;
// port 0 when absent, nullopt when malformed.
std::optional<std::pair<std::string, unsigned>> split_host(std::string_view s) {
    std::string_view host = s, port;
    if (s.starts_with('[')) {
        const auto close = s.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = s.substr(0, close + 1);
        const auto rest = s.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port = rest.substr(1);
        }
    } else if (const auto colon = s.rfind(':'); colon != std::string_view::npos) {
        host = s.substr(0, colon);
        port = s.substr(colon + 1);
    }
    if (host.empty() || host.size() > 255) return std::nullopt;
    unsigned p = 0;
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
            return std::nullopt;
        p = static_cast<unsigned>(std::stoul(std::string(port)));
        if (p == 0 || p > 65535) return std::nullopt;
    }
    return std::pair{lower_ascii(host), p};
}

std::string unbracket(std::string h) {
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') return h.substr(1, h.size() - 2);
    return h;
}

}  // namespace

unsigned WebServer::own_port() const {
    if (port_ != 0) return port_;
    return options_.port.value_or(static_cast<uint16_t>(device_.settings().gateway.web_port));
}

bool WebServer::own_name(std::string_view host, const Connection& connection) const {
    const std::string h = unbracket(lower_ascii(host));
    if (h.empty()) return false;
    // The address the client's packets actually reached is ours whatever it is called.
    if (h == connection.local_address) return true;
    if (h == device_.settings().gateway.ip_address) return true;
    if (options_.address && h == *options_.address) return true;
    for (const std::string& name : options_.host_names) {
        if (h == unbracket(lower_ascii(name))) return true;
    }
    boost::system::error_code ec;
    const auto local = boost::asio::ip::make_address(connection.local_address, ec);
    return !ec && local.is_loopback() && h == "localhost";
}

std::string WebServer::own_origin(const Request& request, const Connection& connection,
                                  bool tls) const {
    // The name the browser used when it is one of ours (so its cookies and
    // certificate still match), else the address it reached.
    std::string name = connection.local_address.empty() ? device_.settings().gateway.ip_address
                                                        : connection.local_address;
    if (name.find(':') != std::string::npos) name = "[" + name + "]";
    auto it = request.find(http::field::host);
    if (it != request.end()) {
        if (auto host = split_host(sv(it->value())); host && own_name(host->first, connection))
            name = host->first;
    }
    std::string origin = std::string(tls ? "https://" : "http://") + name;
    if (own_port() != (tls ? 443 : 80)) origin += ":" + std::to_string(own_port());
    return origin;
}

bool WebServer::same_origin(const Request& request, const Connection& connection) const {
    auto it = request.find(http::field::origin);
    if (it == request.end()) {
        // Browsers send Origin with every cross-site POST and WebSocket; a request
        // without it comes from a non-browser client, which has no ambient cookies to abuse
        // unless it stole them. Sec-Fetch-Site, when present, must agree.
        auto site = request.find("Sec-Fetch-Site");
        return site == request.end() || site->value() == "same-origin" || site->value() == "none";
    }
    // This server's scheme and port, and one of the meter's own names: the
    // request's Host proves nothing (DNS rebinding sends the attacker's name in both).
    std::string_view origin = sv(it->value());
    const std::string_view scheme = connection.tls ? "https://" : "http://";
    if (!origin.starts_with(scheme)) return false;
    const auto host = split_host(origin.substr(scheme.size()));
    if (!host) return false;
    const unsigned port = host->second ? host->second : (connection.tls ? 443u : 80u);
    return port == own_port() && own_name(host->first, connection);
}

std::optional<Reply> WebServer::unconfigured_refusal(Context& c, const Route& route) {
    if (security_.configured()) return std::nullopt;
    // The mode choice and what it needs: its pages and their files, the login,
    // the session, the mode itself.
    static const std::vector<std::string> choice = {
        "/login",      "/unconfigured",        "/security",        "/static/",     "/api/login",
        "/api/logout", "/api/login/challenge", "/api/login/proof", "/api/session", "/api/security"};
    if (std::find(choice.begin(), choice.end(), route.path) != choice.end()) return std::nullopt;
    if (route.is_page) return redirect(c, c.session ? "/security" : "/unconfigured");
    // Unauthenticated requests are refused as always ("log in first"): this
    // refusal tells nothing to someone who has not logged in.
    if (!c.session && !c.bearer) return std::nullopt;
    ++refused_;
    return respond(
        c, http::status::conflict,
        {{"error", "choose a security mode first (the /security page)"}, {"next", "/security"}});
}

void WebServer::secure_headers(Response& r, const Connection& connection) const {
    r.set(http::field::server, "openbcpm");
    r.set("X-Content-Type-Options", "nosniff");
    r.set("X-Frame-Options", "DENY");
    r.set("Referrer-Policy", "no-referrer");
    r.set("Cross-Origin-Opener-Policy", "same-origin");
    r.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    r.set("Content-Security-Policy",
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; "
          "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    if (connection.tls && security_.https_required()) {
        r.set(http::field::strict_transport_security, "max-age=31536000");
    }
    if (r.find(http::field::cache_control) == r.end())
        r.set(http::field::cache_control, "no-store");
}

Reply WebServer::respond(Context& c, http::status status, const nlohmann::json& body) {
    Response r{status, c.request.version()};
    r.set(http::field::content_type, bsv(kJson));
    r.keep_alive(c.request.keep_alive());
    r.body() = body.dump();
    r.prepare_payload();
    return {std::move(r), {}, {}};
}

Reply WebServer::error(Context& c, http::status status, const std::string& message) {
    if (status == http::status::unauthorized || status == http::status::forbidden) ++refused_;
    return respond(c, status, {{"error", message}});
}

Reply WebServer::redirect(Context& c, const std::string& location, http::status status) {
    Response r{status, c.request.version()};
    r.set(http::field::location, location);
    r.set(http::field::content_type, "text/plain; charset=utf-8");
    r.keep_alive(c.request.keep_alive());
    r.body() = "Redirecting to " + location + "\n";
    r.prepare_payload();
    return {std::move(r), {}, {}};
}

Reply WebServer::ask_password_work(PasswordWork work) {
    Reply r;
    r.password_work = std::move(work);
    return r;
}

Reply WebServer::asset(Context& c, std::string_view path) {
    const Asset* a = find_asset(path);
    if (!a) return error(c, http::status::not_found, "no such page");
    Response r{http::status::ok, c.request.version()};
    auto inm = c.request.find(http::field::if_none_match);
    const bool is_static = path.rfind("/static/", 0) == 0;
    if (is_static && inm != c.request.end() && sv(inm->value()) == a->etag) {
        r.result(http::status::not_modified);
    } else {
        r.body() = std::string(a->body);
    }
    r.set(http::field::content_type, bsv(a->content_type));
    r.set(http::field::etag, bsv(a->etag));
    // Static files revalidate cheaply; pages are never cached (they sit behind login).
    r.set(http::field::cache_control, is_static ? "no-cache" : "no-store");
    r.keep_alive(c.request.keep_alive());
    r.prepare_payload();
    return {std::move(r), {}, {}};
}

void WebServer::audit(Context& c, std::string action, std::string detail) {
    audit_.add(c.user(), c.connection.client, std::move(action), std::move(detail));
}

Reply WebServer::handle(Request& request, const Connection& connection,
                        const PasswordVerdict* verdict) {
    if (!verdict) ++requests_;
    auto target = parse_target(sv(request.target()));
    Context c{
        request, connection, target ? std::move(*target) : Target{}, nullptr, {}, false, {}, {},
        {},      verdict};
    Reply reply = [&]() -> Reply {
        if (!target) return error(c, http::status::bad_request, "malformed request target");
        if (verdict && verdict->busy) {
            Reply busy = error(c, http::status::service_unavailable,
                               "too many logins at once: try again in a moment");
            busy.response.set(http::field::retry_after, "1");
            return busy;
        }
        // The two HTTPS modes move plain HTTP over to TLS on the same port.
        if (!connection.tls && security_.https_required()) {
            return redirect(c,
                            own_origin(request, connection, true) + std::string(request.target()),
                            http::status::moved_permanently);
        }
        http::verb method = request.method();
        if (method == http::verb::head) method = http::verb::get;
        const Route* route = nullptr;
        bool path_known = false;
        for (const Route& r : routes()) {
            const bool prefix = r.path.size() > 1 && r.path.back() == '/';
            const bool match =
                prefix ? c.target.path.rfind(r.path, 0) == 0 : c.target.path == r.path;
            if (!match) continue;
            path_known = true;
            if (r.method == method) {
                route = &r;
                break;
            }
        }
        if (!route) {
            if (path_known) return error(c, http::status::method_not_allowed, "method not allowed");
            return error(c, http::status::not_found, "not found");
        }
        // A meter of a fleet makes its admin's credentials after it started:
        // what needs them waits (the connection asks again once they are made).
        if (users_.pending_initial() && (route->handler == &WebServer::api_login ||
                                         route->handler == &WebServer::api_login_challenge ||
                                         route->handler == &WebServer::api_login_proof ||
                                         route->handler == &WebServer::api_password)) {
            Reply wait;
            wait.wait_for_credentials = true;
            return wait;
        }

        c.session = session_of(request);
        if (c.session) {
            for (const auto& [name, value] : parse_cookies(sv(request[http::field::cookie]))) {
                if (name == kCookie) c.token = value;
            }
        }
        if (!c.session && !route->is_public && method == http::verb::get && metrics_token_hash_ &&
            (c.target.path == "/metrics" || c.target.path.rfind("/api/", 0) == 0)) {
            // Read-only access for scrapers and scripts: "Authorization: Bearer <token>".
            const std::string_view auth = sv(request[http::field::authorization]);
            if (auth.substr(0, 7) == "Bearer " &&
                equal_tokens(sha256_hex(auth.substr(7)), *metrics_token_hash_)) {
                c.bearer = true;
            }
        }
        if (auto refusal = unconfigured_refusal(c, *route)) return std::move(*refusal);
        if (!route->is_public && !c.session && !c.bearer) {
            if (route->is_page) {
                if (c.target.path == "/" && !security_.configured())
                    return redirect(c, "/unconfigured");
                ++refused_;
                return redirect(c, "/login");
            }
            return error(c, http::status::unauthorized, "log in first");
        }
        // Changes need the session's CSRF token and must come from our own pages.
        if (method != http::verb::get) {
            if (!same_origin(request, connection)) {
                audit(c, "refused",
                      "cross-origin " + std::string(request.method_string()) + " " + c.target.path);
                return error(c, http::status::forbidden, "cross-origin request refused");
            }
            DecodedBody body = decode_body(sv(request[http::field::content_type]), request.body());
            switch (body.kind) {
                case DecodedBody::Kind::Form:
                    c.form = std::move(body.form);
                    break;
                case DecodedBody::Kind::Multipart:
                    c.parts = std::move(body.parts);
                    break;
                case DecodedBody::Kind::Json:
                    c.json = std::move(body.json);
                    break;
                case DecodedBody::Kind::Malformed:
                    return error(c, http::status::bad_request, "malformed request body");
                case DecodedBody::Kind::Unsupported:
                    return error(c, http::status::unsupported_media_type,
                                 "unsupported content type");
                case DecodedBody::Kind::Empty:
                    break;
            }
            // Login itself is guarded by the Origin check above: a second login
            // from a tab that still holds a cookie has no token to send.
            const bool login = route->handler == &WebServer::api_login ||
                               route->handler == &WebServer::api_login_challenge ||
                               route->handler == &WebServer::api_login_proof;
            if (c.session && !login) {
                std::string sent(request["X-CSRF-Token"]);
                if (sent.empty() && c.form) sent = field(*c.form, "csrf").value_or("");
                if (sent.empty() && c.parts) {
                    if (const Part* p = find_part(*c.parts, "csrf")) sent = p->data;
                }
                if (!equal_tokens(sent, c.session->csrf)) {
                    audit(c, "refused", "missing or wrong CSRF token on " + c.target.path);
                    return error(c, http::status::forbidden, "missing or wrong CSRF token");
                }
                // Once per request: not again when it comes back with its password verdict.
                if (!verdict) {
                    if (auto refusal = integrity_refusal(c)) return std::move(*refusal);
                }
            }
        }
        try {
            return (this->*(route->handler))(c);
        } catch (const StoreError& e) {
            // Handlers store before they change anything: nothing changed.
            spdlog::warn("web: {} {}: {}", std::string(request.method_string()), c.target.path,
                         e.what());
            return error(c, http::status::service_unavailable,
                         std::string("Storage is failing, nothing was changed: ") + e.what());
        } catch (const std::exception& e) {
            spdlog::error("web: {} {}: {}", std::string(request.method_string()), c.target.path,
                          e.what());
            return error(c, http::status::internal_server_error, "internal error");
        }
    }();
    if (request.method() == http::verb::head) {
        const auto length = reply.response.body().size();
        reply.response.body().clear();
        reply.response.content_length(length);
    }
    secure_headers(reply.response, connection);
    return reply;
}

std::optional<Response> WebServer::authorize_stream(const Request& request,
                                                    const Connection& connection) {
    Response r{http::status::unauthorized, request.version()};
    r.set(http::field::content_type, bsv(kJson));
    auto target = parse_target(sv(request.target()));
    if (!target || target->path != "/api/stream") {
        r.result(http::status::not_found);
        r.body() = R"({"error":"not found"})";
    } else if (!connection.tls && security_.https_required()) {
        r.result(http::status::forbidden);
        r.body() = R"({"error":"use wss://"})";
    } else if (!session_of(request)) {
        ++refused_;
        r.body() = R"({"error":"log in first"})";
    } else if (!security_.configured()) {
        ++refused_;
        r.result(http::status::conflict);
        r.body() =
            nlohmann::json{{"error", "choose a security mode first (the /security page)"}}.dump();
    } else if (!same_origin(request, connection)) {
        ++refused_;
        r.result(http::status::forbidden);
        r.body() = R"({"error":"cross-origin WebSocket refused"})";
    } else {
        return std::nullopt;
    }
    r.prepare_payload();
    secure_headers(r, connection);
    return r;
}

// --- Pages ---

Reply WebServer::page_root(Context& c) {
    return asset(c, "/");
}
Reply WebServer::page(Context& c) {
    if (c.target.path == "/login" && c.session) return redirect(c, "/");
    return asset(c, c.target.path);
}
Reply WebServer::page_static(Context& c) {
    return asset(c, c.target.path);
}

}  // namespace openbcpm::web
