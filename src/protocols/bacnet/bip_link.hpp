// The BACnet/IP datalink without sockets: BVLL handling (Annex J), and the
// BBMD (broadcast distribution table, foreign device table). The UDP face
// feeds it datagrams and gives it a function to send them.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <vector>

#include "protocols/bacnet/bvll.hpp"
#include "protocols/bacnet/datalink.hpp"

namespace openbcpm::bacnet {

// How a datagram reached this station: sent to its own address, or to a
// broadcast address of its subnet (the subnet broadcast or 255.255.255.255).
enum class Arrival : uint8_t { Unicast, Broadcast };

class BipLink : public Datalink {
  public:
    using Clock = std::chrono::steady_clock;
    using SendDatagram =
        std::function<void(const BipAddress& to, std::span<const uint8_t> datagram)>;

    BipLink(BipAddress self, std::array<uint8_t, 4> netmask, SendDatagram send);

    // Turns the BBMD on with this broadcast distribution table (it should
    // list this node too, as the guide's bdt.ini does).
    void enable_bbmd(std::vector<BdtEntry> bdt);
    bool bbmd() const { return bbmd_; }
    const std::vector<BdtEntry>& bdt() const { return bdt_; }
    std::vector<FdtEntry> fdt() const;
    BipAddress broadcast_address() const;
    const BipAddress& self() const { return self_; }

    // A datagram from `from`; `arrival` is what its IP destination was (the
    // rules of Annex J differ: see docs/bacnet.md, "BACnet/IP and BBMD").
    void receive(const BipAddress& from, std::span<const uint8_t> datagram, Clock::time_point now,
                 Arrival arrival = Arrival::Unicast);
    // Expires foreign device registrations.
    void tick(Clock::time_point now);

    void send_npdu(std::span<const uint8_t> npdu, const LinkAddress& to) override;
    size_t max_apdu() const override { return 1476; }

    struct Stats {
        uint64_t datagrams_in = 0, datagrams_out = 0, dropped = 0, forwarded = 0, naks = 0;
        uint64_t broadcasts_in = 0;  // datagrams that arrived on a broadcast address
    };
    const Stats& stats() const { return stats_; }

  private:
    struct ForeignDevice {
        BipAddress address;
        uint16_t ttl = 0;
        Clock::time_point expires{};
    };
    void send(const BipAddress& to, std::span<const uint8_t> datagram);
    void nak(const BipAddress& to, BvlcResult r);
    // Forwarded-NPDU to the BDT peers (not this node) and foreign devices.
    void distribute(const BipAddress& origin, std::span<const uint8_t> npdu, bool to_peers,
                    const BipAddress* skip_fd);
    bool is_peer(const BipAddress& a) const;
    // To the subnet broadcast address (nothing with a /32 netmask).
    void local_broadcast(std::span<const uint8_t> datagram);
    static LinkAddress link_of(const BipAddress& a);

    BipAddress self_;
    std::array<uint8_t, 4> netmask_;
    SendDatagram send_;
    bool bbmd_ = false;
    std::vector<BdtEntry> bdt_;
    std::vector<ForeignDevice> fdt_;
    Clock::time_point now_{};
    Stats stats_;
    std::vector<uint8_t> datagram_;  // the unicast being sent, kept with its capacity
};

}  // namespace openbcpm::bacnet
