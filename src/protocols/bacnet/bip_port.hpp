// The UDP side of BACnet/IP: one socket per UDP port, bound to the wildcard
// address with IP_PKTINFO. It hears unicasts, the subnet broadcast and the
// limited broadcast alike, and each datagram's destination address says
// which it was. Every B/IP station of an io_context on that port shares the
// socket (so one process can run many meters on 127.0.1.x, all on 47808): a
// datagram goes to the station it was sent to, a broadcast to every station
// of that broadcast domain. Sends carry the station's own address as their
// source. There is no send queue: what the socket's buffer cannot take is
// dropped, as UDP may, and counted. Datagrams are read in batches (recvmmsg),
// and what the stations send while a batch is handled goes out together at
// its end (sendmmsg), in order: one system call each way per batch. Answers
// in a row to one station go out as one UDP GSO send (UDP_SEGMENT).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "protocols/bacnet/bip_link.hpp"

namespace openbcpm::bacnet {

// A B/IP station on a port: its address, its subnet broadcast address and
// the interface that holds its address (0: unknown, any).
struct BipStation {
    BipAddress self;
    std::array<uint8_t, 4> broadcast{};
    unsigned interface = 0;
};

// How a datagram sent to `destination`, received on interface `interface`,
// reaches `station`; nullopt when it is not for it. The limited broadcast
// 255.255.255.255 reaches the stations of the interface it came in on.
std::optional<Arrival> arrival_at(const BipStation& station,
                                  const std::array<uint8_t, 4>& destination, unsigned interface);

// Where `address` lives on this host: the interface index and that
// interface's netmask (nullopt for an address inside a local route, such as
// 127.0.0.2). Throws std::runtime_error when the host cannot use the address.
struct LocalAddress {
    unsigned interface = 0;
    std::optional<std::array<uint8_t, 4>> netmask;
};
LocalAddress locate_local_address(const std::array<uint8_t, 4>& address);

class BipPort : public std::enable_shared_from_this<BipPort> {
  public:
    using Receive =
        std::function<void(const BipAddress& from, std::span<const uint8_t>, Arrival arrival)>;
    enum class SendResult : uint8_t { Sent, BufferFull, Failed };
    struct Stats {
        uint64_t received = 0;   // datagrams read from the socket
        uint64_t unclaimed = 0;  // for no station of this port
        uint64_t truncated = 0;  // larger than any B/IP datagram
        uint64_t sent = 0, buffer_full = 0, send_failed = 0;
        uint64_t gso_runs = 0;     // GSO sends of two or more datagrams
        uint64_t gso_refused = 0;  // the route refused a GSO send: sent one by one since
    };

    // The port's socket on `io`: opened and bound to 0.0.0.0:port on first
    // use, shared afterwards (port 0: a new ephemeral port every time).
    // Throws std::runtime_error when it cannot bind.
    static std::shared_ptr<BipPort> open(boost::asio::io_context& io, uint16_t port);
    explicit BipPort(boost::asio::io_context& io);
    ~BipPort();
    BipPort(const BipPort&) = delete;
    BipPort& operator=(const BipPort&) = delete;

    uint16_t port() const { return port_; }
    // Datagrams for `station` come through `receive` until detach(id); the
    // last station to leave closes the socket.
    size_t attach(const BipStation& station, Receive receive);
    void detach(size_t id) noexcept;
    // Sends without blocking, with `from` as the source address. While a
    // batch of received datagrams is handled the datagram is queued (Sent)
    // and goes out at the end of the batch; if the socket's buffer cannot
    // take it then, `dropped` (when given) is incremented. detach() sends
    // what its station queued first.
    SendResult send(const std::array<uint8_t, 4>& from, const BipAddress& to,
                    std::span<const uint8_t> datagram, uint64_t* dropped = nullptr);
    const Stats& stats() const { return stats_; }
    // Runs of answers to one station go out as one UDP GSO send from now on
    // (for every station of the port: a fleet's meters share one setting),
    // until the kernel refuses one.
    void allow_gso() { gso_ = true; }

  private:
    struct Entry {
        size_t id = 0;
        BipStation station;
        Receive receive;
    };
    void bind(uint16_t port);
    void wait();
    void drain();
    void dispatch(const BipAddress& from, std::span<const uint8_t> datagram,
                  const std::array<uint8_t, 4>& destination, unsigned interface);
    void close() noexcept;
    void flush() noexcept;
    size_t gso_run_end(size_t first) const;

    // Datagrams per recvmmsg / sendmmsg.
    static constexpr size_t kBatch = 16;
    static constexpr size_t kDatagram = 1600;
    struct Incoming {
        sockaddr_in source{};
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> control{};
        std::array<uint8_t, kDatagram> data{};
    };
    struct Outgoing {
        sockaddr_in to{};
        alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(in_pktinfo))> control{};
        uint64_t* dropped = nullptr;
        size_t size = 0;
        std::array<uint8_t, kDatagram> data{};
    };

    boost::asio::io_context& io_;
    boost::asio::ip::udp::socket socket_;
    uint16_t port_ = 0;
    std::vector<Entry> entries_;
    size_t next_id_ = 1;
    bool dispatching_ = false;
    bool batching_ = false;  // sends are queued until the end of the batch
    std::unique_ptr<std::array<Incoming, kBatch>> in_;
    std::unique_ptr<std::array<Outgoing, kBatch>> out_;
    // The largest datagram sent in a GSO run: an Ethernet MTU's UDP payload.
    static constexpr size_t kGsoMostSegment = 1472;
    using GsoControl =
        std::array<char, CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(uint16_t))>;
    struct alignas(cmsghdr) AlignedGsoControl : GsoControl {};
    std::unique_ptr<std::array<AlignedGsoControl, kBatch>> gso_control_ =
        std::make_unique<std::array<AlignedGsoControl, kBatch>>();
    bool gso_ = false;  // allow_gso(); off again once the kernel refused a GSO send
    size_t queued_ = 0;
    Stats stats_;
};

}  // namespace openbcpm::bacnet
