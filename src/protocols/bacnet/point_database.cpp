#include "protocols/bacnet/point_database.hpp"

#include <algorithm>
#include <cmath>

namespace openbcpm::bacnet {

namespace {

// The error a refused Present_Value write answers with (none when done).
WriteOutcome refusal(const WriteVerdict& v) {
    switch (v.kind) {
        case WriteVerdict::Kind::Done:
            return std::nullopt;
        case WriteVerdict::Kind::OutOfRange:
            return errors::kValueOutOfRange;
        case WriteVerdict::Kind::NotStored:
            return errors::kNotStored;
    }
    return errors::kValueOutOfRange;
}

using P = PropertyId;

size_t transition_index(EventState to) {
    if (to == EventState::Normal) return static_cast<size_t>(Transition::ToNormal);
    if (to == EventState::Fault) return static_cast<size_t>(Transition::ToFault);
    return static_cast<size_t>(Transition::ToOffnormal);
}

std::optional<float> real_of(const PropertyValue& v) {
    if (v.value.size() != 1) return std::nullopt;
    if (const auto* f = v.value[0].as<float>()) return *f;
    return std::nullopt;
}
std::optional<uint64_t> unsigned_of(const PropertyValue& v) {
    if (v.value.size() != 1) return std::nullopt;
    if (const auto* u = v.value[0].as<uint64_t>()) return *u;
    return std::nullopt;
}
std::optional<BitString> bits_of(const PropertyValue& v) {
    if (v.value.size() != 1) return std::nullopt;
    if (const auto* b = v.value[0].as<BitString>()) return *b;
    return std::nullopt;
}

// Parses a sequence of BACnetDestination from raw elements.
std::optional<std::vector<Destination>> destinations_of(std::span<const Element> elements,
                                                        uint32_t& failed) {
    const auto bytes = encode_elements(elements);
    Reader r(bytes);
    std::vector<Destination> out;
    try {
        while (!r.at_end()) {
            failed = static_cast<uint32_t>(out.size() + 1);
            out.push_back(decode_destination(r));
        }
    } catch (const DecodeError&) {
        return std::nullopt;
    }
    failed = 0;
    return out;
}

}  // namespace

PointDatabase::PointDatabase(std::vector<AnalogPoint> points,
                             std::vector<NotificationClassDef> classes) {
    for (auto& p : points) {
        const ObjectId id(p.type, p.instance);
        Analog a;
        a.cov_increment = p.cov_increment;
        a.point = std::move(p);
        if (analogs_.emplace(id, std::move(a)).second) order_.push_back(id);
    }
    for (auto& c : classes) {
        const ObjectId id(ObjectType::NotificationClass, c.instance);
        if (classes_.emplace(id, std::move(c)).second) order_.push_back(id);
    }
}

PointDatabase::Analog* PointDatabase::analog(ObjectId id) {
    auto it = analogs_.find(id);
    return it == analogs_.end() ? nullptr : &it->second;
}
const PointDatabase::Analog* PointDatabase::analog(ObjectId id) const {
    auto it = analogs_.find(id);
    return it == analogs_.end() ? nullptr : &it->second;
}
NotificationClassDef* PointDatabase::nc(ObjectId id) {
    auto it = classes_.find(id);
    return it == classes_.end() ? nullptr : &it->second;
}
const NotificationClassDef* PointDatabase::nc(ObjectId id) const {
    auto it = classes_.find(id);
    return it == classes_.end() ? nullptr : &it->second;
}

std::vector<ObjectId> PointDatabase::object_list() const {
    return order_;
}

bool PointDatabase::has_object(ObjectId id) const {
    return analogs_.contains(id) || classes_.contains(id);
}

std::vector<PropertyInfo> PointDatabase::property_list(ObjectId id) const {
    std::vector<PropertyInfo> out;
    if (const Analog* a = analog(id)) {
        for (P p : {P::ObjectIdentifier, P::ObjectName, P::ObjectType, P::PresentValue,
                    P::StatusFlags, P::EventState, P::OutOfService, P::Units}) {
            out.push_back({p, true});
        }
        if (a->point.type == ObjectType::AnalogOutput) {
            out.push_back({P::PriorityArray, true});
            out.push_back({P::RelinquishDefault, true});
        }
        out.push_back({P::Description, false});
        if (a->point.reliability) out.push_back({P::Reliability, false});
        out.push_back({P::CovIncrement, false});
        if (a->point.min_value) out.push_back({P::MinPresValue, false});
        if (a->point.max_value) out.push_back({P::MaxPresValue, false});
        if (a->point.reporting) {
            for (P p : {P::TimeDelay, P::NotificationClass, P::HighLimit, P::LowLimit, P::Deadband,
                        P::LimitEnable, P::EventEnable, P::AckedTransitions, P::NotifyType,
                        P::EventTimeStamps}) {
                out.push_back({p, false});
            }
        }
    } else if (nc(id)) {
        for (P p : {P::ObjectIdentifier, P::ObjectName, P::ObjectType, P::NotificationClass,
                    P::Priority, P::AckRequired, P::RecipientList}) {
            out.push_back({p, true});
        }
        out.push_back({P::Description, false});
    }
    return out;
}

BitString PointDatabase::status_flags(const Analog& a) const {
    // in-alarm, fault, overridden, out-of-service
    const bool fault =
        a.state == EventState::Fault || (a.point.reliability && a.point.reliability() != 0);
    return BitString{a.state != EventState::Normal, fault, false, false};
}

ReadOutcome PointDatabase::read(ObjectId id, PropertyId p) const {
    const auto props = property_list(id);
    if (props.empty()) return errors::kUnknownObject;
    if (std::none_of(props.begin(), props.end(),
                     [&](const PropertyInfo& i) { return i.id == p; })) {
        return errors::kUnknownProperty;
    }
    switch (p) {
        case P::ObjectIdentifier:
            return PropertyData::scalar(id);
        case P::ObjectType:
            return PropertyData::scalar(Enumerated{id.type});
        default:
            break;
    }
    if (const Analog* a = analog(id)) {
        const auto& pt = a->point;
        const auto& rep = pt.reporting;
        switch (p) {
            case P::ObjectName:
                return PropertyData::scalar(CharString{0, pt.name});
            case P::Description:
                return PropertyData::scalar(CharString{0, pt.description});
            case P::PresentValue:
                return PropertyData::scalar(pt.value ? pt.value() : 0.0F);
            case P::StatusFlags:
                return PropertyData::scalar(status_flags(*a));
            case P::EventState:
                return PropertyData::scalar(Enumerated{static_cast<uint32_t>(a->state)});
            case P::OutOfService:
                return PropertyData::scalar(false);
            case P::Reliability:
                return PropertyData::scalar(Enumerated{pt.reliability()});
            case P::Units:
                return PropertyData::scalar(Enumerated{pt.units});
            case P::CovIncrement:
                return PropertyData::scalar(a->cov_increment);
            case P::MinPresValue:
                return PropertyData::scalar(*pt.min_value);
            case P::MaxPresValue:
                return PropertyData::scalar(*pt.max_value);
            case P::RelinquishDefault:
                return PropertyData::scalar(pt.relinquish_default);
            case P::PriorityArray: {
                std::vector<Primitive> slots;
                for (const auto& s : a->priority_array) {
                    if (s)
                        slots.emplace_back(*s);
                    else
                        slots.emplace_back(Null{});
                }
                return PropertyData::array_of(slots);
            }
            case P::TimeDelay:
                return PropertyData::scalar(uint64_t{rep->time_delay});
            case P::NotificationClass:
                return PropertyData::scalar(uint64_t{rep->notification_class});
            case P::HighLimit:
                return PropertyData::scalar(rep->meter_high_limit ? rep->meter_high_limit()
                                                                  : rep->high_limit);
            case P::LowLimit:
                return PropertyData::scalar(rep->meter_low_limit ? rep->meter_low_limit()
                                                                 : rep->low_limit);
            case P::Deadband:
                return PropertyData::scalar(rep->deadband);
            case P::LimitEnable:
                return PropertyData::scalar(rep->limit_enable);
            case P::EventEnable:
                return PropertyData::scalar(rep->event_enable);
            case P::AckedTransitions:
                return PropertyData::scalar(a->acked);
            case P::NotifyType:
                return PropertyData::scalar(Enumerated{static_cast<uint32_t>(rep->notify_type)});
            case P::EventTimeStamps: {
                std::vector<std::vector<Element>> items;
                for (const auto& t : a->stamps) {
                    std::vector<uint8_t> bytes;
                    Writer w(bytes);
                    // Array members are bare BACnetTimeStamp choices.
                    if (t.kind == TimeStamp::Kind::DateTime) {
                        w.open(2);
                        w.app(t.date);
                        w.app(t.time);
                        w.close(2);
                    } else if (t.kind == TimeStamp::Kind::Time) {
                        w.context(0, t.time);
                    } else {
                        w.ctx_unsigned(1, t.sequence);
                    }
                    items.push_back(decode_elements(bytes));
                }
                return PropertyData::array(std::move(items));
            }
            default:
                return errors::kUnknownProperty;
        }
    }
    const NotificationClassDef& n = *nc(id);
    switch (p) {
        case P::ObjectName:
            return PropertyData::scalar(CharString{0, n.name});
        case P::Description:
            return PropertyData::scalar(CharString{0, n.description});
        case P::NotificationClass:
            return PropertyData::scalar(uint64_t{n.instance});
        case P::Priority:
            return PropertyData::array_of(
                {uint64_t{n.priority[0]}, uint64_t{n.priority[1]}, uint64_t{n.priority[2]}});
        case P::AckRequired:
            return PropertyData::scalar(n.ack_required);
        case P::RecipientList: {
            std::vector<std::vector<Element>> items;
            for (const auto& d : n.recipients)
                items.push_back(destination_elements(d));
            return PropertyData::list(std::move(items));
        }
        default:
            return errors::kUnknownProperty;
    }
}

WriteOutcome PointDatabase::write(ObjectId id, const PropertyValue& v) {
    const auto props = property_list(id);
    if (props.empty()) return errors::kUnknownObject;
    if (std::none_of(props.begin(), props.end(),
                     [&](const PropertyInfo& i) { return i.id == v.ref.property; })) {
        return errors::kUnknownProperty;
    }
    if (Analog* a = analog(id)) return write_analog(*a, v);
    NotificationClassDef& n = *nc(id);
    NotificationClassDef next = n;
    const WriteOutcome r = write_nc(next, v);
    if (r) return r;
    if (!class_changing(next)) return errors::kNotStored;
    n = std::move(next);
    return std::nullopt;
}

WriteOutcome PointDatabase::write_analog(Analog& a, const PropertyValue& v) {
    const auto& pt = a.point;
    if (v.ref.index != kNoIndex) {
        return v.ref.property == P::PriorityArray || v.ref.property == P::EventTimeStamps
                   ? errors::kWriteAccessDenied
                   : errors::kNotAnArray;
    }
    const auto in_range = [&](float x) {
        return std::isfinite(x) && (!pt.min_value || x >= *pt.min_value) &&
               (!pt.max_value || x <= *pt.max_value);
    };
    switch (v.ref.property) {
        case P::PresentValue: {
            if (pt.type == ObjectType::AnalogInput || !pt.write) return errors::kWriteAccessDenied;
            if (pt.writable && !pt.writable()) return errors::kWriteAccessDenied;
            if (pt.type == ObjectType::AnalogOutput) {
                // Commandable: the slot of the priority (16 when absent), then
                // the highest priority in force drives the output.
                const size_t slot = v.priority.value_or(16) - 1;
                std::optional<float> command;
                if (v.value.size() == 1 && v.value[0].as<Null>()) {
                    command.reset();
                } else if (auto x = real_of(v)) {
                    if (!in_range(*x)) return errors::kValueOutOfRange;
                    command = *x;
                } else {
                    return errors::kInvalidDataType;
                }
                auto next = a.priority_array;
                next[slot] = command;
                float effective = pt.relinquish_default;
                for (const auto& s : next) {
                    if (s) {
                        effective = *s;
                        break;
                    }
                }
                if (WriteOutcome e = refusal(pt.write(effective))) return e;
                a.priority_array = next;
                return std::nullopt;
            }
            const auto x = real_of(v);
            if (!x) return errors::kInvalidDataType;
            if (!in_range(*x)) return errors::kValueOutOfRange;
            return refusal(pt.write(*x));
        }
        case P::CovIncrement: {
            const auto x = real_of(v);
            if (!x) return errors::kInvalidDataType;
            if (!std::isfinite(*x) || *x < 0.0F) return errors::kValueOutOfRange;
            a.cov_increment = *x;
            return std::nullopt;
        }
        default:
            break;
    }
    if (!pt.reporting) return errors::kWriteAccessDenied;
    EventReporting& rep = *a.point.reporting;
    // The meter's own event engine decides these objects' states: the
    // algorithm's parameters are not ours to change.
    if (!rep.intrinsic) {
        switch (v.ref.property) {
            case P::HighLimit:
            case P::LowLimit:
            case P::Deadband:
            case P::LimitEnable:
            case P::TimeDelay:
                return errors::kWriteAccessDenied;
            default:
                break;
        }
    }
    switch (v.ref.property) {
        case P::HighLimit:
        case P::LowLimit:
        case P::Deadband: {
            const auto x = real_of(v);
            if (!x) return errors::kInvalidDataType;
            if (!std::isfinite(*x) || (v.ref.property == P::Deadband && *x < 0.0F))
                return errors::kValueOutOfRange;
            (v.ref.property == P::HighLimit  ? rep.high_limit
             : v.ref.property == P::LowLimit ? rep.low_limit
                                             : rep.deadband) = *x;
            return std::nullopt;
        }
        case P::TimeDelay: {
            const auto x = unsigned_of(v);
            if (!x) return errors::kInvalidDataType;
            if (*x > 3600) return errors::kValueOutOfRange;
            rep.time_delay = static_cast<uint32_t>(*x);
            return std::nullopt;
        }
        case P::NotificationClass: {
            const auto x = unsigned_of(v);
            if (!x) return errors::kInvalidDataType;
            if (!classes_.contains(
                    ObjectId(ObjectType::NotificationClass, static_cast<uint32_t>(*x)))) {
                return errors::kValueOutOfRange;
            }
            rep.notification_class = static_cast<uint32_t>(*x);
            return std::nullopt;
        }
        case P::LimitEnable:
        case P::EventEnable: {
            const auto b = bits_of(v);
            if (!b) return errors::kInvalidDataType;
            const size_t n = v.ref.property == P::LimitEnable ? 2 : 3;
            if (b->bits.size() != n) return errors::kValueOutOfRange;
            (v.ref.property == P::LimitEnable ? rep.limit_enable : rep.event_enable) = *b;
            return std::nullopt;
        }
        case P::NotifyType: {
            if (v.value.size() != 1 || !v.value[0].as<Enumerated>())
                return errors::kInvalidDataType;
            const uint32_t x = v.value[0].as<Enumerated>()->value;
            if (x > 1) return errors::kValueOutOfRange;
            rep.notify_type = static_cast<NotifyType>(x);
            return std::nullopt;
        }
        default:
            return errors::kWriteAccessDenied;
    }
}

WriteOutcome PointDatabase::write_nc(NotificationClassDef& n, const PropertyValue& v) {
    switch (v.ref.property) {
        case P::Priority: {
            if (v.ref.index == 0) return errors::kWriteAccessDenied;
            if (v.ref.index != kNoIndex) {
                if (v.ref.index > 3) return errors::kInvalidArrayIndex;
                const auto x = unsigned_of(v);
                if (!x) return errors::kInvalidDataType;
                if (*x > 255) return errors::kValueOutOfRange;
                n.priority[v.ref.index - 1] = static_cast<uint8_t>(*x);
                return std::nullopt;
            }
            if (v.value.size() != 3) return errors::kValueOutOfRange;
            std::array<uint8_t, 3> next{};
            for (size_t i = 0; i < 3; ++i) {
                const auto* x = v.value[i].as<uint64_t>();
                if (!x) return errors::kInvalidDataType;
                if (*x > 255) return errors::kValueOutOfRange;
                next[i] = static_cast<uint8_t>(*x);
            }
            n.priority = next;
            return std::nullopt;
        }
        case P::AckRequired: {
            if (v.ref.index != kNoIndex) return errors::kNotAnArray;
            const auto b = bits_of(v);
            if (!b) return errors::kInvalidDataType;
            if (b->bits.size() != 3) return errors::kValueOutOfRange;
            n.ack_required = *b;
            return std::nullopt;
        }
        case P::RecipientList: {
            if (v.ref.index != kNoIndex) return errors::kNotAnArray;
            uint32_t failed = 0;
            auto list = destinations_of(v.value, failed);
            if (!list) return errors::kInvalidDataType;
            n.recipients = std::move(*list);
            return std::nullopt;
        }
        default:
            return v.ref.index != kNoIndex ? errors::kNotAnArray : errors::kWriteAccessDenied;
    }
}

WriteOutcome PointDatabase::add_list_element(ObjectId id, const PropertyReference& ref,
                                             std::span<const Element> elements, uint32_t& failed) {
    failed = 0;
    NotificationClassDef* n = nc(id);
    if (!n || ref.property != P::RecipientList)
        return ObjectDatabase::add_list_element(id, ref, elements, failed);
    if (ref.index != kNoIndex) return errors::kNotAnArray;
    auto list = destinations_of(elements, failed);
    if (!list) return errors::kInvalidDataType;
    // All or nothing; an element already present is not added twice.
    NotificationClassDef next = *n;
    for (auto& d : *list) {
        if (std::find(next.recipients.begin(), next.recipients.end(), d) == next.recipients.end()) {
            next.recipients.push_back(std::move(d));
        }
    }
    if (!class_changing(next)) return errors::kNotStored;
    *n = std::move(next);
    return std::nullopt;
}

WriteOutcome PointDatabase::remove_list_element(ObjectId id, const PropertyReference& ref,
                                                std::span<const Element> elements,
                                                uint32_t& failed) {
    failed = 0;
    NotificationClassDef* n = nc(id);
    if (!n || ref.property != P::RecipientList)
        return ObjectDatabase::remove_list_element(id, ref, elements, failed);
    if (ref.index != kNoIndex) return errors::kNotAnArray;
    auto list = destinations_of(elements, failed);
    if (!list) return errors::kInvalidDataType;
    for (size_t i = 0; i < list->size(); ++i) {
        if (std::find(n->recipients.begin(), n->recipients.end(), (*list)[i]) ==
            n->recipients.end()) {
            failed = static_cast<uint32_t>(i + 1);
            return ErrorPair{ErrorClass::Services, ErrorCode::ListElementNotFound};
        }
    }
    NotificationClassDef next = *n;
    for (const auto& d : *list)
        std::erase(next.recipients, d);
    if (!class_changing(next)) return errors::kNotStored;
    *n = std::move(next);
    return std::nullopt;
}

std::optional<CovValue> PointDatabase::cov_value(ObjectId id) const {
    const Analog* a = analog(id);
    if (!a) return std::nullopt;
    CovValue v;
    v.present_value = a->point.value ? a->point.value() : 0.0F;
    v.status_flags = status_flags(*a);
    v.increment = a->cov_increment;
    return v;
}

std::vector<EventSummary> PointDatabase::event_summaries() const {
    std::vector<EventSummary> out;
    for (const ObjectId& id : order_) {
        const Analog* a = analog(id);
        if (!a || !a->point.reporting) continue;
        const bool all_acked = a->acked.get(0) && a->acked.get(1) && a->acked.get(2);
        if (a->state == EventState::Normal && all_acked) continue;
        EventSummary s;
        s.object = id;
        s.state = a->state;
        s.acked_transitions = a->acked;
        s.timestamps = a->stamps;
        s.notify_type = a->point.reporting->notify_type;
        s.event_enable = a->point.reporting->event_enable;
        if (const auto info = notification_class(a->point.reporting->notification_class))
            s.priorities = info->priority;
        out.push_back(std::move(s));
    }
    return out;
}

AcknowledgeOutcome PointDatabase::acknowledge(ObjectId id, EventState state,
                                              const TimeStamp& event_time,
                                              const TimeStamp& ack_time) {
    Analog* a = analog(id);
    if (!a)
        return nc(id) ? AcknowledgeOutcome{ErrorPair{ErrorClass::Services,
                                                     ErrorCode::NoAlarmConfigured}}
                      : AcknowledgeOutcome{errors::kUnknownObject};
    if (!a->point.reporting) return ErrorPair{ErrorClass::Services, ErrorCode::NoAlarmConfigured};
    const size_t t = transition_index(state);
    if (a->stamps[t] == TimeStamp::unspecified())
        return ErrorPair{ErrorClass::Services, ErrorCode::InvalidEventState};
    if (!(a->stamps[t] == event_time))
        return ErrorPair{ErrorClass::Services, ErrorCode::InvalidTimeStamp};
    a->acked.set(t, true);
    EventReport r;
    r.object = id;
    r.notification_class = a->point.reporting->notification_class;
    r.timestamp = ack_time;
    r.event_type = EventType::OutOfRange;
    r.notify_type = NotifyType::AckNotification;
    r.to_state = state;
    return r;
}

std::optional<NotificationClassInfo> PointDatabase::notification_class(uint32_t instance) const {
    const NotificationClassDef* n = nc(ObjectId(ObjectType::NotificationClass, instance));
    if (!n) return std::nullopt;
    return NotificationClassInfo{n->priority, n->ack_required, n->recipients};
}

void PointDatabase::transition(Analog& a, EventState to, const TimeStamp& stamp,
                               EventDetail detail) {
    const EventReporting& rep = *a.point.reporting;
    const EventState from = a.state;
    a.state = to;
    a.pending.reset();
    const size_t t = transition_index(to);
    a.stamps[t] = stamp;
    const auto info = notification_class(rep.notification_class);
    a.acked.set(t, !(info && info->ack_required.get(t)));
    if (!rep.event_enable.get(t)) return;
    EventReport r;
    r.object = ObjectId(a.point.type, a.point.instance);
    r.notification_class = rep.notification_class;
    r.timestamp = stamp;
    r.event_type = EventType::OutOfRange;
    r.notify_type = rep.notify_type;
    r.from_state = from;
    r.to_state = to;
    r.message = std::move(detail.message);
    OutOfRangeValues v;
    v.exceeding_value = detail.exceeding_value.value_or(a.point.value ? a.point.value() : 0.0F);
    v.status_flags = status_flags(a);
    v.deadband = rep.deadband;
    const EventState limit_state = to == EventState::Normal ? from : to;
    if (detail.exceeded_limit) {
        v.exceeded_limit = *detail.exceeded_limit;
    } else if (limit_state == EventState::LowLimit) {
        v.exceeded_limit = rep.meter_low_limit ? rep.meter_low_limit() : rep.low_limit;
    } else {
        v.exceeded_limit = rep.meter_high_limit ? rep.meter_high_limit() : rep.high_limit;
    }
    r.values = v;
    report(r);
}

void PointDatabase::evaluate(std::chrono::steady_clock::time_point now, const TimeStamp& stamp) {
    for (const ObjectId& id : order_) {
        Analog* a = analog(id);
        if (!a || !a->point.reporting || !a->point.reporting->intrinsic || !a->point.value)
            continue;
        const EventReporting& rep = *a->point.reporting;
        const float pv = a->point.value();
        const bool low_on = rep.limit_enable.get(0), high_on = rep.limit_enable.get(1);
        EventState target = a->state;
        switch (a->state) {
            case EventState::HighLimit:
                if (low_on && pv < rep.low_limit)
                    target = EventState::LowLimit;
                else if (!high_on || pv < rep.high_limit - rep.deadband)
                    target = EventState::Normal;
                break;
            case EventState::LowLimit:
                if (high_on && pv > rep.high_limit)
                    target = EventState::HighLimit;
                else if (!low_on || pv > rep.low_limit + rep.deadband)
                    target = EventState::Normal;
                break;
            default:
                if (high_on && pv > rep.high_limit)
                    target = EventState::HighLimit;
                else if (low_on && pv < rep.low_limit)
                    target = EventState::LowLimit;
                else
                    target = EventState::Normal;
                break;
        }
        if (target == a->state) {
            a->pending.reset();
            continue;
        }
        if (a->pending != target) {
            a->pending = target;
            a->pending_since = now;
        }
        if (now - a->pending_since >= std::chrono::seconds(rep.time_delay))
            transition(*a, target, stamp, EventDetail{});
    }
}

bool PointDatabase::set_event_state(ObjectId id, EventState state, const TimeStamp& stamp,
                                    std::optional<std::string> message) {
    EventDetail detail;
    detail.message = std::move(message);
    return set_event_state(id, state, stamp, std::move(detail));
}

bool PointDatabase::set_event_state(ObjectId id, EventState state, const TimeStamp& stamp,
                                    EventDetail detail) {
    Analog* a = analog(id);
    if (!a || !a->point.reporting) return false;
    if (a->state == state) return true;
    transition(*a, state, stamp, std::move(detail));
    return true;
}

EventState PointDatabase::event_state(ObjectId id) const {
    const Analog* a = analog(id);
    return a ? a->state : EventState::Normal;
}

}  // namespace openbcpm::bacnet
