#include "protocols/bacnet/bip_link.hpp"

#include <algorithm>

namespace openbcpm::bacnet {

namespace {
constexpr auto kForeignDeviceGrace = std::chrono::seconds(30);  // Annex J.5.2.3
constexpr size_t kMaxForeignDevices = 128;
}  // namespace

BipLink::BipLink(BipAddress self, std::array<uint8_t, 4> netmask, SendDatagram send)
    : self_(self), netmask_(netmask), send_(std::move(send)) {}

void BipLink::enable_bbmd(std::vector<BdtEntry> bdt) {
    bbmd_ = true;
    bdt_ = std::move(bdt);
}

LinkAddress BipLink::link_of(const BipAddress& a) {
    const auto b = a.bytes();
    return LinkAddress(b.begin(), b.end());
}

BipAddress BipLink::broadcast_address() const {
    const uint32_t mask = (uint32_t{netmask_[0]} << 24) | (uint32_t{netmask_[1]} << 16) |
                          (uint32_t{netmask_[2]} << 8) | netmask_[3];
    return BipAddress::from_u32(self_.ip_u32() | ~mask, self_.port);
}

std::vector<FdtEntry> BipLink::fdt() const {
    std::vector<FdtEntry> out;
    for (const auto& f : fdt_) {
        const auto left =
            std::chrono::duration_cast<std::chrono::seconds>(f.expires - now_).count();
        out.push_back(FdtEntry{f.address, f.ttl,
                               static_cast<uint16_t>(std::clamp<int64_t>(left, 0, 0xFFFF))});
    }
    return out;
}

void BipLink::send(const BipAddress& to, std::span<const uint8_t> datagram) {
    ++stats_.datagrams_out;
    if (send_) send_(to, datagram);
}

void BipLink::nak(const BipAddress& to, BvlcResult r) {
    ++stats_.naks;
    send(to, encode_bvlc_result(r));
}

bool BipLink::is_peer(const BipAddress& a) const {
    return std::any_of(bdt_.begin(), bdt_.end(), [&](const BdtEntry& e) { return e.address == a; });
}

void BipLink::distribute(const BipAddress& origin, std::span<const uint8_t> npdu, bool to_peers,
                         const BipAddress* skip_fd) {
    const auto fwd = encode_forwarded_npdu(origin, npdu);
    if (to_peers) {
        for (const auto& e : bdt_) {
            if (e.address == self_) continue;
            // Directed broadcast to the peer's subnet, or the peer itself
            // when its mask is all ones (J.4.3.2).
            const auto target =
                BipAddress::from_u32(e.address.ip_u32() | ~e.mask_u32(), e.address.port);
            ++stats_.forwarded;
            send(target, fwd);
        }
    }
    for (const auto& f : fdt_) {
        if (skip_fd && f.address == *skip_fd) continue;
        ++stats_.forwarded;
        send(f.address, fwd);
    }
}

void BipLink::receive(const BipAddress& from, std::span<const uint8_t> datagram,
                      Clock::time_point now, Arrival arrival) {
    now_ = now;
    ++stats_.datagrams_in;
    if (arrival == Arrival::Broadcast) ++stats_.broadcasts_in;
    if (from == self_) return;  // our own broadcast coming back
    const auto m = decode_bvll(datagram);
    if (!m) {
        ++stats_.dropped;
        return;
    }
    switch (m->function) {
        case BvlcFunction::Result:
        case BvlcFunction::ReadBdtAck:
        case BvlcFunction::ReadFdtAck:
        case BvlcFunction::SecureBvll:
            return;
        case BvlcFunction::WriteBdt:
            // The table comes from bdt.ini only.
            nak(from, BvlcResult::WriteBdtNak);
            return;
        case BvlcFunction::ReadBdt:
            if (!bbmd_) return nak(from, BvlcResult::ReadBdtNak);
            send(from, encode_read_bdt_ack(bdt_));
            return;
        case BvlcFunction::RegisterForeignDevice: {
            if (!bbmd_) return nak(from, BvlcResult::RegisterForeignDeviceNak);
            const auto expires = now + std::chrono::seconds(m->ttl) + kForeignDeviceGrace;
            auto it = std::find_if(fdt_.begin(), fdt_.end(),
                                   [&](const ForeignDevice& f) { return f.address == from; });
            if (it == fdt_.end()) {
                // A full table refuses newcomers; registered devices renew.
                if (fdt_.size() >= kMaxForeignDevices)
                    return nak(from, BvlcResult::RegisterForeignDeviceNak);
                fdt_.push_back(ForeignDevice{from, m->ttl, expires});
            } else
                *it = ForeignDevice{from, m->ttl, expires};
            send(from, encode_bvlc_result(BvlcResult::Success));
            return;
        }
        case BvlcFunction::ReadFdt:
            if (!bbmd_) return nak(from, BvlcResult::ReadFdtNak);
            send(from, encode_read_fdt_ack(fdt()));
            return;
        case BvlcFunction::DeleteFdtEntry: {
            const auto before = fdt_.size();
            if (bbmd_)
                std::erase_if(fdt_, [&](const ForeignDevice& f) { return f.address == m->entry; });
            if (!bbmd_ || fdt_.size() == before) return nak(from, BvlcResult::DeleteFdtEntryNak);
            send(from, encode_bvlc_result(BvlcResult::Success));
            return;
        }
        case BvlcFunction::DistributeBroadcastToNetwork: {
            const bool registered =
                std::any_of(fdt_.begin(), fdt_.end(),
                            [&](const ForeignDevice& f) { return f.address == from; });
            if (!bbmd_ || !registered)
                return nak(from, BvlcResult::DistributeBroadcastToNetworkNak);
            local_broadcast(encode_forwarded_npdu(from, m->npdu));
            distribute(from, m->npdu, true, &from);
            deliver(m->npdu, link_of(from), true);
            return;
        }
        case BvlcFunction::OriginalUnicastNpdu:
            // Sent to a broadcast address, it reached every station: none may take it.
            if (arrival == Arrival::Broadcast) {
                ++stats_.dropped;
                return;
            }
            deliver(m->npdu, link_of(from), false);
            return;
        case BvlcFunction::OriginalBroadcastNpdu:
            // A BBMD forwards what its subnet heard. One sent to us alone is
            // taken as a broadcast but not forwarded: otherwise any host that
            // reaches us could flood the peers' subnets (that is what
            // Distribute-Broadcast-To-Network of a registered device is for).
            if (bbmd_ && arrival == Arrival::Broadcast) distribute(from, m->npdu, true, nullptr);
            deliver(m->npdu, link_of(from), true);
            return;
        case BvlcFunction::ForwardedNpdu: {
            if (m->origin == self_) return;
            if (bbmd_) {
                if (!is_peer(from)) {
                    ++stats_.dropped;  // only BDT peers forward to a BBMD
                    return;
                }
                // A peer that sent to us directly (our BDT entry's mask is all
                // ones, J.4.3.2) relies on us for the local broadcast; one that
                // sent a directed broadcast has reached our subnet already.
                if (arrival == Arrival::Unicast) local_broadcast(datagram);
                distribute(m->origin, m->npdu, false, nullptr);
            }
            deliver(m->npdu, link_of(m->origin), true);
            return;
        }
    }
}

void BipLink::tick(Clock::time_point now) {
    now_ = now;
    std::erase_if(fdt_, [&](const ForeignDevice& f) { return now >= f.expires; });
}

void BipLink::send_npdu(std::span<const uint8_t> npdu, const LinkAddress& to) {
    if (!to.empty()) {
        const auto a = BipAddress::from_bytes(to);
        if (!a) return;  // not a B/IP station address
        // Into the reused buffer (taken: a send that comes back here gets its own).
        std::vector<uint8_t> datagram = std::move(datagram_);
        datagram.clear();
        encode_bvll_npdu(datagram, BvlcFunction::OriginalUnicastNpdu, npdu);
        send(*a, datagram);
        datagram_ = std::move(datagram);
        return;
    }
    local_broadcast(encode_bvll_npdu(BvlcFunction::OriginalBroadcastNpdu, npdu));
    if (bbmd_) distribute(self_, npdu, true, nullptr);
}

void BipLink::local_broadcast(std::span<const uint8_t> datagram) {
    const auto to = broadcast_address();
    if (to == self_) return;  // a /32 netmask: no station shares our subnet
    send(to, datagram);
}

}  // namespace openbcpm::bacnet
