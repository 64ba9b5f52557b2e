#include "protocols/bacnet/bip_port.hpp"

#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

namespace openbcpm::bacnet {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr std::array<uint8_t, 4> kLimitedBroadcast{255, 255, 255, 255};
// Datagrams read per wake-up before the other handlers of the loop get a turn.
constexpr int kReadBatch = 64;

std::array<uint8_t, 4> bytes_of(const in_addr& a) {
    std::array<uint8_t, 4> out{};
    std::memcpy(out.data(), &a.s_addr, 4);  // network order in memory, as the array
    return out;
}

in_addr in_addr_of(const std::array<uint8_t, 4>& a) {
    in_addr out{};
    std::memcpy(&out.s_addr, a.data(), 4);
    return out;
}

// The ports open on each io_context, shared by the stations on it.
struct Registry {
    std::mutex mutex;
    std::map<std::pair<const asio::io_context*, uint16_t>, std::weak_ptr<BipPort>> ports;
};
Registry& registry() {
    static Registry r;
    return r;
}

}  // namespace

std::optional<Arrival> arrival_at(const BipStation& station,
                                  const std::array<uint8_t, 4>& destination, unsigned interface) {
    if (destination == station.self.ip) return Arrival::Unicast;
    if (destination == kLimitedBroadcast) {
        // Only the stations of the interface it came in on (0: not known).
        const bool here =
            station.interface == 0 || interface == 0 || station.interface == interface;
        if (!here) return std::nullopt;
        return Arrival::Broadcast;
    }
    if (destination == station.broadcast) return Arrival::Broadcast;
    return std::nullopt;
}

LocalAddress locate_local_address(const std::array<uint8_t, 4>& address) {
    LocalAddress out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
        const ifaddrs* within = nullptr;  // an interface whose subnet holds the address
        for (const ifaddrs* i = list; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask) continue;
            sockaddr_in a{};
            sockaddr_in m{};
            std::memcpy(&a, i->ifa_addr, sizeof a);
            std::memcpy(&m, i->ifa_netmask, sizeof m);
            if (bytes_of(a.sin_addr) == address) {
                out.interface = ::if_nametoindex(i->ifa_name);
                out.netmask = bytes_of(m.sin_addr);
                within = nullptr;
                break;
            }
            if ((a.sin_addr.s_addr & m.sin_addr.s_addr) ==
                (in_addr_of(address).s_addr & m.sin_addr.s_addr))
                within = i;
        }
        if (within) out.interface = ::if_nametoindex(within->ifa_name);
        ::freeifaddrs(list);
    }
    if (out.netmask) return out;
    // Not an interface's own address: usable when a local route holds it
    // (any of 127.0.0.0/8 on Linux). Binding to it says so.
    asio::io_context io;
    udp::socket probe(io, udp::v4());
    boost::system::error_code ec;
    probe.bind(udp::endpoint(asio::ip::address_v4(address), 0), ec);
    if (ec)
        throw std::runtime_error(fmt::format("{}.{}.{}.{} is not an address of this host ({})",
                                             address[0], address[1], address[2], address[3],
                                             ec.message()));
    return out;
}

BipPort::BipPort(asio::io_context& io)
    : io_(io),
      socket_(io),
      in_(std::make_unique<std::array<Incoming, kBatch>>()),
      out_(std::make_unique<std::array<Outgoing, kBatch>>()) {}

BipPort::~BipPort() {
    close();
}

std::shared_ptr<BipPort> BipPort::open(asio::io_context& io, uint16_t port) {
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    if (port != 0) {
        const auto it = r.ports.find({&io, port});
        if (it != r.ports.end()) {
            if (auto shared = it->second.lock(); shared && shared->socket_.is_open()) return shared;
        }
    }
    auto p = std::make_shared<BipPort>(io);
    p->bind(port);
    r.ports[{&io, p->port_}] = p;
    return p;
}

void BipPort::bind(uint16_t port) {
    socket_.open(udp::v4());
    // No SO_REUSEADDR: with it a second process could bind the same wildcard
    // port and the kernel would hand one of them the other's unicasts. A port
    // in use is a start failure that says so (docs/bacnet.md).
    socket_.set_option(asio::socket_base::broadcast(true));
    socket_.non_blocking(true);
    const int on = 1;
    if (::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0) {
        const int e = errno;
        socket_.close();
        throw std::runtime_error(
            fmt::format("BACnet/IP: IP_PKTINFO on port {}: {}", port, std::strerror(e)));
    }
    boost::system::error_code ec;
    socket_.bind(udp::endpoint(udp::v4(), port), ec);
    if (ec) {
        socket_.close();
        throw std::runtime_error(
            fmt::format("BACnet/IP: cannot bind UDP port {}: {}", port, ec.message()));
    }
    port_ = socket_.local_endpoint().port();
}

size_t BipPort::attach(const BipStation& station, Receive receive) {
    const bool first = entries_.empty();
    entries_.push_back(Entry{next_id_, station, std::move(receive)});
    if (first) wait();
    return next_id_++;
}

void BipPort::detach(size_t id) noexcept {
    flush();  // what the station queued goes out while its drop counter lives
    for (auto& e : entries_) {
        if (e.id == id) e.receive = nullptr;  // erased below, or after the dispatch under way
    }
    if (!dispatching_) std::erase_if(entries_, [](const Entry& e) { return !e.receive; });
    const bool any = std::any_of(entries_.begin(), entries_.end(),
                                 [](const Entry& e) { return e.receive != nullptr; });
    if (!any) close();
}

void BipPort::close() noexcept {
    queued_ = 0;
    if (!socket_.is_open()) return;
    boost::system::error_code ignored;
    socket_.close(ignored);
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    const auto it = r.ports.find({&io_, port_});
    if (it != r.ports.end()) {
        const auto shared = it->second.lock();
        if (!shared || shared.get() == this) r.ports.erase(it);
    }
}

void BipPort::wait() {
    socket_.async_wait(udp::socket::wait_read,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                           if (ec || !self->socket_.is_open()) return;
                           self->drain();
                       });
}

// Reads until the socket is empty (then waits again) or kReadBatch datagrams
// were read (then lets the loop run other handlers and comes back), kBatch
// at a time; the answers to a batch go out together at its end.
void BipPort::drain() {
    for (int read = 0; read < kReadBatch;) {
        std::array<mmsghdr, kBatch> msgs{};
        std::array<iovec, kBatch> iovs{};
        for (size_t i = 0; i < kBatch; ++i) {
            Incoming& in = (*in_)[i];
            iovs[i] = iovec{in.data.data(), in.data.size()};
            msghdr& msg = msgs[i].msg_hdr;
            msg.msg_name = &in.source;
            msg.msg_namelen = sizeof in.source;
            msg.msg_iov = &iovs[i];
            msg.msg_iovlen = 1;
            msg.msg_control = in.control.data();
            msg.msg_controllen = in.control.size();
        }
        const int n =
            ::recvmmsg(socket_.native_handle(), msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n < 0) {
            if (errno == EINTR) continue;
            // EAGAIN: empty. Anything else (nothing is expected without
            // IP_RECVERR) is not retried in a loop either.
            wait();
            return;
        }
        read += n;
        batching_ = true;
        for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
            ++stats_.received;
            msghdr& msg = msgs[i].msg_hdr;
            if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
                ++stats_.truncated;
                continue;
            }
            std::optional<in_pktinfo> info;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                    in_pktinfo p{};
                    std::memcpy(&p, CMSG_DATA(c), sizeof p);
                    info = p;
                }
            }
            const sockaddr_in& source = (*in_)[i].source;
            if (!info || source.sin_family != AF_INET) {
                ++stats_.unclaimed;
                continue;
            }
            const BipAddress from{bytes_of(source.sin_addr), ntohs(source.sin_port)};
            dispatch(from, std::span<const uint8_t>((*in_)[i].data.data(), msgs[i].msg_len),
                     bytes_of(info->ipi_addr), static_cast<unsigned>(info->ipi_ifindex));
            if (!socket_.is_open()) {  // the last station left while handling it
                batching_ = false;
                return;
            }
        }
        batching_ = false;
        flush();
        if (static_cast<size_t>(n) < kBatch) {  // the socket is empty
            wait();
            return;
        }
    }
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
        if (self->socket_.is_open()) self->drain();
    });
}

void BipPort::dispatch(const BipAddress& from, std::span<const uint8_t> datagram,
                       const std::array<uint8_t, 4>& destination, unsigned interface) {
    bool claimed = false;
    dispatching_ = true;
    // By index: a station may attach another while handling the datagram.
    for (size_t i = 0; i < entries_.size(); ++i) {
        if (!entries_[i].receive) continue;
        const auto arrival = arrival_at(entries_[i].station, destination, interface);
        if (!arrival) continue;
        claimed = true;
        // A copy: the handler may detach its own station.
        const Receive receive = entries_[i].receive;
        receive(from, datagram, *arrival);
    }
    dispatching_ = false;
    std::erase_if(entries_, [](const Entry& e) { return !e.receive; });
    if (!claimed) ++stats_.unclaimed;
}

BipPort::SendResult BipPort::send(const std::array<uint8_t, 4>& from, const BipAddress& to,
                                  std::span<const uint8_t> datagram, uint64_t* dropped) {
    if (!socket_.is_open()) return SendResult::Failed;
    if (queued_ == kBatch || datagram.size() > kDatagram) flush();
    Outgoing& o = (*out_)[queued_];
    o.to = sockaddr_in{};
    o.to.sin_family = AF_INET;
    o.to.sin_port = htons(to.port);
    o.to.sin_addr = in_addr_of(to.ip);
    o.control.fill(0);
    msghdr control_only{};
    control_only.msg_control = o.control.data();
    control_only.msg_controllen = o.control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&control_only);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_spec_dst = in_addr_of(from);  // the source address of the datagram
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    if (batching_ && datagram.size() <= kDatagram) {
        std::memcpy(o.data.data(), datagram.data(), datagram.size());
        o.size = datagram.size();
        o.dropped = dropped;
        ++queued_;
        return SendResult::Sent;
    }
    iovec iov{const_cast<uint8_t*>(datagram.data()), datagram.size()};  // sendmsg does not write
    msghdr msg{};
    msg.msg_name = &o.to;
    msg.msg_namelen = sizeof o.to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = o.control.data();
    msg.msg_controllen = o.control.size();
    for (;;) {
        if (::sendmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
            ++stats_.sent;
            return SendResult::Sent;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == ENOBUFS) {  // EWOULDBLOCK is EAGAIN on Linux
            ++stats_.buffer_full;
            return SendResult::BufferFull;
        }
        ++stats_.send_failed;  // no route, unreachable, ...: UDP gives no more
        return SendResult::Failed;
    }
}

// Queued datagrams [first, result) form one UDP GSO send: the same source
// and destination, and every one but the last of one size (the kernel cuts
// the concatenation into datagrams of that size). One datagram is a run of 1.
size_t BipPort::gso_run_end(size_t first) const {
    const Outgoing& a = (*out_)[first];
    size_t end = first + 1;
    if (!gso_ || a.size > kGsoMostSegment) return end;
    for (; end < queued_; ++end) {
        const Outgoing& b = (*out_)[end];
        if (b.size > a.size || (*out_)[end - 1].size != a.size) break;
        if (b.to.sin_addr.s_addr != a.to.sin_addr.s_addr || b.to.sin_port != a.to.sin_port ||
            b.control != a.control)
            break;
    }
    return end;
}

// Sends what was queued, in order; a datagram the socket does not take is
// counted and dropped (the next ones are still tried). Runs to one
// destination go out as one GSO send each: the kernel's UDP and IP work is
// then done once per run rather than once per datagram.
void BipPort::flush() noexcept {
    size_t done = 0;
    while (done < queued_ && socket_.is_open()) {
        std::array<mmsghdr, kBatch> msgs{};
        std::array<iovec, kBatch> iovs{};
        std::array<size_t, kBatch + 1> firsts{};  // the first datagram of each message
        size_t count = 0;
        for (size_t first = done; first < queued_; ++count) {
            const size_t end = gso_run_end(first);
            firsts[count] = first;
            for (size_t i = first; i < end; ++i)
                iovs[i] = iovec{(*out_)[i].data.data(), (*out_)[i].size};
            Outgoing& o = (*out_)[first];
            msghdr& msg = msgs[count].msg_hdr;
            msg.msg_name = &o.to;
            msg.msg_namelen = sizeof o.to;
            msg.msg_iov = &iovs[first];
            msg.msg_iovlen = end - first;
            msg.msg_control = o.control.data();
            msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
            if (end - first > 1) {
                // The source address and the segment size, in a control
                // buffer of the run's own.
                GsoControl& g = (*gso_control_)[count];
                std::memcpy(g.data(), o.control.data(), CMSG_SPACE(sizeof(in_pktinfo)));
                cmsghdr* c = reinterpret_cast<cmsghdr*>(g.data() + CMSG_SPACE(sizeof(in_pktinfo)));
                c->cmsg_level = SOL_UDP;
                c->cmsg_type = UDP_SEGMENT;
                c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                const auto segment = static_cast<uint16_t>(o.size);
                std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
                msg.msg_control = g.data();
                msg.msg_controllen = g.size();
            }
            first = end;
        }
        firsts[count] = queued_;
        const int n = ::sendmmsg(socket_.native_handle(), msgs.data(), static_cast<unsigned>(count),
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            const size_t through = firsts[static_cast<size_t>(n)];
            for (size_t m = 0; m < static_cast<size_t>(n); ++m)
                if (firsts[m + 1] - firsts[m] > 1) ++stats_.gso_runs;
            stats_.sent += through - done;
            done = through;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        const size_t end = firsts[1];
        if (n < 0 && end - done > 1 && (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT)) {
            // The route cannot take GSO (no checksum offload, a smaller MTU,
            // an older kernel): every datagram on its own from now on.
            gso_ = false;
            ++stats_.gso_refused;
            continue;
        }
        // The first message of the rest was refused: count its datagrams,
        // go on after them.
        for (size_t i = done; i < end; ++i) {
            Outgoing& o = (*out_)[i];
            if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
                ++stats_.buffer_full;
                if (o.dropped) ++*o.dropped;
            } else {
                ++stats_.send_failed;
            }
        }
        done = end;
    }
    queued_ = 0;
}

}  // namespace openbcpm::bacnet
