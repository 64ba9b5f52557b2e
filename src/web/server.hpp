// Inside the web face: the server core shared by every connection. The
// network side (server.cpp) reads requests and writes replies; the request
// side (routes.cpp) turns a request into a reply. Both run on the Device's
// event loop thread only, so nothing here is locked. The one exception is
// password hashing: it runs on the process's hashing workers
// (web/hashing_pool.hpp) over copies (PasswordWork), and its verdict comes
// back to the loop.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/connection_log.hpp"
#include "model/meter_model.hpp"
#include "web/auth.hpp"
#include "web/tls.hpp"
#include "web/web_face.hpp"

namespace openbcpm::web {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Beast (Boost 1.74) speaks boost::string_view; we speak std::string_view.
inline std::string_view sv(boost::beast::string_view s) {
    return {s.data(), s.size()};
}
inline boost::beast::string_view bsv(std::string_view s) {
    return {s.data(), s.size()};
}

inline constexpr size_t kMaxBodyBytes = 1024 * 1024;  // uploads (certificates, bdt.ini) are small
// The whole request head (and, before the first request, the TLS handshake)
// must arrive within this, however it trickles in.
inline constexpr std::chrono::seconds kHeadTimeout{10};
inline constexpr std::chrono::seconds kBodyTimeout{30};
// A reply or stream message the client does not take within this closes the connection.
inline constexpr std::chrono::seconds kDrainTimeout{15};
// Stream messages (events) queued for a client beyond the newest snapshot.
inline constexpr size_t kMaxUnsentBytes = 64 * 1024;

// What the server knows of the connection a request came on.
struct Connection {
    bool tls = false;
    std::string client;         // peer IP address
    std::string local_address;  // the meter's address the client reached (the socket's, not Host)
};

struct Reply {
    Response response;
    std::function<void()> after_write;  // runs once the reply is on the wire (System Restart)
    // Set instead of an answer when the handler needs a password verified or
    // hashed: the connection runs it off the loop, then handles the request
    // again with the verdict.
    std::optional<PasswordWork> password_work;
    // A write's ticket: the reply waits for Device::when_applied(ticket), so
    // that the client's next read, on any face, shows the write (0: at once).
    uint64_t ticket = 0;
    // Set when the body comes later (the site-level metrics: each meter's part
    // is made on that meter's own event loop): the connection calls it with a
    // function that takes the body, fills `response` with it and writes it.
    std::function<void(std::function<void(std::string)>)> body_later{};
    // Set instead of an answer when the request needs the admin's initial
    // credentials, which a meter of a fleet makes after it started: the
    // connection handles the request again once they are made.
    bool wait_for_credentials = false;
};

// Anything the server must be able to close on stop().
class Closable {
  public:
    virtual ~Closable() = default;
    virtual void close() = 0;
};

// A WebSocket client of the measurement stream.
class StreamClient : public Closable {
  public:
    // A snapshot replaces one still waiting to be sent: a client that falls
    // behind gets the newest measurements, not a backlog.
    virtual void send(std::shared_ptr<const std::string> message, bool snapshot) = 0;
};

class WebServer;
class TrendFeed;  // routes_trends.hpp

// A connection's place under the connection caps, handed from the first
// reader to the HTTP session to the stream session; freed with the last one.
class ConnectionSlot {
  public:
    ConnectionSlot(std::shared_ptr<WebServer> server, std::string address)
        : server_(std::move(server)), address_(std::move(address)) {}
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;
    ~ConnectionSlot();

  private:
    std::shared_ptr<WebServer> server_;
    std::string address_;
};

class WebServer : public std::enable_shared_from_this<WebServer> {
  public:
    WebServer(boost::asio::io_context& io, MeterModel& device, WebOptions options);
    ~WebServer();

    void start();
    void stop();
    bool stopped() const { return stopped_; }
    uint16_t port() const { return port_; }

    boost::asio::io_context& io() { return io_; }
    const WebOptions& options() const { return options_; }
    std::shared_ptr<boost::asio::ssl::context> tls_context() const { return security_.context(); }

    // Connections register here so that stop() can close them.
    void track(const std::shared_ptr<Closable>& c);
    void release(const std::string& address);  // by ~ConnectionSlot
    // A connection refused or closed for misbehaving: counted, and logged at
    // most once a minute. Nothing once stopped (the Device may be going).
    void incident(uint64_t ConnectionCounters::*counter, const std::string& what);

    // The request side (routes.cpp). `verdict` is the outcome of the
    // password_work an earlier handling of the same request asked for.
    Reply handle(Request& request, const Connection& connection,
                 const PasswordVerdict* verdict = nullptr);
    // Runs the work on the hashing workers; `done` then runs on the loop,
    // unless the server has stopped meanwhile. When the workers' queue is
    // full, `done` runs at once with a verdict that says so (busy: 503).
    void hash_off_loop(PasswordWork work, std::function<void(PasswordVerdict)> done);
    // Runs `done` on the loop once the initial credentials are made (at once
    // when they are), unless the server has stopped meanwhile.
    void when_credentials_ready(std::function<void()> done);
    // Runs `done` on the loop once the meter shows the write of `ticket`,
    // unless the server has stopped meanwhile.
    void when_applied(uint64_t ticket, std::function<void()> done);
    // A WebSocket upgrade of /api/stream: nullopt when allowed, else the refusal.
    std::optional<Response> authorize_stream(const Request& request, const Connection& connection);
    void add_stream_client(const std::shared_ptr<StreamClient>& client);

  private:
    struct Context;  // one request being handled
    using Handler = Reply (WebServer::*)(Context&);
    struct Route {
        http::verb method;
        std::string path;  // exact, or a prefix when it ends in '/'
        bool is_public;
        bool is_page;
        Handler handler;
    };
    friend std::vector<RouteInfo> route_table();
    static const std::vector<Route>& routes();

    void do_accept();
    ConnectionCounters& counters() { return device_.connection_stats().web; }
    // A slot for a connection from `address`, or nullptr when a cap is reached.
    std::shared_ptr<ConnectionSlot> admit(const std::string& address);
    void on_event(const EventRecord& record);
    void schedule_stream();
    void broadcast(const std::shared_ptr<const std::string>& message);
    std::vector<std::shared_ptr<StreamClient>> live_stream_clients();

    // Request helpers.
    Session* session_of(const Request& request);
    Reply respond(Context& c, http::status status, const nlohmann::json& body);
    Reply error(Context& c, http::status status, const std::string& message);
    Reply redirect(Context& c, const std::string& location,
                   http::status status = http::status::found);
    Reply asset(Context& c, std::string_view path);
    static Reply ask_password_work(PasswordWork work);
    void secure_headers(Response& r, const Connection& connection) const;
    // The port browsers reach: the bound one (the configured one before start()).
    unsigned own_port() const;
    // The meter's own names: its addresses and the configured host names.
    bool own_name(std::string_view host, const Connection& connection) const;
    // scheme://host[:port] of this server for redirects: the request's Host
    // only when it is one of the meter's own names.
    std::string own_origin(const Request& request, const Connection& connection, bool tls) const;
    bool same_origin(const Request& request, const Connection& connection) const;
    // Before a security mode is chosen only the mode choice answers: nullopt
    // when the route may, else the refusal.
    std::optional<Reply> unconfigured_refusal(Context& c, const Route& route);
    void audit(Context& c, std::string action, std::string detail);

    // Pages.
    Reply page_root(Context& c);
    Reply page(Context& c);
    Reply page_static(Context& c);
    // Authentication and security.
    Reply api_login(Context& c);
    // Protected HTTP: the challenge login and the integrity check (routes.cpp).
    Reply api_login_challenge(Context& c);
    Reply api_login_proof(Context& c);
    std::optional<Reply> login_locked(Context& c, const std::string& user, int64_t now);
    Reply login_reply(Context& c, const std::string& user, const std::string& token, Session* s,
                      nlohmann::json extra);
    std::optional<Reply> integrity_refusal(Context& c);
    Reply api_logout(Context& c);
    Reply api_session(Context& c);
    Reply api_password(Context& c);
    Reply api_security_get(Context& c);
    Reply api_security_set(Context& c);
    Reply api_audit(Context& c);
    Reply api_storage(Context& c);
    // The label file goes once the admin password is no longer the initial one.
    void remove_initial_password();
    Reply api_metrics_token(Context& c);
    // The guide's pages.
    Reply api_parameters_get(Context& c);
    Reply api_parameters_set(Context& c);
    Reply api_profiles(Context& c);
    Reply api_profiles_remove(Context& c);
    nlohmann::json profiles_json();
    Reply api_network_get(Context& c);
    Reply api_network_set(Context& c);
    Reply api_restart(Context& c);
    Reply api_file_get(Context& c);
    Reply api_file_set(Context& c);
    // Beyond the meter.
    Reply api_device(Context& c);
    Reply api_snapshot(Context& c);
    Reply api_quantities(Context& c);
    Reply api_layout(Context& c);
    Reply api_events(Context& c);
    Reply api_events_query(Context& c);  // GUI queries (routes_gui.cpp)
    Reply api_settings_get(Context& c);
    Reply api_settings_set(Context& c);
    Reply api_settings_export(Context& c);  // GUI writes (routes_gui.cpp)
    Reply api_settings_import(Context& c);
    Reply api_alarms_clear(Context& c);
    Reply api_sim_get(Context& c);
    Reply api_sim_load(Context& c);
    Reply api_sim_trip(Context& c);
    Reply api_sim_voltage(Context& c);
    Reply api_sim_speed(Context& c);
    Reply api_sim_keep(Context& c);
    Reply api_sim_scenario(Context& c);
    Reply api_trends(Context& c);  // routes_trends.cpp
    Reply api_stream_info(Context& c);
    Reply api_connections(Context& c);
    Reply metrics(Context& c);
    // A site (model/site.hpp; routes_site.cpp): 404 for a single meter.
    Reply page_site(Context& c);
    Reply api_site(Context& c);
    Reply site_metrics(Context& c, Response head);  // /metrics?scope=site

    boost::asio::io_context& io_;
    MeterModel& device_;
    WebOptions options_;
    const int protocol_mode_;  // the mode the GUI shows: the one in effect since the last (re)start
    SecurityState security_;
    UserStore users_;
    SessionTable sessions_;
    LoginThrottle throttle_;
    scram::ChallengeTable challenges_;
    AuditLog audit_;
    std::optional<std::string> metrics_token_hash_;
    uint64_t requests_ = 0;
    uint64_t refused_ = 0;
    uint64_t logins_failed_ = 0;

    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer accept_retry_;
    boost::asio::steady_timer stream_timer_;
    ConnectionLog log_;
    size_t open_ = 0;                            // connections holding a slot
    std::map<std::string, size_t> per_address_;  // the same, by client address
    bool stream_timer_running_ = false;
    std::vector<std::weak_ptr<Closable>> connections_;
    std::vector<std::weak_ptr<StreamClient>> stream_clients_;
    std::shared_ptr<TrendFeed> trends_;  // from start() to stop()
    MeterModel::Subscription events_;    // last: released first, before what on_event uses
    uint16_t port_ = 0;
    bool stopped_ = false;
    // Requests waiting for the initial credentials (at most one per connection).
    std::vector<std::function<void()>> credential_waiters_;
};

}  // namespace openbcpm::web
