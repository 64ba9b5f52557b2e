// The SNMP face of the meter: the SNMPv2c agent on a UDP socket of the shared
// event loop, bound to N1_IP_Address and the SNMP port of the gateway
// settings, sending notifications to SNMP_Notif_IP in the trap community.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "model/face.hpp"
#include "model/meter_model.hpp"
#include "protocols/snmp/agent.hpp"

namespace openbcpm::snmp {

struct SnmpFaceOptions {
    // Views served beside the SNMPv2-MIB (the product MIB, test MIBs).
    std::vector<std::shared_ptr<MibView>> views;
    // sysORTable rows beyond the SNMPv2-MIB's own; when empty and a view
    // serves the meter's subtree, a row names that subtree.
    std::vector<SysOrEntry> capabilities;
    size_t max_message_size = kMaxUdpPayload;
    // Called before each request is handled (the product MIB takes the
    // newest snapshot there, so that one request sees one metering window).
    std::function<void()> before_request;
    // Called after each request: the ticket of the write it made (0: none).
    // Its response is held until Device::when_applied(ticket) runs, so that
    // the manager's next Get, on any face, sees the write.
    std::function<uint64_t()> take_ticket;
};

class SnmpFace final : public Face {
  public:
    SnmpFace(boost::asio::io_context& io, openbcpm::MeterModel& device,
             SnmpFaceOptions options = {});
    ~SnmpFace() override;

    std::string name() const override { return "SNMP"; }
    // Binds the socket (throws boost::system::system_error when it cannot)
    // and sends coldStart.
    void start() override;
    void stop() override;

    // Sends an SNMPv2-Trap (sysUpTime.0, snmpTrapOID.0, then `varbinds`) to
    // the notification receiver of the settings; nothing when none is set.
    void notify(const Oid& trap_oid, std::span<const VarBind> varbinds = {});

    Agent& agent() { return *agent_; }
    // Answers and notifications dropped because too many sends were waiting.
    uint64_t sends_dropped() const { return sends_dropped_; }
    boost::asio::ip::udp::endpoint local_endpoint() const { return socket_.local_endpoint(); }

  private:
    void receive();
    void send(std::span<const uint8_t> datagram, const boost::asio::ip::udp::endpoint& to);
    // The communities may change at any time through the other faces.
    void refresh_communities();

    openbcpm::MeterModel& device_;
    std::function<void()> before_request_;
    std::function<uint64_t()> take_ticket_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // held responses check it
    std::unique_ptr<Agent> agent_;
    boost::asio::ip::udp::socket socket_;
    boost::asio::ip::udp::endpoint sender_;
    // One byte more than the largest IPv6 payload, so that an oversized
    // datagram shows as such.
    std::array<uint8_t, 65536> buffer_{};
    static constexpr size_t kMaxSendsWaiting = 64;  // at most 64 x 64 KiB held
    size_t sends_waiting_ = 0;
    uint64_t sends_dropped_ = 0;
};

}  // namespace openbcpm::snmp
