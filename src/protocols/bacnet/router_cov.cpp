// COV: SubscribeCOV, the periodic scan for changes, COV notifications.
#include <algorithm>
#include <cmath>

#include "protocols/bacnet/router.hpp"

namespace openbcpm::bacnet {

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

}  // namespace openbcpm::bacnet
