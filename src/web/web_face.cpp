#include "web/web_face.hpp"

#include "web/server.hpp"

namespace openbcpm {

WebFace::WebFace(boost::asio::io_context& io, MeterModel& device, WebOptions options)
    : server_(std::make_shared<web::WebServer>(io, device, std::move(options))) {}

WebFace::~WebFace() {
    server_->stop();  // what stop() does, without a virtual call in the destructor
}

std::string WebFace::name() const {
    return "web (HTTPS GUI, JSON API, /metrics) on port " + std::to_string(port());
}

void WebFace::start() {
    server_->start();
}

void WebFace::stop() {
    server_->stop();
}

uint16_t WebFace::port() const {
    return server_->port();
}

}  // namespace openbcpm

namespace openbcpm {
std::unique_ptr<Face> make_web_face(boost::asio::io_context& io, MeterModel& device) {
    const WebConfig& config = device.config().web;
    WebOptions options;
    options.max_connections = static_cast<size_t>(config.max_connections);
    options.max_connections_per_address = static_cast<size_t>(config.max_connections_per_address);
    options.host_names = config.host_names;
    options.allow_plain_http = config.allow_plain_http;
    return std::make_unique<WebFace>(io, device, std::move(options));
}
}  // namespace openbcpm
