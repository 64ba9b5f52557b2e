// Alarms and events: AcknowledgeAlarm, GetEventInformation, event notifications.
#include <algorithm>

#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

namespace {

constexpr size_t kEventSummariesPerReply = 16;
constexpr auto kUnboundTimeout = std::chrono::seconds(10);
// Bounds on the state a stream of requests can make us keep.
constexpr size_t kMaxUnbound = 64;

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

}  // namespace

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
