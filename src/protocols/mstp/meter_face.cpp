#include "protocols/mstp/meter_face.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace openbcpm::mstp {

MeterMstpFace::MeterMstpFace(boost::asio::io_context& io, MeterModel& device)
    : io_(io), device_(device), node_(device) {
    device_.set_loop_poster(
        [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
}

MeterMstpFace::~MeterMstpFace() = default;

void MeterMstpFace::start() {
    if (!mstp_) {
        mstp_ = std::make_unique<MstpFace>(io_, node_.router(),
                                           mstp_options_from_settings(device_.settings().gateway));
        // Max_Master written over BACnet: the node polls within it at once.
        node_.set_max_master_listener([face = mstp_.get()](uint8_t m) { face->set_max_master(m); });
    }
    mstp_->start();
    // The node's answer gate between the router and the link: an answer that
    // waits for the meter goes after Reply Postponed, at our next token.
    node_.carry(*mstp_->link());
    const auto& o = mstp_->options();
    const bacnet::RouterConfig& c = node_.config();
    spdlog::info(
        "BACnet MS/TP on {} at {} baud: MAC {}, Max_Master {}; router device {} '{}', network {}",
        o.device, o.baud, o.mac, o.max_master, c.router.instance, c.router.name, c.virtual_network);
}

// The port's cancelled handlers still run after stop(): the MstpFace stays
// until this face is destroyed.
void MeterMstpFace::stop() {
    node_.release_link();
    if (mstp_) mstp_->stop();
}

std::unique_ptr<Face> make_meter_mstp_face(boost::asio::io_context& io, MeterModel& device) {
    return std::make_unique<MeterMstpFace>(io, device);
}

}  // namespace openbcpm::mstp

namespace openbcpm {
std::unique_ptr<Face> make_mstp_face(boost::asio::io_context& io, MeterModel& device) {
    return mstp::make_meter_mstp_face(io, device);
}
}  // namespace openbcpm
