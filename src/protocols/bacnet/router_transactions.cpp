// Transactions: confirmed requests served and initiated, segmented answers, retries, timers.
#include <algorithm>

#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

namespace {

constexpr size_t kMaxSegmentsWhenUnspecified = 255;
// Bounds on the state a stream of requests can make us keep.
constexpr size_t kMaxPending = 64;
constexpr size_t kMaxSegmentedResponses = 16;

}  // namespace

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
    give_back(response_buffer_, std::move(r.data));
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
        case Response::Kind::Error: {
            std::vector<uint8_t> apdu = take(apdu_buffer_);
            encode_error(apdu, req.invoke_id, req.service, r.error.error_class, r.error.code);
            send_apdu(d, to, apdu, false);
            give_back(apdu_buffer_, std::move(apdu));
            return;
        }
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
        std::vector<uint8_t> apdu = take(apdu_buffer_);
        encode_complex_ack(apdu, req.invoke_id, req.service, r.data);
        send_apdu(d, to, apdu, false);
        give_back(apdu_buffer_, std::move(apdu));
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

}  // namespace openbcpm::bacnet
