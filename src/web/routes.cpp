// The request side of the web face: authentication, CSRF, the guide's pages
// and the JSON API. Every handler runs on the event loop thread.
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
#include "web/server.hpp"

namespace openbcpm::web {

namespace {

constexpr std::string_view kCookie = "bcpm_session";
constexpr std::string_view kJson = "application/json";

// The pages: URL path -> embedded asset of the same path.
const std::vector<std::string> kPages = {"/",           "/network",  "/diagnostics",
                                         "/panel",      "/charts",   "/events",
                                         "/simulation", "/security", "/settings"};

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<int64_t> json_int(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    if (it->is_number_integer()) return it->get<int64_t>();
    if (it->is_number_unsigned()) {
        const auto u = it->get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
        return static_cast<int64_t>(u);
    }
    return std::nullopt;
}

std::optional<double> json_number(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    const double v = it->get<double>();
    if (!std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<std::string> json_string(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

nlohmann::json setting_value_json(const SettingValue& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) return *i;
    return std::get<std::string>(v);
}

// A JSON value to a setting value of the definition's type; nullopt when the type is wrong.
std::optional<SettingValue> setting_value_of(const SettingDef& def, const nlohmann::json& v) {
    if (def.is_string) {
        if (!v.is_string()) return std::nullopt;
        return SettingValue{v.get<std::string>()};
    }
    if (v.is_number_integer()) return SettingValue{v.get<int64_t>()};
    if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
        return SettingValue{static_cast<int64_t>(v.get<uint64_t>())};
    }
    return std::nullopt;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Prometheus exposition helpers.
class Metrics {
  public:
    void family(const char* name, const char* type, const char* help) {
        out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    }
    void sample(const std::string& name, const std::string& labels, double v) {
        out_ << name;
        if (!labels.empty()) out_ << '{' << labels << '}';
        out_ << ' ' << fmt::format("{}", v) << '\n';
    }
    std::string str() const { return out_.str(); }

  private:
    std::ostringstream out_;
};

// A refused setting: 503 when it was valid but could not be stored (the
// storage fails; nothing changed, try later), else 400.
http::status status_of(const WriteResult& r) {
    return r.error == WriteError::StorageFailed ? http::status::service_unavailable
                                                : http::status::bad_request;
}

http::status status_of(points::Refusal r) {
    switch (r) {
        case points::Refusal::StorageFailed:
            return http::status::service_unavailable;  // valid, not stored: nothing changed
        case points::Refusal::AccessDenied:
            return http::status::forbidden;
        default:
            return http::status::bad_request;
    }
}

// A JSON value as written to a setting: a number that is not a whole one is
// judged by the write path (refused with the settings table's range), text
// as text; anything else is no value.
std::optional<points::WriteValue> write_value_of(const nlohmann::json& v) {
    if (v.is_string()) return points::WriteValue{v.get<std::string>()};
    if (v.is_number_integer()) return points::WriteValue{v.get<int64_t>()};
    if (v.is_number_unsigned()) {
        if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
        return points::WriteValue{static_cast<int64_t>(v.get<uint64_t>())};
    }
    if (v.is_number_float()) return points::WriteValue{v.get<double>()};
    return std::nullopt;
}

std::string write_value_text(const points::WriteValue& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
    return std::get<std::string>(v);
}

}  // namespace

struct WebServer::Context {
    Request& request;
    const Connection& connection;
    Target target;
    Session* session = nullptr;
    std::string token;                         // the session cookie
    bool bearer = false;                       // authenticated by the metrics/API read token
    std::optional<Fields> form;                // parsed form fields, when the body is a form
    std::optional<std::vector<Part>> parts;    // parsed multipart parts
    std::optional<nlohmann::json> json;        // parsed JSON object body
    const PasswordVerdict* verdict = nullptr;  // the password work this request asked for, done
    std::string user() const { return session ? session->user : std::string(); }
};

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
            {V::get, "/api/stream", false, false, &WebServer::api_stream_info},
            {V::get, "/api/connections", false, false, &WebServer::api_connections},
            {V::get, "/metrics", false, false, &WebServer::metrics},
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

// --- Authentication ---

Reply WebServer::api_login(Context& c) {
    std::string user, password;
    if (c.json) {
        user = json_string(*c.json, "username").value_or("");
        password = json_string(*c.json, "password").value_or("");
    } else if (c.form) {
        user = field(*c.form, "username").value_or("");
        password = field(*c.form, "password").value_or("");
    }
    if (!c.connection.tls && !options_.allow_plain_http) {
        // Protected HTTP: the password never crosses plain HTTP.
        return error(c, http::status::forbidden,
                     "over plain HTTP the password is not sent: use the challenge login "
                     "(POST /api/login/challenge, then /api/login/proof) or https://");
    }
    if (user.empty() || user.size() > 64 || password.size() > 256) {
        return error(c, http::status::bad_request, "enter the user name and the password");
    }
    const int64_t now = unix_now();
    if (auto locked = login_locked(c, user, now)) return std::move(*locked);
    if (!c.verdict) {
        const User* known = users_.find(user);
        PasswordWork work{known ? known->hash : std::string(), password, {}};
        work.derive_scram = known && !known->scram_keys.valid();
        return ask_password_work(std::move(work));
    }
    if (!c.verdict->verified) {
        ++logins_failed_;
        const bool locked = throttle_.fail(user, now);
        audit_.add(user, c.connection.client, "login failed", locked ? "account locked" : "");
        return error(c, http::status::unauthorized, "wrong user name or password");
    }
    throttle_.succeed(user);
    if (c.verdict->scram_keys.valid()) {
        // An account from before protected HTTP: its challenge-login keys, now
        // that the password is at hand. The login goes on if they cannot be stored.
        try {
            users_.set_scram(user, c.verdict->scram_keys);
        } catch (const StoreError& e) {
            spdlog::warn("web: challenge-login keys of {} not stored: {}", user, e.what());
        }
    }
    Session* s = nullptr;
    const std::string token = sessions_.create(user, &s);
    c.session = s;
    audit(c, "login", c.connection.tls ? "https" : "http");
    return login_reply(c, user, token, s, nlohmann::json::object());
}

std::optional<Reply> WebServer::login_locked(Context& c, const std::string& user, int64_t now) {
    const int64_t left = throttle_.locked_for(user, now);
    if (!left) return std::nullopt;
    ++refused_;
    audit_.add(user, c.connection.client, "login refused", "account locked");
    Reply r = respond(c, http::status::too_many_requests,
                      {{"error", "too many failed logins: the account is locked for " +
                                     std::to_string(left) + " s"},
                       {"locked_seconds", left}});
    r.response.set(http::field::retry_after, std::to_string(left));
    return r;
}

Reply WebServer::login_reply(Context& c, const std::string& user, const std::string& token,
                             Session* s, nlohmann::json extra) {
    const User* u = users_.find(user);
    nlohmann::json body = {{"ok", true},
                           {"user", user},
                           {"csrf", s->csrf},
                           {"initial_password", u && u->initial},
                           {"next", security_.configured() ? "/" : "/security"}};
    body.update(extra);
    Reply r = respond(c, http::status::ok, body);
    std::string cookie = std::string(kCookie) + "=" + token +
                         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                         std::to_string(sessions_.limits().absolute_seconds);
    if (c.connection.tls) cookie += "; Secure";
    r.response.set(http::field::set_cookie, cookie);
    return r;
}

// The challenge login (protected HTTP, docs/web.md): RFC 5802's exchange in
// JSON. Unknown names get a challenge too, with a salt of their own that
// stays the same, and fail at the proof like a wrong password.
Reply WebServer::api_login_challenge(Context& c) {
    const auto req = c.json ? scram::parse_challenge(*c.json) : std::nullopt;
    if (!req) {
        return error(c, http::status::bad_request,
                     "send the user name and a client nonce (16 to 128 printable characters, no "
                     "comma)");
    }
    const int64_t now = unix_now();
    if (auto locked = login_locked(c, req->username, now)) return std::move(*locked);
    const User* u = users_.find(req->username);
    const scram::Credentials keys =
        u && u->scram_keys.valid() ? u->scram_keys
                                   : scram::fake_credentials(users_.scram_secret(), req->username);
    const scram::Challenge& ch =
        challenges_.issue(req->username, req->client_nonce, keys.salt, keys.iterations, now);
    return respond(c, http::status::ok,
                   {{"salt", scram::base64_encode(ch.salt)},
                    {"iterations", ch.iterations},
                    {"nonce", ch.nonce}});
}

Reply WebServer::api_login_proof(Context& c) {
    const auto req = c.json ? scram::parse_proof(*c.json) : std::nullopt;
    if (!req) {
        return error(c, http::status::bad_request,
                     "send the user name, the challenge's nonce and the proof (base64)");
    }
    const int64_t now = unix_now();
    if (auto locked = login_locked(c, req->username, now)) return std::move(*locked);
    // Single use: taken whatever the outcome.
    const auto ch = challenges_.take(req->nonce, now);
    if (!ch || ch->user != req->username) {
        return respond(c, http::status::unauthorized,
                       {{"error", "the login challenge expired or was used already: log in again"},
                        {"retry", true}});
    }
    const User* u = users_.find(ch->user);
    const scram::Credentials keys = u && u->scram_keys.valid()
                                        ? u->scram_keys
                                        : scram::fake_credentials(users_.scram_secret(), ch->user);
    const std::string auth =
        scram::auth_message(ch->user, ch->client_nonce, ch->nonce, ch->salt, ch->iterations);
    auto verified = scram::verify_proof(keys, auth, req->proof);
    // A password changed since the challenge: its salt is another, so is the proof.
    if (keys.salt != ch->salt || keys.iterations != ch->iterations) verified.reset();
    if (!verified) {
        ++logins_failed_;
        const bool locked = throttle_.fail(ch->user, now);
        audit_.add(ch->user, c.connection.client, "login failed",
                   locked ? "account locked" : "challenge login");
        return error(c, http::status::unauthorized, "wrong user name or password");
    }
    throttle_.succeed(ch->user);
    Session* s = nullptr;
    const std::string token =
        sessions_.create(ch->user, &s, scram::session_key(verified->client_key, auth));
    c.session = s;
    audit(c, "login", c.connection.tls ? "https (challenge)" : "http (challenge)");
    return login_reply(c, ch->user, token, s,
                       {{"server_signature", scram::base64_encode(verified->server_signature)}});
}

// Protected HTTP: a change over plain HTTP carries X-Integrity and
// X-Integrity-Seq (web/scram.hpp); a tag that is sent is checked in every mode.
std::optional<Reply> WebServer::integrity_refusal(Context& c) {
    const std::string_view tag = sv(c.request["X-Integrity"]);
    const std::string_view seq = sv(c.request["X-Integrity-Seq"]);
    const bool required = security_.integrity_required() && !c.connection.tls;
    if (!required && tag.empty() && seq.empty()) return std::nullopt;
    const auto e =
        scram::check_integrity(c.session->key, c.session->seq, sv(c.request.method_string()),
                               sv(c.request.target()), c.request.body(), tag, seq);
    if (e == scram::IntegrityError::None) {
        sessions_.save();  // a restart must not make an old sequence number good again
        return std::nullopt;
    }
    audit(c, "refused",
          "integrity tag " + std::string(scram::to_string(e)) + " on " +
              std::string(c.request.method_string()) + " " + c.target.path);
    std::string message = "the request's integrity tag is wrong: nothing was changed";
    if (e == scram::IntegrityError::Missing)
        message = "this meter runs protected HTTP: a change needs an integrity tag (X-Integrity)";
    else if (e == scram::IntegrityError::NoKey)
        message = "this session has no integrity key: log in with the challenge login";
    else if (e == scram::IntegrityError::Replayed)
        message = "the request was replayed (its sequence number was used): nothing was changed";
    nlohmann::json body = {{"error", message}, {"integrity", scram::to_string(e)}};
    if (e == scram::IntegrityError::Replayed) body["last_seq"] = c.session->seq;
    ++refused_;
    return respond(c, http::status::forbidden, body);
}

Reply WebServer::api_logout(Context& c) {
    audit(c, "logout", "");
    sessions_.remove(c.token);
    Reply r = respond(c, http::status::ok, {{"ok", true}});
    r.response.set(http::field::set_cookie, std::string(kCookie) +
                                                "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                                (c.connection.tls ? "; Secure" : ""));
    return r;
}

Reply WebServer::api_session(Context& c) {
    if (!c.session) return error(c, http::status::unauthorized, "log in first");
    const User* u = users_.find(c.session->user);
    const Settings& s = device_.settings();
    return respond(c, http::status::ok,
                   {{"user", c.session->user},
                    {"csrf", c.session->csrf},
                    {"initial_password", u && u->initial},
                    {"expires", std::min(c.session->last_seen + sessions_.limits().idle_seconds,
                                         c.session->created + sessions_.limits().absolute_seconds)},
                    {"security", to_string(security_.mode())},
                    {"integrity", security_.integrity_required() && !c.connection.tls},
                    {"session_key", !c.session->key.empty()},
                    {"model", s.model.model_name()},
                    {"serial_number", fmt::format("{:08X}", s.identity.serial_number)},
                    {"simulating", device_.simulating()}});
}

Reply WebServer::api_password(Context& c) {
    if (!c.session) return error(c, http::status::unauthorized, "log in first");
    // Protected HTTP: the passwords come sealed with the session key.
    std::optional<nlohmann::json> opened;
    if (c.json && c.json->contains("sealed")) {
        const auto box = scram::parse_sealed((*c.json)["sealed"]);
        const auto text = box && !c.session->key.empty()
                              ? scram::open(c.session->key, *box, scram::kPasswordAad)
                              : std::nullopt;
        if (text) opened = nlohmann::json::parse(*text, nullptr, false);
        if (!opened || !opened->is_object()) {
            audit(c, "password change refused", "sealed passwords not opened");
            return error(c, http::status::bad_request,
                         "the sealed passwords could not be opened: log in again");
        }
    } else if (!c.connection.tls && !options_.allow_plain_http) {
        return error(c, http::status::forbidden,
                     "over plain HTTP the passwords are sent sealed with the session key");
    }
    auto get = [&](const char* k) -> std::string {
        if (opened) return json_string(*opened, k).value_or("");
        if (c.json) return json_string(*c.json, k).value_or("");
        if (c.form) return field(*c.form, k).value_or("");
        return {};
    };
    const std::string current = get("current"), password = get("password"),
                      confirm = get("confirm");
    const std::string user = c.session->user;
    const int64_t now = unix_now();
    if (throttle_.locked_for(user, now))
        return error(c, http::status::too_many_requests, "too many failed attempts");
    // The new password's problems, told only once the current one is verified.
    std::optional<std::string> problem;
    if (password != confirm)
        problem = "the two new passwords differ";
    else if (auto why = password_problem(password, user))
        problem = std::move(why);
    else if (password == current)
        problem = "the new password must differ from the old";
    if (!c.verdict) {
        const User* u = users_.find(user);
        return ask_password_work(
            PasswordWork{u ? u->hash : std::string(), current, problem ? std::string() : password});
    }
    if (!c.verdict->verified) {
        throttle_.fail(user, now);
        audit(c, "password change refused", "wrong current password");
        return error(c, http::status::forbidden, "the current password is wrong");
    }
    if (problem) return error(c, http::status::bad_request, *problem);
    // Stored first: StoreError = 503, unchanged.
    users_.set_hash(user, c.verdict->new_hash, c.verdict->scram_keys);
    sessions_.remove_user(user, c.token);  // other sessions of this user end
    if (user == "admin") remove_initial_password();
    audit(c, "password changed", "");
    return respond(c, http::status::ok, {{"ok", true}, {"message", "The password was changed."}});
}

Reply WebServer::api_security_get(Context& c) {
    const CertificateInfo info = describe_certificate(security_.active_pair().certificate_pem);
    return respond(c, http::status::ok,
                   {{"mode", to_string(security_.mode())},
                    {"configured", security_.configured()},
                    {"own_certificate", security_.has_own_certificate()},
                    {"plain_http_allowed", options_.allow_plain_http},
                    {"certificate",
                     {{"subject", info.subject},
                      {"issuer", info.issuer},
                      {"not_before", info.not_before},
                      {"not_after", info.not_after},
                      {"sha256", info.sha256_fingerprint}}}});
}

Reply WebServer::api_security_set(Context& c) {
    std::string mode, certificate, key, passphrase;
    if (c.parts) {
        auto text = [&](const char* n) -> std::string {
            const Part* p = find_part(*c.parts, n);
            return p ? p->data : std::string();
        };
        mode = text("mode");
        certificate = text("certificate");
        key = text("private_key");
        passphrase = text("passphrase");
    } else if (c.json) {
        mode = json_string(*c.json, "mode").value_or("");
        certificate = json_string(*c.json, "certificate").value_or("");
        key = json_string(*c.json, "private_key").value_or("");
        passphrase = json_string(*c.json, "passphrase").value_or("");
    }
    auto m = security_mode_from_string(mode);
    if (!m || *m == SecurityMode::Unconfigured) {
        return error(c, http::status::bad_request,
                     std::string("choose a mode: https-own, https-self-signed or http-protected") +
                         (options_.allow_plain_http ? " (or http)" : ""));
    }
    if (*m == SecurityMode::Http && !options_.allow_plain_http) {
        audit(c, "security mode refused", "http");
        return error(c, http::status::bad_request,
                     "plain HTTP sends the password in clear and needs [web] allow_plain_http = "
                     "true in the configuration file; choose http-protected (HTTP with built-in "
                     "payload encryption)");
    }
    if (*m == SecurityMode::HttpsOwnCertificate) {
        try {
            security_.use_own_certificate(certificate, key, passphrase);
        } catch (const std::invalid_argument& e) {
            audit(c, "certificate refused", e.what());
            return error(c, http::status::bad_request,
                         std::string("The certificate was not accepted: ") + e.what() +
                             ". The previous certificate stays in use.");
        }
    } else if (*m == SecurityMode::HttpsSelfSigned) {
        security_.use_self_signed();
    } else if (*m == SecurityMode::HttpProtected) {
        security_.use_http_protected();
    } else {
        security_.use_http();
        spdlog::warn("web: plain HTTP chosen: passwords cross the network in clear");
    }
    audit(c, "security mode", std::string(to_string(*m)));
    const bool https = *m != SecurityMode::Http && *m != SecurityMode::HttpProtected;
    return respond(c, http::status::ok,
                   {{"ok", true},
                    {"mode", to_string(*m)},
                    {"redirect", own_origin(c.request, c.connection, https) + "/"}});
}

Reply WebServer::api_audit(Context& c) {
    size_t limit = 200;
    if (auto l = field(c.target.query, "limit"))
        limit = static_cast<size_t>(std::clamp(std::atoi(l->c_str()), 1, 1000));
    return respond(c, http::status::ok, {{"entries", audit_.to_json(limit)}});
}

Reply WebServer::api_storage(Context& c) {
    const StoreHealth h = device_.storage_health();
    nlohmann::json log = nlohmann::json::array();
    if (Store* st = device_.store()) {
        for (const LogEntry& e : st->load_log(50))
            log.push_back({{"time", e.wall_time}, {"kind", e.kind}, {"text", e.text}});
    }
    const std::string note = device_.storage_recovery().note();
    const nlohmann::json restored = note.empty() ? nlohmann::json(nullptr) : nlohmann::json(note);
    const nlohmann::json since = h.failing ? nlohmann::json(h.since) : nlohmann::json(nullptr);
    return respond(c, http::status::ok,
                   {{"stored", device_.store() != nullptr},
                    {"state", h.failing ? "failing" : "ok"},
                    {"since", since},
                    {"error", h.error},
                    {"writes_refused", h.failed},
                    {"events_waiting", device_.events_pending()},
                    {"events_unrecorded", device_.events_unrecorded()},
                    {"last_backup", h.last_backup},
                    {"backup_error", h.backup_error},
                    {"restored", restored},
                    {"log", log}});
}

Reply WebServer::api_metrics_token(Context& c) {
    if (c.request.method() != http::verb::post) {
        return respond(c, http::status::ok, {{"configured", metrics_token_hash_.has_value()}});
    }
    if (!c.session) return error(c, http::status::unauthorized, "log in first");
    const std::string token = random_hex(24);
    const std::string hash = sha256_hex(token);
    if (Store* st = device_.store()) st->save_text("web.metrics_token", hash);  // stored first
    metrics_token_hash_ = hash;
    audit(c, "read token created", "");
    return respond(c, http::status::ok, {{"token", token}});
}

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

Reply WebServer::api_stream_info(Context& c) {
    return error(c, http::status::upgrade_required,
                 "/api/stream is a WebSocket: connect with ws:// or wss://");
}

namespace {
nlohmann::json counters_json(const ConnectionCounters& k) {
    return {{"open", k.open},       {"accepted", k.accepted},   {"refused", k.refused},
            {"evicted", k.evicted}, {"timed_out", k.timed_out}, {"stalled", k.stalled}};
}
}  // namespace

Reply WebServer::api_connections(Context& c) {
    const ConnectionStats& stats = device_.connection_stats();
    const ModbusConfig& modbus = device_.config().modbus;
    nlohmann::json m = counters_json(stats.modbus_tcp);
    m["max_connections"] = modbus.max_connections;
    m["idle_timeout"] = modbus.idle_timeout_s;
    nlohmann::json w = counters_json(stats.web);
    w["max_connections"] = options_.max_connections;
    w["max_connections_per_address"] = options_.max_connections_per_address;
    return respond(c, http::status::ok, {{"modbus_tcp", std::move(m)}, {"web", std::move(w)}});
}

Reply WebServer::metrics(Context& c) {
    const MeterSnapshot& snap = device_.snapshot();
    const Settings& s = device_.settings();
    Metrics m;
    static const char* ln[] = {"A", "B", "C"};
    static const char* ll[] = {"AB", "BC", "CA"};
    m.family("bcpm_voltage_ln_volts", "gauge", "Line-to-neutral voltage");
    for (size_t i = 0; i < 3; ++i)
        m.sample("bcpm_voltage_ln_volts", fmt::format("phase=\"{}\"", ln[i]), snap.voltage.ln[i]);
    m.family("bcpm_voltage_ll_volts", "gauge", "Line-to-line voltage");
    for (size_t i = 0; i < 3; ++i)
        m.sample("bcpm_voltage_ll_volts", fmt::format("pair=\"{}\"", ll[i]), snap.voltage.ll[i]);
    m.family("bcpm_frequency_hertz", "gauge", "Line frequency");
    m.sample("bcpm_frequency_hertz", "", snap.voltage.frequency);
    struct Column {
        const char* name;
        const char* type;
        const char* help;
        double (*get)(const ChannelReadings&);
    };
    static const Column columns[] = {
        {"bcpm_channel_current_amperes", "gauge", "RMS current of a branch or aux input",
         [](const ChannelReadings& r) { return r.current; }},
        {"bcpm_channel_power_watts", "gauge", "Real power",
         [](const ChannelReadings& r) { return r.kw * 1000.0; }},
        {"bcpm_channel_apparent_power_voltamperes", "gauge", "Apparent power",
         [](const ChannelReadings& r) { return r.kva * 1000.0; }},
        {"bcpm_channel_power_factor", "gauge", "Power factor",
         [](const ChannelReadings& r) { return r.pf; }},
        {"bcpm_channel_energy_kilowatt_hours_total", "counter", "Real energy accumulated",
         [](const ChannelReadings& r) { return r.kwh; }},
        {"bcpm_channel_current_demand_amperes", "gauge", "Current demand",
         [](const ChannelReadings& r) { return r.current_demand; }},
        {"bcpm_channel_power_demand_watts", "gauge", "Real power demand",
         [](const ChannelReadings& r) { return r.kw_demand * 1000.0; }},
    };
    for (const Column& col : columns) {
        m.family(col.name, col.type, col.help);
        for (int p = 1; p <= s.model.panels; ++p) {
            const PanelReadings& pr = snap.panel[static_cast<size_t>(p - 1)];
            for (int ch = 1; ch <= kChannelsPerPanel; ++ch) {
                const ChannelReadings& r = pr.channel[static_cast<size_t>(ch - 1)];
                if (!r.present) continue;
                m.sample(col.name, fmt::format("panel=\"{}\",channel=\"{}\"", p, ch), col.get(r));
            }
        }
    }
    m.family("bcpm_channel_event_status", "gauge",
             "Event status bits of a channel (register map bits)");
    for (int p = 1; p <= s.model.panels; ++p) {
        const PanelReadings& pr = snap.panel[static_cast<size_t>(p - 1)];
        for (int ch = 1; ch <= kChannelsPerPanel; ++ch) {
            if (!pr.channel[static_cast<size_t>(ch - 1)].present) continue;
            m.sample("bcpm_channel_event_status", fmt::format("panel=\"{}\",channel=\"{}\"", p, ch),
                     pr.events.status[static_cast<size_t>(ch - 1)]);
        }
    }
    m.family("bcpm_mains_power_watts", "gauge", "Real power of the mains (aux 1..3)");
    m.family("bcpm_panel_health", "gauge", "Device health bits of a panel");
    for (int p = 1; p <= s.model.panels; ++p) {
        const PanelReadings& pr = snap.panel[static_cast<size_t>(p - 1)];
        m.sample("bcpm_mains_power_watts", fmt::format("panel=\"{}\"", p), pr.mains.kw * 1000.0);
        m.sample("bcpm_panel_health", fmt::format("panel=\"{}\"", p), pr.health);
    }
    m.family("bcpm_windows_total", "counter", "Metering windows since start");
    m.sample("bcpm_windows_total", "", static_cast<double>(snap.sequence));
    m.family("bcpm_meter_lag_seconds", "gauge", "How far metering lags behind the source clock");
    m.sample("bcpm_meter_lag_seconds", "", device_.lag_seconds());
    m.family("bcpm_events_dropped_total", "counter", "Events lost because the queue was full");
    m.sample("bcpm_events_dropped_total", "", static_cast<double>(device_.events_dropped()));
    m.family("bcpm_simulation_speed", "gauge", "Simulated seconds per real second");
    m.sample("bcpm_simulation_speed", "", device_.speed());
    m.family("bcpm_web_requests_total", "counter", "HTTP requests handled by the web face");
    m.sample("bcpm_web_requests_total", "", static_cast<double>(requests_));
    m.family("bcpm_web_requests_refused_total", "counter",
             "Requests refused for missing login, CSRF or origin");
    m.sample("bcpm_web_requests_refused_total", "", static_cast<double>(refused_));
    m.family("bcpm_web_logins_failed_total", "counter", "Failed logins");
    m.sample("bcpm_web_logins_failed_total", "", static_cast<double>(logins_failed_));
    m.family("bcpm_web_sessions", "gauge", "Live login sessions");
    m.sample("bcpm_web_sessions", "", static_cast<double>(sessions_.size()));
    const ConnectionStats& stats = device_.connection_stats();
    const std::pair<const char*, const ConnectionCounters*> faces[] = {
        {"modbus_tcp", &stats.modbus_tcp}, {"web", &stats.web}};
    m.family("bcpm_connections_open", "gauge", "Open connections of a stream face");
    for (const auto& [face, k] : faces)
        m.sample("bcpm_connections_open", fmt::format("face=\"{}\"", face),
                 static_cast<double>(k->open));
    m.family("bcpm_connections_accepted_total", "counter", "Connections accepted");
    for (const auto& [face, k] : faces)
        m.sample("bcpm_connections_accepted_total", fmt::format("face=\"{}\"", face),
                 static_cast<double>(k->accepted));
    m.family("bcpm_connections_refused_total", "counter",
             "Connections closed at once: over a connection cap, or not accepted");
    for (const auto& [face, k] : faces)
        m.sample("bcpm_connections_refused_total", fmt::format("face=\"{}\"", face),
                 static_cast<double>(k->refused));
    m.family("bcpm_connections_closed_total", "counter",
             "Connections the meter closed: evicted (a newcomer at the cap took the slot), "
             "timed_out (idle, or a request head too slow), stalled (answers not read in time)");
    for (const auto& [face, k] : faces) {
        for (const auto& [reason, n] :
             {std::pair{"evicted", k->evicted}, std::pair{"timed_out", k->timed_out},
              std::pair{"stalled", k->stalled}}) {
            m.sample("bcpm_connections_closed_total",
                     fmt::format("face=\"{}\",reason=\"{}\"", face, reason),
                     static_cast<double>(n));
        }
    }
    Response r{http::status::ok, c.request.version()};
    r.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    r.body() = m.str();
    r.keep_alive(c.request.keep_alive());
    r.prepare_payload();
    return {std::move(r), {}, {}};
}

}  // namespace openbcpm::web
