#include "protocols/bacnet/router.hpp"

#include <algorithm>
#include <cmath>

namespace openbcpm::bacnet {

struct VirtualRouter::Response {
    enum class Kind : uint8_t { None, Simple, Complex, Error, ErrorRaw, Reject, Abort };
    Kind kind = Kind::None;
    std::vector<uint8_t> data;
    ErrorPair error{};
    RejectReason reject = RejectReason::Other;
    AbortReason abort = AbortReason::Other;

    static Response simple() { return {Kind::Simple, {}, {}, {}, {}}; }
    static Response complex(std::vector<uint8_t> d) {
        return {Kind::Complex, std::move(d), {}, {}, {}};
    }
    static Response error_of(ErrorPair e) { return {Kind::Error, {}, e, {}, {}}; }
    static Response error_raw(std::vector<uint8_t> d) {
        return {Kind::ErrorRaw, std::move(d), {}, {}, {}};
    }
    static Response reject_of(RejectReason r) { return {Kind::Reject, {}, {}, r, {}}; }
    static Response abort_of(AbortReason r) { return {Kind::Abort, {}, {}, {}, r}; }
};

namespace {

constexpr size_t kMaxSegmentsWhenUnspecified = 255;
constexpr size_t kEventSummariesPerReply = 16;
constexpr auto kUnboundTimeout = std::chrono::seconds(10);
// Bounds on the state a stream of requests can make us keep.
constexpr size_t kMaxBindings = 256;
constexpr size_t kMaxUnbound = 64;
constexpr size_t kMaxPending = 64;
constexpr size_t kMaxSegmentedResponses = 16;

// Transition index of a state change (Acked_Transitions, Event_Time_Stamps, Priority).
size_t transition_of(EventState to) {
    switch (to) {
        case EventState::Normal:
            return static_cast<size_t>(Transition::ToNormal);
        case EventState::Fault:
            return static_cast<size_t>(Transition::ToFault);
        default:
            return static_cast<size_t>(Transition::ToOffnormal);
    }
}

bool is_special(PropertyId p) {
    return p == PropertyId::All || p == PropertyId::Required || p == PropertyId::Optional;
}

}  // namespace

VirtualRouter::VirtualRouter(RouterConfig config, RouterHooks hooks)
    : config_(std::move(config)), hooks_(std::move(hooks)) {
    const auto add = [&](const DeviceConfig& c) {
        DeviceState s;
        s.config = c;
        s.instance = c.instance;
        s.name = c.name;
        devices_.push_back(std::move(s));
    };
    add(config_.router);
    for (const auto& p : config_.panels)
        add(p);
    for (size_t d = 0; d < devices_.size(); ++d) {
        if (auto* db = devices_[d].config.database) {
            db->set_event_sink([this, d](const EventReport& r) { on_event_report(d, r); });
        }
    }
}

VirtualRouter::~VirtualRouter() {
    for (auto& dev : devices_) {
        if (dev.config.database) dev.config.database->set_event_sink(nullptr);
    }
    detach();
}

void VirtualRouter::attach(Datalink& link) {
    link_ = &link;
    link.set_receiver(
        [this](std::span<const uint8_t> npdu, const LinkAddress& from, bool broadcast) {
            receive(npdu, from, broadcast, hooks_.clock ? hooks_.clock() : Clock::now());
        });
}

void VirtualRouter::detach() {
    if (link_) link_->set_receiver(nullptr);
    link_ = nullptr;
}

void VirtualRouter::start(Clock::time_point now) {
    now_ = now;
    next_cov_scan_ = now + config_.cov_scan;
    NetworkMessageBody m;
    m.type = NetworkMessage::IAmRouterToNetwork;
    m.nets = {config_.virtual_network};
    send_network_message(Peer{}, m);
    const Peer global{{}, NetAddress{kGlobalNetwork, {}}};
    for (size_t d = 0; d < devices_.size(); ++d)
        send_i_am(d, global);
}

TimeStamp VirtualRouter::now_stamp() const {
    TimeStamp t;
    t.kind = TimeStamp::Kind::DateTime;
    if (hooks_.local_time) {
        const DateTime dt = hooks_.local_time();
        t.date = dt.date;
        t.time = dt.time;
    }
    return t;
}

// ---------------------------------------------------------------------------
// Network layer

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
    std::vector<size_t> targets;
    bool is_broadcast = false;  // addressed to more than one device
    if (!h.destination) {
        targets.push_back(0);  // the router's own device is on this network
    } else if (h.destination->net == kGlobalNetwork) {
        for (size_t d = 0; d < devices_.size(); ++d)
            targets.push_back(d);
        is_broadcast = true;
    } else if (h.destination->net == config_.virtual_network) {
        if (h.destination->mac.empty()) {
            for (size_t d = 1; d < devices_.size(); ++d)
                targets.push_back(d);
            is_broadcast = true;
        } else if (h.destination->mac.size() == 1) {
            for (size_t d = 1; d < devices_.size(); ++d) {
                if (devices_[d].config.mac == h.destination->mac[0]) targets.push_back(d);
            }
        }
        if (targets.empty()) {
            ++stats_.dropped;  // no such station on the virtual network
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
        return;
    }
    deliver_apdu(targets, npdu->payload, peer, broadcast, is_broadcast);
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
    const auto npdu = encode_npdu(h, apdu);
    ++stats_.npdus_out;
    link_->send_npdu(npdu, to.link);
}

// ---------------------------------------------------------------------------
// Application layer dispatch

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
                try {
                    const IAm i = decode_i_am(apdu->data);
                    if (i.device.object_type() == ObjectType::Device) {
                        if (bindings_.size() >= kMaxBindings &&
                            !bindings_.contains(i.device.instance)) {
                            bindings_.erase(bindings_.begin());
                        }
                        bindings_[i.device.instance] = from;
                        flush_unbound(i.device.instance);
                    }
                } catch (const DecodeError&) {
                }
                return;
            }
            if (service == UnconfirmedService::TimeSynchronization ||
                service == UnconfirmedService::UtcTimeSynchronization) {
                // One clock behind all devices: act once if any of them listens.
                const bool listening = std::any_of(targets.begin(), targets.end(), [&](size_t d) {
                    return devices_[d].dcc != EnableDisable::Disable;
                });
                if (!listening) return;
                try {
                    const DateTime dt = decode_time_sync(apdu->data);
                    if (hooks_.time_synchronized) {
                        hooks_.time_synchronized(
                            dt, service == UnconfirmedService::UtcTimeSynchronization);
                    }
                } catch (const DecodeError&) {
                    ++stats_.dropped;
                }
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

void VirtualRouter::handle_unconfirmed(size_t d, const Apdu& a, const Peer& from, bool broadcast) {
    DeviceState& dev = devices_[d];
    if (dev.dcc == EnableDisable::Disable) return;
    try {
        switch (static_cast<UnconfirmedService>(a.service)) {
            case UnconfirmedService::WhoIs: {
                const WhoIs w = decode_who_is(a.data);
                if (w.low && (dev.instance < *w.low || dev.instance > *w.high)) return;
                // I-Am answers to Who-Is are allowed under DISABLE_INITIATION.
                // A directed Who-Is gets a directed answer; a broadcast one a
                // global broadcast.
                send_i_am(d, broadcast ? Peer{{}, NetAddress{kGlobalNetwork, {}}} : from);
                break;
            }
            case UnconfirmedService::WhoHas:
                who_has(d, a.data, from, broadcast);
                break;
            default:
                break;  // notifications and services a server does not execute
        }
    } catch (const DecodeError&) {
        ++stats_.dropped;  // unconfirmed requests get no Reject
    }
}

void VirtualRouter::send_i_am(size_t d, const Peer& to) {
    IAm i;
    i.device = ObjectId(ObjectType::Device, devices_[d].instance);
    i.max_apdu = static_cast<uint32_t>(std::min(kMaxApdu, link_ ? link_->max_apdu() : kMaxApdu));
    i.segmentation = Segmentation::Transmit;
    i.vendor_id = kVendorIdentifier;
    const auto apdu = encode_unconfirmed_request(UnconfirmedService::IAm, encode_i_am(i));
    send_apdu(d, to, apdu, false);
}

void VirtualRouter::who_has(size_t d, std::span<const uint8_t> data, const Peer& from,
                            bool broadcast) {
    DeviceState& dev = devices_[d];
    const WhoHas w = decode_who_has(data);
    if (w.low && (dev.instance < *w.low || dev.instance > *w.high)) return;
    if (!may_initiate(d)) return;
    std::optional<IHave> found;
    const ObjectId self(ObjectType::Device, dev.instance);
    if (w.object) {
        if (*w.object == self)
            found = IHave{self, self, dev.name};
        else if (dev.config.database && dev.config.database->has_object(*w.object)) {
            const auto name = dev.config.database->read(*w.object, PropertyId::ObjectName);
            std::string text;
            if (const auto* pd = std::get_if<PropertyData>(&name);
                pd && !pd->items.empty() && !pd->items[0].empty()) {
                if (const auto* cs = pd->items[0][0].as<CharString>()) text = cs->text;
            }
            found = IHave{self, *w.object, text};
        }
    } else if (w.name) {
        if (*w.name == dev.name)
            found = IHave{self, self, dev.name};
        else if (dev.config.database) {
            for (const ObjectId& o : dev.config.database->object_list()) {
                const auto name = dev.config.database->read(o, PropertyId::ObjectName);
                const auto* pd = std::get_if<PropertyData>(&name);
                if (!pd || pd->items.empty() || pd->items[0].empty()) continue;
                const auto* cs = pd->items[0][0].as<CharString>();
                if (cs && cs->text == *w.name) {
                    found = IHave{self, o, cs->text};
                    break;
                }
            }
        }
    }
    if (!found) return;
    const auto apdu = encode_unconfirmed_request(UnconfirmedService::IHave, encode_i_have(*found));
    send_apdu(d, broadcast ? Peer{{}, NetAddress{kGlobalNetwork, {}}} : from, apdu, false);
}

void VirtualRouter::handle_confirmed(size_t d, const Apdu& a, const Peer& from) {
    DeviceState& dev = devices_[d];
    const auto service = static_cast<ConfirmedService>(a.service);
    if (dev.dcc == EnableDisable::Disable &&
        service != ConfirmedService::DeviceCommunicationControl &&
        service != ConfirmedService::ReinitializeDevice) {
        ++stats_.dropped;
        return;
    }
    // A retransmission while its segmented answer is still going out.
    for (const auto& s : segmented_) {
        if (s.peer == from && s.invoke_id == a.invoke_id && s.device == d) return;
    }
    if (a.segmented) {
        // Segmented requests are not accepted (Segmentation_Supported = transmit).
        const auto abort = encode_abort(true, a.invoke_id, AbortReason::SegmentationNotSupported);
        ++stats_.aborts;
        send_apdu(d, from, abort, false);
        return;
    }
    Response r;
    try {
        r = dispatch_confirmed(d, a, from);
    } catch (const DecodeError& e) {
        r = Response::reject_of(e.reason);
    }
    send_response(d, a, from, r);
    auto work = std::move(after_response_);
    after_response_.clear();
    for (auto& w : work)
        w();
}

VirtualRouter::Response VirtualRouter::dispatch_confirmed(size_t d, const Apdu& a,
                                                          const Peer& from) {
    switch (static_cast<ConfirmedService>(a.service)) {
        case ConfirmedService::ReadProperty:
            return read_property(d, a.data);
        case ConfirmedService::ReadPropertyMultiple:
            return read_property_multiple(d, a.data);
        case ConfirmedService::WriteProperty:
            return write_property(d, a.data);
        case ConfirmedService::WritePropertyMultiple:
            return write_property_multiple(d, a.data);
        case ConfirmedService::SubscribeCov:
            return subscribe_cov(d, a.data, from);
        case ConfirmedService::DeviceCommunicationControl:
            return device_communication_control(d, a.data);
        case ConfirmedService::ReinitializeDevice:
            return reinitialize_device(d, a.data);
        case ConfirmedService::AcknowledgeAlarm:
            return acknowledge_alarm(d, a.data);
        case ConfirmedService::GetEventInformation:
            return get_event_information(d, a.data);
        case ConfirmedService::AddListElement:
            return list_element(d, a.data, true);
        case ConfirmedService::RemoveListElement:
            return list_element(d, a.data, false);
        default:
            return Response::reject_of(RejectReason::UnrecognizedService);
    }
}

void VirtualRouter::send_response(size_t d, const Apdu& req, const Peer& to, const Response& r) {
    switch (r.kind) {
        case Response::Kind::None:
            return;
        case Response::Kind::Simple:
            send_apdu(d, to, encode_simple_ack(req.invoke_id, req.service), false);
            return;
        case Response::Kind::Error:
            send_apdu(d, to,
                      encode_error(req.invoke_id, req.service, r.error.error_class, r.error.code),
                      false);
            return;
        case Response::Kind::ErrorRaw:
            send_apdu(d, to, encode_error_raw(req.invoke_id, req.service, r.data), false);
            return;
        case Response::Kind::Reject:
            ++stats_.rejects;
            send_apdu(d, to, encode_reject(req.invoke_id, r.reject), false);
            return;
        case Response::Kind::Abort:
            ++stats_.aborts;
            send_apdu(d, to, encode_abort(true, req.invoke_id, r.abort), false);
            return;
        case Response::Kind::Complex:
            break;
    }
    size_t limit = max_apdu_from_code(req.max_apdu_code);
    if (limit == 0) limit = 50;
    limit = std::min({limit, kMaxApdu, link_ ? link_->max_apdu() : kMaxApdu});
    if (r.data.size() + 3 <= limit) {
        send_apdu(d, to, encode_complex_ack(req.invoke_id, req.service, r.data), false);
        return;
    }
    // Too long for one APDU: segment it if the client takes segments.
    if (!req.segmented_response_accepted) {
        ++stats_.aborts;
        send_apdu(d, to, encode_abort(true, req.invoke_id, AbortReason::SegmentationNotSupported),
                  false);
        return;
    }
    SegmentedResponse s;
    s.device = d;
    s.peer = to;
    s.invoke_id = req.invoke_id;
    s.service = req.service;
    s.segment_size = limit - 5;
    s.count = (r.data.size() + s.segment_size - 1) / s.segment_size;
    const size_t max_segments = max_segments_from_code(req.max_segments_code);
    const size_t allowed = max_segments == 0 ? kMaxSegmentsWhenUnspecified
                                             : std::min(max_segments, kMaxSegmentsWhenUnspecified);
    if (s.count > allowed) {
        ++stats_.aborts;
        send_apdu(d, to, encode_abort(true, req.invoke_id, AbortReason::BufferOverflow), false);
        return;
    }
    if (segmented_.size() >= kMaxSegmentedResponses) {
        ++stats_.aborts;
        send_apdu(d, to, encode_abort(true, req.invoke_id, AbortReason::OutOfResources), false);
        return;
    }
    s.data = r.data;
    s.initial = 0;
    s.window = 1;  // the first segment goes alone; the client's ack sets the window
    ++stats_.segmented_responses;
    segmented_.push_back(std::move(s));
    send_segments(segmented_.back(), 0, 1);
}

void VirtualRouter::send_segments(SegmentedResponse& s, size_t first, size_t count) {
    for (size_t i = first; i < first + count && i < s.count; ++i) {
        const size_t begin = i * s.segment_size;
        const size_t len = std::min(s.segment_size, s.data.size() - begin);
        const auto seg = std::span<const uint8_t>(s.data).subspan(begin, len);
        const auto apdu =
            encode_complex_ack_segment(s.invoke_id, s.service, static_cast<uint8_t>(i & 0xFF),
                                       config_.proposed_window, i + 1 < s.count, seg);
        send_apdu(s.device, s.peer, apdu, false);
    }
    s.deadline = now_ + std::chrono::milliseconds(config_.segment_timeout_ms);
}

void VirtualRouter::handle_segment_ack(const Apdu& a, const Peer& from) {
    auto it = std::find_if(segmented_.begin(), segmented_.end(), [&](const SegmentedResponse& s) {
        return s.peer == from && s.invoke_id == a.invoke_id;
    });
    if (it == segmented_.end()) return;
    SegmentedResponse& s = *it;
    // Which outstanding segment does the (modulo 256) sequence number name?
    std::optional<size_t> acked;
    const size_t sent_end = std::min(s.count, s.initial + s.window);
    for (size_t i = s.initial; i < sent_end; ++i) {
        if ((i & 0xFF) == a.sequence_number) acked = i;
    }
    if (!acked) {
        // Duplicate or out of window: a NAK of the segment before the window asks to resend it.
        if (a.negative && s.initial > 0 && ((s.initial - 1) & 0xFF) == a.sequence_number) {
            send_segments(s, s.initial, s.window);
        }
        return;
    }
    if (*acked + 1 >= s.count) {
        segmented_.erase(it);
        return;
    }
    s.initial = *acked + 1;
    s.window = std::clamp<size_t>(a.window_size, 1, 127);
    s.retries = 0;
    send_segments(s, s.initial, s.window);
}

void VirtualRouter::handle_reply(const Apdu& a, const Peer& from) {
    std::erase_if(pending_, [&](const PendingRequest& p) {
        return p.invoke_id == a.invoke_id && p.peer.link == from.link;
    });
}

void VirtualRouter::send_confirmed(size_t d, const Peer& to, uint8_t service,
                                   std::span<const uint8_t> data) {
    if (!link_) return;
    // Recipients that do not answer must not make us keep an unbounded
    // queue: beyond kMaxPending outstanding requests, the notification goes
    // unsent (its subscriber gets the next one).
    if (pending_.size() >= kMaxPending) {
        ++stats_.dropped;
        return;
    }
    uint8_t id = next_invoke_id_;
    for (int guard = 0; guard < 256; ++guard) {
        id = next_invoke_id_++;
        const bool used = std::any_of(pending_.begin(), pending_.end(),
                                      [&](const PendingRequest& p) { return p.invoke_id == id; });
        if (!used) break;
    }
    ConfirmedHeader h;
    h.invoke_id = id;
    h.service = service;
    h.segmented_response_accepted = false;
    h.max_apdu_code = max_apdu_to_code(link_->max_apdu());
    const auto apdu = encode_confirmed_request(h, data);
    NpduHeader nh;
    nh.expecting_reply = true;
    if (d != 0) nh.source = NetAddress{config_.virtual_network, {devices_[d].config.mac}};
    if (to.remote) nh.destination = to.remote;
    PendingRequest p;
    p.peer = to;
    p.invoke_id = id;
    p.npdu = encode_npdu(nh, apdu);
    p.deadline = now_ + std::chrono::milliseconds(config_.apdu_timeout_ms);
    ++stats_.npdus_out;
    link_->send_npdu(p.npdu, to.link);
    pending_.push_back(std::move(p));
}

// ---------------------------------------------------------------------------
// Timers

void VirtualRouter::tick(Clock::time_point now) {
    now_ = now;
    for (size_t d = 0; d < devices_.size(); ++d) {
        DeviceState& dev = devices_[d];
        if (dev.dcc_until && now >= *dev.dcc_until) {
            dev.dcc = EnableDisable::Enable;
            dev.dcc_until.reset();
        }
        std::erase_if(dev.subscriptions, [&](const CovSubscription& s) {
            return s.lifetime != 0 && now >= s.expires;
        });
    }
    if (now >= next_cov_scan_) {
        next_cov_scan_ = now + config_.cov_scan;
        for (size_t d = 0; d < devices_.size(); ++d)
            scan_cov(d);
    }
    // Segmented responses: resend the window, give up after the retries.
    for (auto it = segmented_.begin(); it != segmented_.end();) {
        if (now < it->deadline) {
            ++it;
            continue;
        }
        if (it->retries >= config_.apdu_retries) {
            it = segmented_.erase(it);
            continue;
        }
        ++it->retries;
        send_segments(*it, it->initial, it->window);
        ++it;
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (now < it->deadline) {
            ++it;
            continue;
        }
        if (it->retries >= config_.apdu_retries || !link_) {
            it = pending_.erase(it);
            continue;
        }
        ++it->retries;
        it->deadline = now + std::chrono::milliseconds(config_.apdu_timeout_ms);
        ++stats_.npdus_out;
        link_->send_npdu(it->npdu, it->peer.link);
        ++it;
    }
    std::erase_if(unbound_, [&](const Unbound& u) { return now >= u.expires; });
}

// ---------------------------------------------------------------------------
// Properties

bool VirtualRouter::object_exists(size_t d, ObjectId o) const {
    const DeviceState& dev = devices_[d];
    if (o.object_type() == ObjectType::Device)
        return o.instance == dev.instance || o.instance == kMaxInstance;
    return dev.config.database && dev.config.database->has_object(o);
}

ObjectId VirtualRouter::resolve(size_t d, ObjectId o) const {
    if (o.object_type() == ObjectType::Device && o.instance == kMaxInstance) {
        return ObjectId(ObjectType::Device, devices_[d].instance);
    }
    return o;
}

std::vector<PropertyInfo> VirtualRouter::properties_of(size_t d, ObjectId o) {
    if (o.object_type() == ObjectType::Device) return device_properties(d);
    return devices_[d].config.database ? devices_[d].config.database->property_list(o)
                                       : std::vector<PropertyInfo>{};
}

ReadOutcome VirtualRouter::read_whole(size_t d, ObjectId o, PropertyId p) {
    if (!object_exists(d, o)) return errors::kUnknownObject;
    if (o.object_type() == ObjectType::Device) return device_read(d, p);
    return devices_[d].config.database->read(o, p);
}

std::variant<std::vector<uint8_t>, ErrorPair> VirtualRouter::read_value(
    size_t d, ObjectId o, const PropertyReference& ref) {
    if (is_special(ref.property)) return errors::kUnknownProperty;
    auto outcome = read_whole(d, o, ref.property);
    if (const auto* e = std::get_if<ErrorPair>(&outcome)) return *e;
    const auto& pd = std::get<PropertyData>(outcome);
    std::vector<uint8_t> out;
    Writer w(out);
    if (ref.index == kNoIndex) {
        for (const auto& item : pd.items)
            w.elements(item);
        return out;
    }
    if (pd.shape != PropertyData::Shape::Array) return errors::kNotAnArray;
    if (ref.index == 0) {
        w.app_unsigned(pd.items.size());
        return out;
    }
    if (ref.index > pd.items.size()) return errors::kInvalidArrayIndex;
    w.elements(pd.items[ref.index - 1]);
    return out;
}

WriteOutcome VirtualRouter::write_value(size_t d, ObjectId o, const PropertyValue& v) {
    if (!object_exists(d, o)) return errors::kUnknownObject;
    if (is_special(v.ref.property)) return errors::kWriteAccessDenied;
    if (o.object_type() == ObjectType::Device) return device_write(d, v);
    return devices_[d].config.database->write(o, v);
}

// ---------------------------------------------------------------------------
// Services

VirtualRouter::Response VirtualRouter::read_property(size_t d, std::span<const uint8_t> data) {
    ReadPropertyRequest req = decode_read_property(data);
    req.object = resolve(d, req.object);
    const auto v = read_value(d, req.object, req.ref);
    if (const auto* e = std::get_if<ErrorPair>(&v)) return Response::error_of(*e);
    std::vector<uint8_t> out;
    encode_read_property_ack(out, req, std::get<std::vector<uint8_t>>(v));
    return Response::complex(std::move(out));
}

VirtualRouter::Response VirtualRouter::read_property_multiple(size_t d,
                                                              std::span<const uint8_t> data) {
    const auto specs = decode_read_property_multiple(data);
    std::vector<uint8_t> out;
    Writer w(out);
    for (const auto& spec : specs) {
        const ObjectId object = resolve(d, spec.object);
        encode_rpm_object_open(w, object);
        const bool exists = object_exists(d, object);
        for (const auto& ref : spec.properties) {
            if (!exists) {
                encode_rpm_error(w, ref, errors::kUnknownObject);
                continue;
            }
            if (is_special(ref.property)) {
                for (const auto& info : properties_of(d, object)) {
                    if (ref.property == PropertyId::Required && !info.required) continue;
                    if (ref.property == PropertyId::Optional && info.required) continue;
                    const PropertyReference one{info.id, kNoIndex};
                    const auto v = read_value(d, object, one);
                    if (const auto* e = std::get_if<ErrorPair>(&v))
                        encode_rpm_error(w, one, *e);
                    else
                        encode_rpm_value(w, one, std::get<std::vector<uint8_t>>(v));
                }
                continue;
            }
            const auto v = read_value(d, object, ref);
            if (const auto* e = std::get_if<ErrorPair>(&v))
                encode_rpm_error(w, ref, *e);
            else
                encode_rpm_value(w, ref, std::get<std::vector<uint8_t>>(v));
        }
        encode_rpm_object_close(w);
    }
    return Response::complex(std::move(out));
}

VirtualRouter::Response VirtualRouter::write_property(size_t d, std::span<const uint8_t> data) {
    const auto req = decode_write_property(data);
    if (auto e = write_value(d, resolve(d, req.object), req.value)) return Response::error_of(*e);
    return Response::simple();
}

VirtualRouter::Response VirtualRouter::write_property_multiple(size_t d,
                                                               std::span<const uint8_t> data) {
    // Decoded whole first (a malformed request changes nothing), then applied
    // in order up to the first failure, as clause 15.10 describes.
    const auto specs = decode_write_property_multiple(data);
    for (const auto& spec : specs) {
        const ObjectId object = resolve(d, spec.object);
        for (const auto& v : spec.values) {
            if (auto e = write_value(d, object, v)) {
                return Response::error_raw(encode_wpm_error(*e, spec.object, v.ref));
            }
        }
    }
    return Response::simple();
}

VirtualRouter::Response VirtualRouter::subscribe_cov(size_t d, std::span<const uint8_t> data,
                                                     const Peer& from) {
    const auto req = decode_subscribe_cov(data);
    DeviceState& dev = devices_[d];
    if (!object_exists(d, req.object)) return Response::error_of(errors::kUnknownObject);
    const auto value = dev.config.database && req.object.object_type() != ObjectType::Device
                           ? dev.config.database->cov_value(req.object)
                           : std::nullopt;
    if (!value)
        return Response::error_of(
            {ErrorClass::Object, ErrorCode::OptionalFunctionalityNotSupported});
    auto it = std::find_if(
        dev.subscriptions.begin(), dev.subscriptions.end(), [&](const CovSubscription& s) {
            return s.peer == from && s.process_id == req.process_id && s.object == req.object;
        });
    if (req.cancellation()) {
        if (it != dev.subscriptions.end()) dev.subscriptions.erase(it);
        return Response::simple();
    }
    if (it == dev.subscriptions.end()) {
        if (dev.subscriptions.size() >= config_.max_cov_subscriptions) {
            return Response::error_of({ErrorClass::Resources, ErrorCode::NoSpaceToAddListElement});
        }
        dev.subscriptions.push_back(
            CovSubscription{from, req.process_id, req.object, false, 0, {}, {}});
        it = dev.subscriptions.end() - 1;
    }
    it->confirmed = req.confirmed.value_or(false);
    it->lifetime = req.lifetime.value_or(0);
    it->expires = now_ + std::chrono::seconds(it->lifetime);
    it->last.reset();
    // The initial notification follows the acknowledgement (clause 13.14.2).
    const auto key = std::tuple{from, req.process_id, req.object};
    after_response_.emplace_back([this, d, key] {
        auto& subs = devices_[d].subscriptions;
        for (auto& s : subs) {
            if (std::tuple{s.peer, s.process_id, s.object} != key) continue;
            if (auto v = devices_[d].config.database->cov_value(s.object))
                send_cov_notification(d, s, *v);
        }
    });
    return Response::simple();
}

void VirtualRouter::send_cov_notification(size_t d, CovSubscription& s, const CovValue& v) {
    s.last = v;
    if (!may_initiate(d)) return;
    CovNotification n;
    n.process_id = s.process_id;
    n.device = ObjectId(ObjectType::Device, devices_[d].instance);
    n.object = s.object;
    if (s.lifetime != 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::seconds>(s.expires - now_).count();
        n.time_remaining = static_cast<uint32_t>(std::max<int64_t>(left, 0));
    }
    n.values.push_back(
        PropertyValue{{PropertyId::PresentValue, kNoIndex}, {Element::app(v.present_value)}, {}});
    n.values.push_back(
        PropertyValue{{PropertyId::StatusFlags, kNoIndex}, {Element::app(v.status_flags)}, {}});
    const auto data = encode_cov_notification(n);
    ++stats_.notifications;
    if (s.confirmed) {
        send_confirmed(d, s.peer, static_cast<uint8_t>(ConfirmedService::ConfirmedCovNotification),
                       data);
    } else {
        send_apdu(d, s.peer,
                  encode_unconfirmed_request(UnconfirmedService::UnconfirmedCovNotification, data),
                  false);
    }
}

void VirtualRouter::scan_cov(size_t d) {
    DeviceState& dev = devices_[d];
    if (!dev.config.database) return;
    for (auto it = dev.subscriptions.begin(); it != dev.subscriptions.end();) {
        const auto v = dev.config.database->cov_value(it->object);
        if (!v) {
            it = dev.subscriptions.erase(it);  // the object went away
            continue;
        }
        bool changed = !it->last || it->last->status_flags != v->status_flags;
        if (!changed) {
            const auto* now_real = std::get_if<float>(&v->present_value);
            const auto* last_real = std::get_if<float>(&it->last->present_value);
            if (now_real && last_real && v->increment) {
                changed = std::fabs(*now_real - *last_real) >= *v->increment;
            } else {
                changed = v->present_value != it->last->present_value;
            }
        }
        if (changed) send_cov_notification(d, *it, *v);
        ++it;
    }
}

VirtualRouter::Response VirtualRouter::device_communication_control(size_t d,
                                                                    std::span<const uint8_t> data) {
    const auto req = decode_device_communication_control(data);
    if (!config_.password.empty() && req.password.value_or("") != config_.password) {
        return Response::error_of({ErrorClass::Security, ErrorCode::PasswordFailure});
    }
    DeviceState& dev = devices_[d];
    dev.dcc = req.state;
    dev.dcc_until.reset();
    if (req.state != EnableDisable::Enable && req.duration_minutes && *req.duration_minutes > 0) {
        dev.dcc_until = now_ + std::chrono::minutes(*req.duration_minutes);
    }
    return Response::simple();
}

VirtualRouter::Response VirtualRouter::reinitialize_device(size_t d,
                                                           std::span<const uint8_t> data) {
    (void)d;
    const auto req = decode_reinitialize_device(data);
    if (req.state > 7) return Response::reject_of(RejectReason::UndefinedEnumeration);
    if (!config_.password.empty() && req.password.value_or("") != config_.password) {
        return Response::error_of({ErrorClass::Security, ErrorCode::PasswordFailure});
    }
    if (req.state > 1 || !hooks_.reinitialize) {
        return Response::error_of(
            {ErrorClass::Services, ErrorCode::OptionalFunctionalityNotSupported});
    }
    const auto state = static_cast<ReinitializedState>(req.state);
    // The restart happens after the acknowledgement went out.
    after_response_.emplace_back([this, state] { hooks_.reinitialize(state); });
    return Response::simple();
}

VirtualRouter::Response VirtualRouter::acknowledge_alarm(size_t d, std::span<const uint8_t> data) {
    const auto req = decode_acknowledge_alarm(data);
    DeviceState& dev = devices_[d];
    if (!object_exists(d, req.object) || !dev.config.database ||
        req.object.object_type() == ObjectType::Device) {
        return Response::error_of(errors::kUnknownObject);
    }
    auto outcome = dev.config.database->acknowledge(req.object, req.state, req.event_timestamp,
                                                    req.ack_timestamp);
    if (const auto* e = std::get_if<ErrorPair>(&outcome)) return Response::error_of(*e);
    EventReport report = std::get<EventReport>(outcome);
    report.notify_type = NotifyType::AckNotification;
    after_response_.emplace_back([this, d, report] { on_event_report(d, report); });
    return Response::simple();
}

VirtualRouter::Response VirtualRouter::get_event_information(size_t d,
                                                             std::span<const uint8_t> data) {
    const auto last = decode_get_event_information(data);
    DeviceState& dev = devices_[d];
    EventInformation info;
    if (dev.config.database) {
        auto all = dev.config.database->event_summaries();
        size_t start = 0;
        if (last) {
            const auto it = std::find_if(all.begin(), all.end(),
                                         [&](const EventSummary& s) { return s.object == *last; });
            start = it == all.end() ? all.size() : static_cast<size_t>(it - all.begin()) + 1;
        }
        for (size_t i = start; i < all.size(); ++i) {
            if (info.summaries.size() == kEventSummariesPerReply) {
                info.more_events = true;
                break;
            }
            info.summaries.push_back(all[i]);
        }
    }
    return Response::complex(encode_get_event_information_ack(info));
}

VirtualRouter::Response VirtualRouter::list_element(size_t d, std::span<const uint8_t> data,
                                                    bool add) {
    const auto req = decode_list_element(data);
    DeviceState& dev = devices_[d];
    const ObjectId object = resolve(d, req.object);
    WriteOutcome e;
    uint32_t failed = 0;
    if (!object_exists(d, object)) {
        e = errors::kUnknownObject;
    } else if (object.object_type() == ObjectType::Device) {
        // Device lists (Object_List, Device_Address_Binding, ...) are not writable.
        const auto props = device_properties(d);
        e = std::any_of(props.begin(), props.end(),
                        [&](const PropertyInfo& p) { return p.id == req.ref.property; })
                ? errors::kWriteAccessDenied
                : errors::kUnknownProperty;
    } else if (add) {
        e = dev.config.database->add_list_element(object, req.ref, req.elements, failed);
    } else {
        e = dev.config.database->remove_list_element(object, req.ref, req.elements, failed);
    }
    if (e) return Response::error_raw(encode_change_list_error(*e, failed));
    return Response::simple();
}

// ---------------------------------------------------------------------------
// Event notifications

void VirtualRouter::on_event_report(size_t d, const EventReport& r) {
    DeviceState& dev = devices_[d];
    if (!dev.config.database || !may_initiate(d)) return;
    const auto nc = dev.config.database->notification_class(r.notification_class);
    if (!nc) return;
    const size_t t = transition_of(r.to_state);
    const DateTime local = hooks_.local_time ? hooks_.local_time() : DateTime{};
    for (const Destination& dest : nc->recipients) {
        if (!dest.transitions.get(t)) continue;
        // Valid days: bit 0 is Monday; Date weekday 1 = Monday.
        if (local.date.weekday >= 1 && local.date.weekday <= 7 &&
            !dest.valid_days.get(local.date.weekday - 1)) {
            continue;
        }
        const auto minutes = [](const Time& x) { return x.hour * 3600 + x.minute * 60 + x.second; };
        if (local.time.hour != 0xFF && (minutes(local.time) < minutes(dest.from_time) ||
                                        minutes(local.time) > minutes(dest.to_time))) {
            continue;
        }
        EventNotification n;
        n.process_id = dest.process_id;
        n.device = ObjectId(ObjectType::Device, dev.instance);
        n.object = r.object;
        n.timestamp = r.timestamp;
        n.notification_class = r.notification_class;
        n.priority = nc->priority[t];
        n.event_type = r.event_type;
        n.message = r.message;
        n.notify_type = r.notify_type;
        n.to_state = r.to_state;
        if (r.notify_type != NotifyType::AckNotification) {
            n.ack_required = nc->ack_required.get(t);
            n.from_state = r.from_state;
            n.values = r.values;
        }
        const auto data = encode_event_notification(n);
        ++stats_.notifications;
        deliver_to_recipient(
            d, dest.recipient, dest.confirmed,
            static_cast<uint8_t>(
                dest.confirmed
                    ? static_cast<uint8_t>(ConfirmedService::ConfirmedEventNotification)
                    : static_cast<uint8_t>(UnconfirmedService::UnconfirmedEventNotification)),
            data);
    }
}

void VirtualRouter::deliver_to_recipient(size_t d, const Recipient& r, bool confirmed,
                                         uint8_t service, std::span<const uint8_t> data) {
    Peer to;
    if (r.device) {
        const auto it = bindings_.find(r.device->instance);
        if (it == bindings_.end()) {
            // Find the recipient first (Who-Is for its instance), send on I-Am.
            if (unbound_.size() >= kMaxUnbound) return;
            Unbound u;
            u.device = d;
            u.recipient = r.device->instance;
            u.apdu.assign(data.begin(), data.end());
            u.confirmed = confirmed;
            u.expires = now_ + kUnboundTimeout;
            unbound_.push_back(std::move(u));
            WhoIs w;
            w.low = w.high = r.device->instance;
            send_apdu(d, Peer{{}, NetAddress{kGlobalNetwork, {}}},
                      encode_unconfirmed_request(UnconfirmedService::WhoIs, encode_who_is(w)),
                      false);
            return;
        }
        to = it->second;
    } else if (r.address.net == 0) {
        to.link = r.address.mac;  // this network (empty MAC: local broadcast)
    } else {
        to.remote = r.address;  // through whichever router serves that network
    }
    if (confirmed)
        send_confirmed(d, to, service, data);
    else
        send_apdu(d, to, encode_unconfirmed_request(static_cast<UnconfirmedService>(service), data),
                  false);
}

void VirtualRouter::flush_unbound(uint32_t instance) {
    auto waiting = std::move(unbound_);
    unbound_.clear();
    for (auto& u : waiting) {
        if (u.recipient != instance) {
            unbound_.push_back(std::move(u));
            continue;
        }
        const auto service =
            u.confirmed ? static_cast<uint8_t>(ConfirmedService::ConfirmedEventNotification)
                        : static_cast<uint8_t>(UnconfirmedService::UnconfirmedEventNotification);
        Recipient r;
        r.device = ObjectId(ObjectType::Device, instance);
        deliver_to_recipient(u.device, r, u.confirmed, service, u.apdu);
    }
}

}  // namespace openbcpm::bacnet
