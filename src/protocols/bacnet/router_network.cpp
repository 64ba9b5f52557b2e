// Network layer: NPDUs routed to the devices, network messages, APDUs passed on by PDU type.
#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

void VirtualRouter::receive(std::span<const uint8_t> bytes, const LinkAddress& from, bool broadcast,
                            Clock::time_point now) {
    now_ = now;
    ++stats_.npdus_in;
    const auto npdu = decode_npdu(bytes);
    if (!npdu) {
        ++stats_.dropped;
        return;
    }
    const NpduHeader& h = npdu->header;
    const Peer peer{from, h.source};
    if (h.network_message) {
        handle_network_message(*npdu, peer);
        return;
    }
    std::vector<size_t> targets = take(targets_);
    bool is_broadcast = false;  // addressed to more than one device
    if (!h.destination) {
        targets.push_back(0);  // the router's own device is on this network
    } else if (h.destination->net == kGlobalNetwork) {
        for (size_t d = 0; d < devices_.size(); ++d) {
            if (devices_[d].config.served) targets.push_back(d);
        }
        is_broadcast = true;
    } else if (h.destination->net == config_.virtual_network) {
        if (h.destination->mac.empty()) {
            for (size_t d = 1; d < devices_.size(); ++d) {
                if (devices_[d].config.served) targets.push_back(d);
            }
            is_broadcast = true;
        } else if (h.destination->mac.size() == 1) {
            for (size_t d = 1; d < devices_.size(); ++d) {
                if (devices_[d].config.served && devices_[d].config.mac == h.destination->mac[0])
                    targets.push_back(d);
            }
        }
        if (targets.empty()) {
            ++stats_.dropped;  // no such station on the virtual network
            give_back(targets_, std::move(targets));
            return;
        }
    } else {
        // A network we have no route to: say so to a requester who asked us
        // directly; a broadcast meant for another router is not ours to answer.
        if (!broadcast) {
            NetworkMessageBody m;
            m.type = NetworkMessage::RejectMessageToNetwork;
            m.reason = NetworkRejectReason::NotDirectlyConnected;
            m.net = h.destination->net;
            send_network_message(peer, m, h.source);
        }
        ++stats_.dropped;
        give_back(targets_, std::move(targets));
        return;
    }
    deliver_apdu(targets, npdu->payload, peer, broadcast, is_broadcast);
    give_back(targets_, std::move(targets));
}

void VirtualRouter::handle_network_message(const Npdu& n, const Peer& from) {
    const NpduHeader& h = n.header;
    if (h.message_type >= 0x80) return;  // proprietary: not ours
    if (h.destination && h.destination->net != kGlobalNetwork &&
        h.destination->net != config_.virtual_network) {
        return;  // a network message for a network we do not reach
    }
    const auto body = decode_network_message(h.message_type, n.payload);
    if (!body) {
        const auto known =
            h.message_type <= 0x09 || h.message_type == 0x12 || h.message_type == 0x13;
        if (!known) {
            NetworkMessageBody m;
            m.type = NetworkMessage::RejectMessageToNetwork;
            m.reason = NetworkRejectReason::UnknownMessageType;
            m.net = h.destination ? h.destination->net : 0;
            send_network_message(Peer{from.link, {}}, m, from.remote);
        }
        ++stats_.dropped;
        return;
    }
    switch (body->type) {
        case NetworkMessage::WhoIsRouterToNetwork:
            if (!body->net || *body->net == config_.virtual_network) {
                NetworkMessageBody m;
                m.type = NetworkMessage::IAmRouterToNetwork;
                m.nets = {config_.virtual_network};
                send_network_message(Peer{}, m);
            }
            break;
        case NetworkMessage::InitializeRoutingTable: {
            // A query (no entries) gets our table; updates are not accepted
            // (the virtual network is fixed) and are acknowledged empty.
            NetworkMessageBody m;
            m.type = NetworkMessage::InitializeRoutingTableAck;
            if (body->table.empty())
                m.table.push_back(RoutingTableEntry{config_.virtual_network, 1, {}});
            send_network_message(Peer{from.link, {}}, m, from.remote);
            break;
        }
        default:
            // I-Am-Router, Router-Busy/Available, Reject, What-Is-Network-Number
            // (this port's number is not configured, so we stay silent), ...
            break;
    }
}

void VirtualRouter::send_network_message(const Peer& to, const NetworkMessageBody& m,
                                         const std::optional<NetAddress>& dnet) {
    if (!link_) return;
    NpduHeader h;
    h.network_message = true;
    h.message_type = static_cast<uint8_t>(m.type);
    if (dnet) h.destination = dnet;
    const auto payload = encode_network_message(m);
    const auto npdu = encode_npdu(h, payload);
    ++stats_.npdus_out;
    link_->send_npdu(npdu, to.link);
}

void VirtualRouter::send_apdu(size_t d, const Peer& to, std::span<const uint8_t> apdu,
                              bool expecting_reply) {
    if (!link_) return;
    NpduHeader h;
    h.expecting_reply = expecting_reply;
    if (d != 0) h.source = NetAddress{config_.virtual_network, {devices_[d].config.mac}};
    if (to.remote) h.destination = to.remote;
    std::vector<uint8_t> npdu = take(npdu_buffer_);
    encode_npdu(npdu, h, apdu);
    ++stats_.npdus_out;
    link_->send_npdu(npdu, to.link);
    give_back(npdu_buffer_, std::move(npdu));
}

void VirtualRouter::deliver_apdu(std::span<const size_t> targets, std::span<const uint8_t> bytes,
                                 const Peer& from, bool link_broadcast, bool network_broadcast) {
    const auto apdu = decode_apdu(bytes);
    if (!apdu) {
        ++stats_.dropped;
        return;
    }
    switch (apdu->type) {
        case PduType::ConfirmedRequest:
            // Confirmed services are addressed to one device; broadcast ones are dropped.
            if (targets.size() != 1 || link_broadcast || network_broadcast) {
                ++stats_.dropped;
                return;
            }
            handle_confirmed(targets[0], *apdu, from);
            break;
        case PduType::UnconfirmedRequest: {
            const auto service = static_cast<UnconfirmedService>(apdu->service);
            if (service == UnconfirmedService::IAm) {
                learn_binding(*apdu, from);
                return;
            }
            if (service == UnconfirmedService::TimeSynchronization ||
                service == UnconfirmedService::UtcTimeSynchronization) {
                synchronize_time(targets, *apdu);
                return;
            }
            // Answers go back the way the request came: a datagram sent to us
            // alone is answered directly, a broadcast one by broadcast.
            for (size_t d : targets)
                handle_unconfirmed(d, *apdu, from, link_broadcast);
            break;
        }
        case PduType::SegmentAck:
            if (!apdu->from_server) handle_segment_ack(*apdu, from);
            break;
        case PduType::Abort:
            if (!apdu->from_server) {
                std::erase_if(segmented_, [&](const SegmentedResponse& s) {
                    return s.peer == from && s.invoke_id == apdu->invoke_id;
                });
            }
            handle_reply(*apdu, from);
            break;
        case PduType::SimpleAck:
        case PduType::ComplexAck:
        case PduType::Error:
        case PduType::Reject:
            handle_reply(*apdu, from);
            break;
    }
}

}  // namespace openbcpm::bacnet
