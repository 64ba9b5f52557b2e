#include "protocols/bacnet/npdu.hpp"

namespace openbcpm::bacnet {

namespace {
constexpr uint8_t kVersion = 0x01;
constexpr uint8_t kNetworkMessageBit = 0x80;
constexpr uint8_t kDestinationBit = 0x20;
constexpr uint8_t kSourceBit = 0x08;
constexpr uint8_t kExpectingReplyBit = 0x04;
}  // namespace

std::optional<Npdu> decode_npdu(std::span<const uint8_t> d) {
    if (d.size() < 2 || d[0] != kVersion) return std::nullopt;
    const uint8_t control = d[1];
    if (control & 0x50) return std::nullopt;  // reserved bits must be zero
    Npdu n;
    NpduHeader& h = n.header;
    h.network_message = (control & kNetworkMessageBit) != 0;
    h.expecting_reply = (control & kExpectingReplyBit) != 0;
    h.priority = static_cast<NetworkPriority>(control & 0x03);
    size_t p = 2;
    const auto need = [&](size_t k) { return p + k <= d.size(); };
    const auto read_address = [&](NetAddress& a) -> bool {
        if (!need(3)) return false;
        a.net = static_cast<uint16_t>((d[p] << 8) | d[p + 1]);
        const uint8_t len = d[p + 2];
        p += 3;
        if (!need(len)) return false;
        a.mac.assign(d.begin() + static_cast<ptrdiff_t>(p),
                     d.begin() + static_cast<ptrdiff_t>(p + len));
        p += len;
        return true;
    };
    if (control & kDestinationBit) {
        NetAddress a;
        if (!read_address(a) || a.net == 0) return std::nullopt;
        h.destination = std::move(a);
    }
    if (control & kSourceBit) {
        NetAddress a;
        if (!read_address(a)) return std::nullopt;
        // SNET may not be the global network and SADR may not be a broadcast.
        if (a.net == 0 || a.net == kGlobalNetwork || a.mac.empty()) return std::nullopt;
        h.source = std::move(a);
    }
    if (h.destination) {
        if (!need(1)) return std::nullopt;
        h.hop_count = d[p++];
    }
    if (h.network_message) {
        if (!need(1)) return std::nullopt;
        h.message_type = d[p++];
        if (h.message_type >= 0x80) {
            if (!need(2)) return std::nullopt;
            h.vendor_id = static_cast<uint16_t>((d[p] << 8) | d[p + 1]);
            p += 2;
        }
    }
    n.payload = d.subspan(p);
    return n;
}

std::vector<uint8_t> encode_npdu(const NpduHeader& h, std::span<const uint8_t> payload) {
    std::vector<uint8_t> out;
    out.reserve(payload.size() + 24);
    encode_npdu(out, h, payload);
    return out;
}

void encode_npdu(std::vector<uint8_t>& out, const NpduHeader& h, std::span<const uint8_t> payload) {
    out.push_back(kVersion);
    uint8_t control = static_cast<uint8_t>(h.priority) & 0x03;
    if (h.network_message) control |= kNetworkMessageBit;
    if (h.destination) control |= kDestinationBit;
    if (h.source) control |= kSourceBit;
    if (h.expecting_reply) control |= kExpectingReplyBit;
    out.push_back(control);
    const auto put_address = [&](const NetAddress& a) {
        out.push_back(static_cast<uint8_t>(a.net >> 8));
        out.push_back(static_cast<uint8_t>(a.net));
        out.push_back(static_cast<uint8_t>(a.mac.size()));
        out.insert(out.end(), a.mac.begin(), a.mac.end());
    };
    if (h.destination) put_address(*h.destination);
    if (h.source) put_address(*h.source);
    if (h.destination) out.push_back(h.hop_count);
    if (h.network_message) {
        out.push_back(h.message_type);
        if (h.message_type >= 0x80) {
            out.push_back(static_cast<uint8_t>(h.vendor_id >> 8));
            out.push_back(static_cast<uint8_t>(h.vendor_id));
        }
    }
    out.insert(out.end(), payload.begin(), payload.end());
}

std::optional<NetworkMessageBody> decode_network_message(uint8_t type, std::span<const uint8_t> d) {
    NetworkMessageBody m;
    m.type = static_cast<NetworkMessage>(type);
    const auto u16 = [&](size_t at) { return static_cast<uint16_t>((d[at] << 8) | d[at + 1]); };
    const auto net_list = [&]() -> bool {
        if (d.size() % 2 != 0) return false;
        for (size_t i = 0; i < d.size(); i += 2)
            m.nets.push_back(u16(i));
        return true;
    };
    switch (m.type) {
        case NetworkMessage::WhoIsRouterToNetwork:
            if (d.size() == 2)
                m.net = u16(0);
            else if (!d.empty())
                return std::nullopt;
            return m;
        case NetworkMessage::IAmRouterToNetwork:
        case NetworkMessage::RouterBusyToNetwork:
        case NetworkMessage::RouterAvailableToNetwork:
            if (!net_list()) return std::nullopt;
            if (m.type == NetworkMessage::IAmRouterToNetwork && m.nets.empty()) return std::nullopt;
            return m;
        case NetworkMessage::ICouldBeRouterToNetwork:
            if (d.size() != 3) return std::nullopt;
            m.nets.push_back(u16(0));
            m.performance_index = d[2];
            return m;
        case NetworkMessage::RejectMessageToNetwork:
            if (d.size() != 3) return std::nullopt;
            m.reason = static_cast<NetworkRejectReason>(d[0]);
            m.net = u16(1);
            return m;
        case NetworkMessage::InitializeRoutingTable:
        case NetworkMessage::InitializeRoutingTableAck: {
            if (d.empty()) return std::nullopt;
            const size_t count = d[0];
            size_t p = 1;
            for (size_t i = 0; i < count; ++i) {
                if (p + 4 > d.size()) return std::nullopt;
                RoutingTableEntry e;
                e.net = u16(p);
                e.port_id = d[p + 2];
                const size_t info = d[p + 3];
                p += 4;
                if (p + info > d.size()) return std::nullopt;
                e.port_info.assign(d.begin() + static_cast<ptrdiff_t>(p),
                                   d.begin() + static_cast<ptrdiff_t>(p + info));
                p += info;
                m.table.push_back(std::move(e));
            }
            if (p != d.size()) return std::nullopt;
            return m;
        }
        case NetworkMessage::WhatIsNetworkNumber:
            if (!d.empty()) return std::nullopt;
            return m;
        case NetworkMessage::NetworkNumberIs:
            if (d.size() != 3 || d[2] > 1) return std::nullopt;
            m.net = u16(0);
            m.configured = d[2] == 1;
            return m;
        case NetworkMessage::EstablishConnectionToNetwork:
            if (d.size() != 3) return std::nullopt;
            m.net = u16(0);
            return m;
        case NetworkMessage::DisconnectConnectionToNetwork:
            if (d.size() != 2) return std::nullopt;
            m.net = u16(0);
            return m;
    }
    return std::nullopt;
}

std::vector<uint8_t> encode_network_message(const NetworkMessageBody& m) {
    std::vector<uint8_t> out;
    const auto put16 = [&](uint16_t v) {
        out.push_back(static_cast<uint8_t>(v >> 8));
        out.push_back(static_cast<uint8_t>(v));
    };
    switch (m.type) {
        case NetworkMessage::WhoIsRouterToNetwork:
            if (m.net) put16(*m.net);
            break;
        case NetworkMessage::IAmRouterToNetwork:
        case NetworkMessage::RouterBusyToNetwork:
        case NetworkMessage::RouterAvailableToNetwork:
            for (uint16_t n : m.nets)
                put16(n);
            break;
        case NetworkMessage::ICouldBeRouterToNetwork:
            put16(m.nets.empty() ? 0 : m.nets.front());
            out.push_back(m.performance_index);
            break;
        case NetworkMessage::RejectMessageToNetwork:
            out.push_back(static_cast<uint8_t>(m.reason));
            put16(m.net.value_or(0));
            break;
        case NetworkMessage::InitializeRoutingTable:
        case NetworkMessage::InitializeRoutingTableAck:
            out.push_back(static_cast<uint8_t>(m.table.size()));
            for (const auto& e : m.table) {
                put16(e.net);
                out.push_back(e.port_id);
                out.push_back(static_cast<uint8_t>(e.port_info.size()));
                out.insert(out.end(), e.port_info.begin(), e.port_info.end());
            }
            break;
        case NetworkMessage::WhatIsNetworkNumber:
            break;
        case NetworkMessage::NetworkNumberIs:
            put16(m.net.value_or(0));
            out.push_back(m.configured ? 1 : 0);
            break;
        case NetworkMessage::EstablishConnectionToNetwork:
            put16(m.net.value_or(0));
            out.push_back(0);
            break;
        case NetworkMessage::DisconnectConnectionToNetwork:
            put16(m.net.value_or(0));
            break;
    }
    return out;
}

}  // namespace openbcpm::bacnet
