#include "protocols/snmp/snmp_face.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <optional>

namespace openbcpm::snmp {

namespace {

using boost::asio::ip::udp;

AgentConfig agent_config(const openbcpm::MeterModel& device, const SnmpFaceOptions& options) {
    const Settings& s = device.settings();
    AgentConfig c;
    c.communities = {s.gateway.read_community, s.gateway.write_community, s.gateway.trap_community};
    c.system.descr = fmt::format(
        "Schneider Electric {} branch circuit power meter, serial {:08X}, firmware {} (openbcpm)",
        s.model.model_name(), s.identity.serial_number, s.identity.firmware_rs);
    c.system.object_id = oids::kBcpme;
    c.system.name = fmt::format("{}-{:08X}", s.model.model_name(), s.identity.serial_number);
    c.system.location = s.panel(1).location;
    c.system.or_entries.push_back(
        {oids::kSnmpMib, "The MIB module for SNMP entities (SNMPv2-MIB, RFC 3418)"});
    if (!options.capabilities.empty()) {
        c.system.or_entries.insert(c.system.or_entries.end(), options.capabilities.begin(),
                                   options.capabilities.end());
    } else {
        for (const auto& v : options.views) {
            for (const Oid& t : v->subtrees()) {
                if (t.starts_with(oids::kBcpme)) {
                    c.system.or_entries.push_back(
                        {oids::kBcpme, "The BCPME branch circuit power meter MIB"});
                    break;
                }
            }
            if (c.system.or_entries.size() > 1) break;
        }
    }
    c.max_message_size = options.max_message_size;
    return c;
}

}  // namespace

SnmpFace::SnmpFace(boost::asio::io_context& io, openbcpm::MeterModel& device,
                   SnmpFaceOptions options)
    : device_(device),
      before_request_(std::move(options.before_request)),
      take_ticket_(std::move(options.take_ticket)),
      agent_(std::make_unique<Agent>(agent_config(device, options), options.views)),
      socket_(io) {
    agent_->on_authentication_failure = [this] { notify(oids::kAuthenticationFailure); };
    device_.set_loop_poster(
        [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
}

SnmpFace::~SnmpFace() {
    stop();
}

void SnmpFace::start() {
    const GatewaySettings& g = device_.settings().gateway;
    const udp::endpoint at(boost::asio::ip::make_address(g.ip_address),
                           static_cast<uint16_t>(g.snmp_port));
    socket_.open(at.protocol());
    socket_.bind(at);
    socket_.non_blocking(true);  // send() tries each datagram at once
    spdlog::info("SNMP agent on udp {}:{}", at.address().to_string(),
                 socket_.local_endpoint().port());
    receive();
    notify(oids::kColdStart);
}

void SnmpFace::stop() {
    boost::system::error_code ignored;
    socket_.close(ignored);
}

void SnmpFace::refresh_communities() {
    const GatewaySettings& g = device_.settings().gateway;
    const Communities& c = agent_->communities();
    if (c.read != g.read_community || c.write != g.write_community || c.trap != g.trap_community) {
        agent_->set_communities({g.read_community, g.write_community, g.trap_community});
    }
}

void SnmpFace::receive() {
    socket_.async_receive_from(
        boost::asio::buffer(buffer_), sender_,
        [this](const boost::system::error_code& ec, size_t n) {
            if (ec == boost::asio::error::operation_aborted || !socket_.is_open()) return;
            if (!ec) {
                refresh_communities();
                std::optional<std::span<const uint8_t>> response;
                {
                    // One request, one snapshot: the views read the pinned one in place.
                    const auto pin = device_.pin_snapshot();
                    if (before_request_) before_request_();
                    response = agent_->handle(std::span<const uint8_t>(buffer_.data(), n));
                }
                const uint64_t ticket = take_ticket_ ? take_ticket_() : 0;
                if (response && ticket && !device_.applied(ticket)) {
                    // A Set is answered once the meter shows it (with a copy:
                    // the agent's buffer serves the next request).
                    device_.when_applied(
                        ticket, [this, alive = std::weak_ptr<bool>(alive_), to = sender_,
                                 datagram = std::vector<uint8_t>(response->begin(),
                                                                 response->end())]() mutable {
                            if (alive.lock() && socket_.is_open()) send(datagram, to);
                        });
                } else if (response) {
                    send(*response, sender_);
                }
            }
            receive();
        });
}

void SnmpFace::send(std::span<const uint8_t> datagram, const udp::endpoint& to) {
    // A send normally completes at once (the socket does not block): then
    // nothing is copied or kept. Otherwise (a congested link) it waits for
    // the socket with a copy, and so do the sends after it, in order; waiting
    // ones are bounded and further answers are dropped, as the network would
    // drop them: the manager retries.
    if (sends_waiting_ == 0) {
        boost::system::error_code ec;
        socket_.send_to(boost::asio::buffer(datagram.data(), datagram.size()), to, 0, ec);
        if (ec != boost::asio::error::would_block && ec != boost::asio::error::try_again) {
            if (ec) spdlog::debug("SNMP send: {}", ec.message());
            return;
        }
    }
    if (sends_waiting_ >= kMaxSendsWaiting) {
        ++sends_dropped_;
        return;
    }
    ++sends_waiting_;
    auto data = std::make_shared<std::vector<uint8_t>>(datagram.begin(), datagram.end());
    socket_.async_send_to(boost::asio::buffer(*data), to,
                          [this, data](const boost::system::error_code& ec, size_t) {
                              if (ec == boost::asio::error::operation_aborted) return;
                              --sends_waiting_;
                              if (ec) spdlog::debug("SNMP send: {}", ec.message());
                          });
}

void SnmpFace::notify(const Oid& trap_oid, std::span<const VarBind> varbinds) {
    if (!socket_.is_open()) return;
    refresh_communities();
    const GatewaySettings& g = device_.settings().gateway;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(g.snmp_notif_ip, ec);
    if (ec || address.is_unspecified()) return;  // no notification receiver configured
    if (address.is_v4() != socket_.local_endpoint().address().is_v4()) {
        spdlog::warn("SNMP notification receiver {} is of another IP version than the agent",
                     g.snmp_notif_ip);
        return;
    }
    send(agent_->notification(trap_oid, varbinds),
         udp::endpoint(address, static_cast<uint16_t>(g.snmp_notif_port)));
}

}  // namespace openbcpm::snmp
