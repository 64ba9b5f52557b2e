#include "protocols/bacnet/meter_face.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace openbcpm::bacnet {

MeterBacnetIpFace::MeterBacnetIpFace(boost::asio::io_context& io, MeterModel& device)
    : io_(io), device_(device), node_(device) {
    device_.set_loop_poster(
        [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
}

// ip_ (destroyed first) stops its socket and detaches the router.
MeterBacnetIpFace::~MeterBacnetIpFace() = default;

void MeterBacnetIpFace::start() {
    if (!ip_) {
        // bdt.ini is read here, not at construction: a bad file fails the start.
        BacnetIpOptions options =
            ip_options_from_settings(device_.settings().gateway, device_.state_dir());
        ip_ = std::make_unique<BacnetIpFace>(io_, node_.router(), std::move(options));
    }
    ip_->start();
    // The node's answer gate between the router and the link.
    node_.carry(*ip_->link());
    const RouterConfig& c = node_.config();
    spdlog::info("BACnet/IP on {}:{}: router device {} '{}', network {}",
                 device_.settings().gateway.ip_address, ip_->local_port(), c.router.instance,
                 c.router.name, c.virtual_network);
    // What is wrong but did not stop the face (a BBMD without its bdt.ini)
    // is in the log already; the device log puts it in Diagnostics too.
    if (Store* store = device_.store()) {
        for (const auto& w : ip_->warnings()) {
            try {
                store->add_log("bacnet", "BACnet/IP: " + w);
            } catch (const StoreError&) {
                // Storage failing: it says so itself; the log line stays.
            }
        }
    }
}

// The socket's cancelled handlers still run after stop(): the BacnetIpFace
// stays until this face is destroyed.
void MeterBacnetIpFace::stop() {
    node_.release_link();
    if (ip_) ip_->stop();
}

std::unique_ptr<Face> make_meter_bacnet_ip_face(boost::asio::io_context& io, MeterModel& device) {
    return std::make_unique<MeterBacnetIpFace>(io, device);
}

}  // namespace openbcpm::bacnet

namespace openbcpm {
std::unique_ptr<Face> make_bacnet_ip_face(boost::asio::io_context& io, MeterModel& device) {
    return bacnet::make_meter_bacnet_ip_face(io, device);
}
}  // namespace openbcpm
