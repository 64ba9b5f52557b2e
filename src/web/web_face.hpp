// The web face: the meter's HTTPS GUI (the guide's pages and more), a JSON
// API with a WebSocket stream of measurements, and Prometheus /metrics, on
// the shared event loop. TLS and plain HTTP share one port: the first byte
// of a connection tells which (a TLS ClientHello starts with 0x16).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/face.hpp"
#include "model/meter_model.hpp"
#include "web/auth.hpp"

namespace openbcpm {

struct WebOptions {
    // Bind address and port; by default GatewaySettings::ip_address and web_port.
    // Port 0 picks a free port (tests); port() tells which.
    std::optional<std::string> address;
    std::optional<uint16_t> port;
    web::SessionLimits sessions{};
    web::LockoutPolicy lockout{};
    std::chrono::milliseconds stream_interval{1000};  // WebSocket measurement period
    size_t max_connections = 128;
    size_t max_connections_per_address = 32;
    // Names besides the meter's own addresses that browsers reach it by ([web] host_names).
    std::vector<std::string> host_names;
    // [web] allow_plain_http: plain HTTP (the password in clear) may be chosen.
    // Without it, plain HTTP is the protected mode (web/scram.hpp).
    bool allow_plain_http = false;
};

namespace web {
class WebServer;

// One entry of the route table (for documentation and the security tests).
struct RouteInfo {
    std::string method;  // "GET", "POST", "WS"
    std::string path;    // exact path, or a prefix ending in '/'
    bool is_public = false;
    bool is_page = false;  // HTML page: unauthenticated requests are redirected to /login
};
std::vector<RouteInfo> route_table();
}  // namespace web

class WebFace : public Face {
  public:
    WebFace(boost::asio::io_context& io, MeterModel& device, WebOptions options = {});
    ~WebFace() override;
    std::string name() const override;
    void start() override;
    void stop() override;
    // The bound port (after start()).
    uint16_t port() const;

  private:
    std::shared_ptr<web::WebServer> server_;
};

}  // namespace openbcpm

namespace openbcpm {
// The web face with the meter's defaults (bind to N1_IP_Address, port web_port):
// what Faces constructs.
std::unique_ptr<Face> make_web_face(boost::asio::io_context& io, MeterModel& device);
}  // namespace openbcpm
