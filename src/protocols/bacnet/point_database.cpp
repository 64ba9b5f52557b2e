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

namespace {

// The callbacks of AnalogPoints as a source.
class FunctionSource final : public AnalogSource {
  public:
    struct Calls {
        std::function<float()> value;
        std::function<WriteVerdict(float)> write;
        std::function<uint32_t()> reliability;
        std::function<bool()> writable;
        std::function<float()> high_limit, low_limit;
    };
    std::vector<Calls> calls;

    float value(size_t i) const override { return calls[i].value ? calls[i].value() : 0.0F; }
    uint32_t reliability(size_t i) const override { return calls[i].reliability(); }
    WriteVerdict write(size_t i, float x) override { return calls[i].write(x); }
    bool writable(size_t i) const override { return calls[i].writable(); }
    float high_limit(size_t i) const override { return calls[i].high_limit(); }
    float low_limit(size_t i) const override { return calls[i].low_limit(); }
};

}  // namespace

bool AnalogTable::index() {
    by_id.clear();
    by_id.reserve(specs.size());
    reporting = outputs = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
        AnalogSpec& s = specs[i];
        by_id.emplace_back(ObjectId(s.type, s.instance), static_cast<uint32_t>(i));
        if (s.reporting) s.event_slot = reporting++;
        if (s.type == ObjectType::AnalogOutput) s.priority_slot = outputs++;
    }
    std::sort(by_id.begin(), by_id.end());
    return std::adjacent_find(by_id.begin(), by_id.end(), [](const auto& x, const auto& y) {
               return x.first == y.first;
           }) == by_id.end();
}

const AnalogSpec* AnalogTable::find(ObjectId id, size_t& i) const {
    const auto it = std::lower_bound(by_id.begin(), by_id.end(), id,
                                     [](const auto& e, ObjectId k) { return e.first < k; });
    if (it == by_id.end() || !(it->first == id)) return nullptr;
    i = it->second;
    return &specs[i];
}

PointDatabase::PointDatabase(std::vector<AnalogPoint> points,
                             std::vector<NotificationClassDef> classes) {
    auto table = std::make_shared<AnalogTable>();
    auto source = std::make_unique<FunctionSource>();
    table->specs.reserve(points.size());
    source->calls.reserve(points.size());
    std::vector<ObjectId> seen;
    for (auto& p : points) {
        const ObjectId id(p.type, p.instance);
        if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;  // the first one
        seen.push_back(id);
        AnalogSpec s;
        s.type = p.type;
        s.instance = p.instance;
        s.name = std::move(p.name);
        s.description = std::move(p.description);
        s.units = p.units;
        s.cov_increment = p.cov_increment;
        s.min_value = p.min_value;
        s.max_value = p.max_value;
        s.relinquish_default = p.relinquish_default;
        s.has_value = static_cast<bool>(p.value);
        s.has_write = static_cast<bool>(p.write);
        s.has_reliability = static_cast<bool>(p.reliability);
        s.has_writable = static_cast<bool>(p.writable);
        FunctionSource::Calls c{std::move(p.value),
                                std::move(p.write),
                                std::move(p.reliability),
                                std::move(p.writable),
                                {},
                                {}};
        if (p.reporting) {
            s.meter_limits = static_cast<bool>(p.reporting->meter_high_limit);
            c.high_limit = std::move(p.reporting->meter_high_limit);
            c.low_limit = std::move(p.reporting->meter_low_limit);
            if (!c.low_limit) c.low_limit = [] { return 0.0F; };
            p.reporting->meter_high_limit = nullptr;
            p.reporting->meter_low_limit = nullptr;
            s.reporting = std::move(p.reporting);
        }
        table->specs.push_back(std::move(s));
        source->calls.push_back(std::move(c));
    }
    table->index();
    source_ = source.get();
    owned_source_ = std::move(source);
    table_ = std::move(table);
    classes_ = std::move(classes);
    init_state();
}

PointDatabase::PointDatabase(std::shared_ptr<const AnalogTable> table, AnalogSource& source,
                             std::vector<NotificationClassDef> classes)
    : table_(std::move(table)), source_(&source), classes_(std::move(classes)) {
    init_state();
}

PointDatabase::~PointDatabase() = default;

void PointDatabase::init_state() {
    // Notification classes: the first of each instance, as the objects.
    std::vector<NotificationClassDef> unique;
    for (auto& c : classes_) {
        if (std::none_of(unique.begin(), unique.end(),
                         [&](const NotificationClassDef& u) { return u.instance == c.instance; }))
            unique.push_back(std::move(c));
    }
    classes_ = std::move(unique);
    cov_increment_.reserve(table_->specs.size());
    events_.resize(table_->reporting);
    priorities_.resize(table_->outputs);
    for (const AnalogSpec& s : table_->specs) {
        cov_increment_.push_back(s.cov_increment);
        if (s.reporting) events_[s.event_slot].rep = *s.reporting;
    }
}

std::optional<PointDatabase::Analog> PointDatabase::analog(ObjectId id) const {
    if (id.object_type() == ObjectType::NotificationClass) return std::nullopt;
    Analog a;
    a.spec = table_->find(id, a.i);
    if (!a.spec) return std::nullopt;
    if (a.spec->reporting)  // the state is this database's own, not the table's
        a.ev = const_cast<EventSlot*>(&events_[a.spec->event_slot]);  // NOLINT
    return a;
}
NotificationClassDef* PointDatabase::nc(ObjectId id) {
    if (id.object_type() != ObjectType::NotificationClass) return nullptr;
    for (auto& c : classes_)
        if (c.instance == id.instance) return &c;
    return nullptr;
}
const NotificationClassDef* PointDatabase::nc(ObjectId id) const {
    return const_cast<PointDatabase*>(this)->nc(id);  // NOLINT
}

std::vector<ObjectId> PointDatabase::object_list() const {
    std::vector<ObjectId> out;
    out.reserve(table_->specs.size() + classes_.size());
    for (const AnalogSpec& s : table_->specs)
        out.emplace_back(s.type, s.instance);
    for (const auto& c : classes_)
        out.emplace_back(ObjectType::NotificationClass, c.instance);
    return out;
}

bool PointDatabase::has_object(ObjectId id) const {
    return analog(id).has_value() || nc(id) != nullptr;
}

std::vector<PropertyInfo> PointDatabase::property_list(ObjectId id) const {
    std::vector<PropertyInfo> out;
    if (const auto a = analog(id)) {
        const AnalogSpec& s = *a->spec;
        for (P p : {P::ObjectIdentifier, P::ObjectName, P::ObjectType, P::PresentValue,
                    P::StatusFlags, P::EventState, P::OutOfService, P::Units}) {
            out.push_back({p, true});
        }
        if (s.type == ObjectType::AnalogOutput) {
            out.push_back({P::PriorityArray, true});
            out.push_back({P::RelinquishDefault, true});
        }
        out.push_back({P::Description, false});
        if (s.has_reliability) out.push_back({P::Reliability, false});
        out.push_back({P::CovIncrement, false});
        if (s.min_value) out.push_back({P::MinPresValue, false});
        if (s.max_value) out.push_back({P::MaxPresValue, false});
        if (s.reporting) {
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

// Whether the object has the property (as property_list says, without building it).
bool PointDatabase::has_property(ObjectId id, PropertyId p) const {
    if (const auto a = analog(id)) {
        const AnalogSpec& s = *a->spec;
        switch (p) {
            case P::ObjectIdentifier:
            case P::ObjectName:
            case P::ObjectType:
            case P::PresentValue:
            case P::StatusFlags:
            case P::EventState:
            case P::OutOfService:
            case P::Units:
            case P::Description:
            case P::CovIncrement:
                return true;
            case P::PriorityArray:
            case P::RelinquishDefault:
                return s.type == ObjectType::AnalogOutput;
            case P::Reliability:
                return s.has_reliability;
            case P::MinPresValue:
                return s.min_value.has_value();
            case P::MaxPresValue:
                return s.max_value.has_value();
            case P::TimeDelay:
            case P::NotificationClass:
            case P::HighLimit:
            case P::LowLimit:
            case P::Deadband:
            case P::LimitEnable:
            case P::EventEnable:
            case P::AckedTransitions:
            case P::NotifyType:
            case P::EventTimeStamps:
                return s.reporting.has_value();
            default:
                return false;
        }
    }
    const auto props = property_list(id);
    return std::any_of(props.begin(), props.end(),
                       [&](const PropertyInfo& i) { return i.id == p; });
}

float PointDatabase::present_value(const Analog& a) const {
    return a.spec->has_value ? source_->value(a.i) : 0.0F;
}

BitString PointDatabase::status_flags(const Analog& a) const {
    // in-alarm, fault, overridden, out-of-service
    const EventState state = a.ev ? a.ev->state : EventState::Normal;
    const bool fault =
        state == EventState::Fault || (a.spec->has_reliability && source_->reliability(a.i) != 0);
    return BitString{state != EventState::Normal, fault, false, false};
}

// The analog objects' properties that are one primitive (all but the arrays).
std::optional<Primitive> PointDatabase::read_primitive(ObjectId id, PropertyId p) const {
    const auto a = analog(id);
    if (!a || !has_property(id, p)) return std::nullopt;
    const AnalogSpec& pt = *a->spec;
    const EventReporting* rep = a->ev ? &a->ev->rep : nullptr;
    switch (p) {
        case P::ObjectIdentifier:
            return id;
        case P::ObjectType:
            return Enumerated{id.type};
        case P::ObjectName:
            return CharString{0, pt.name};
        case P::Description:
            return CharString{0, pt.description};
        case P::PresentValue:
            return present_value(*a);
        case P::StatusFlags:
            return status_flags(*a);
        case P::EventState:
            return Enumerated{static_cast<uint32_t>(a->ev ? a->ev->state : EventState::Normal)};
        case P::OutOfService:
            return false;
        case P::Reliability:
            return Enumerated{source_->reliability(a->i)};
        case P::Units:
            return Enumerated{pt.units};
        case P::CovIncrement:
            return cov_increment_[a->i];
        case P::MinPresValue:
            return *pt.min_value;
        case P::MaxPresValue:
            return *pt.max_value;
        case P::RelinquishDefault:
            return pt.relinquish_default;
        case P::TimeDelay:
            return uint64_t{rep->time_delay};
        case P::NotificationClass:
            return uint64_t{rep->notification_class};
        case P::HighLimit:
            return pt.meter_limits ? source_->high_limit(a->i) : rep->high_limit;
        case P::LowLimit:
            return pt.meter_limits ? source_->low_limit(a->i) : rep->low_limit;
        case P::Deadband:
            return rep->deadband;
        case P::LimitEnable:
            return rep->limit_enable;
        case P::EventEnable:
            return rep->event_enable;
        case P::AckedTransitions:
            return a->ev->acked;
        case P::NotifyType:
            return Enumerated{static_cast<uint32_t>(rep->notify_type)};
        default:
            return std::nullopt;
    }
}

ReadOutcome PointDatabase::read(ObjectId id, PropertyId p) const {
    if (!has_object(id)) return errors::kUnknownObject;
    if (!has_property(id, p)) return errors::kUnknownProperty;
    if (auto v = read_primitive(id, p)) return PropertyData::scalar(std::move(*v));
    switch (p) {
        case P::ObjectIdentifier:
            return PropertyData::scalar(id);
        case P::ObjectType:
            return PropertyData::scalar(Enumerated{id.type});
        default:
            break;
    }
    if (const auto a = analog(id)) {
        const AnalogSpec& pt = *a->spec;
        switch (p) {
            case P::PriorityArray: {
                std::vector<Primitive> slots;
                for (const auto& s : priorities_[pt.priority_slot]) {
                    if (s)
                        slots.emplace_back(*s);
                    else
                        slots.emplace_back(Null{});
                }
                return PropertyData::array_of(slots);
            }
            case P::EventTimeStamps: {
                std::vector<std::vector<Element>> items;
                for (const auto& t : a->ev->stamps) {
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
    if (!has_object(id)) return errors::kUnknownObject;
    if (!has_property(id, v.ref.property)) return errors::kUnknownProperty;
    if (const auto a = analog(id)) return write_analog(*a, v);
    NotificationClassDef& n = *nc(id);
    NotificationClassDef next = n;
    const WriteOutcome r = write_nc(next, v);
    if (r) return r;
    if (!class_changing(next)) return errors::kNotStored;
    n = std::move(next);
    return std::nullopt;
}

WriteOutcome PointDatabase::write_analog(const Analog& a, const PropertyValue& v) {
    const AnalogSpec& pt = *a.spec;
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
            if (pt.type == ObjectType::AnalogInput || !pt.has_write)
                return errors::kWriteAccessDenied;
            if (pt.has_writable && !source_->writable(a.i)) return errors::kWriteAccessDenied;
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
                PriorityArray& current = priorities_[pt.priority_slot];
                auto next = current;
                next[slot] = command;
                float effective = pt.relinquish_default;
                for (const auto& s : next) {
                    if (s) {
                        effective = *s;
                        break;
                    }
                }
                if (WriteOutcome e = refusal(source_->write(a.i, effective))) return e;
                current = next;
                return std::nullopt;
            }
            const auto x = real_of(v);
            if (!x) return errors::kInvalidDataType;
            if (!in_range(*x)) return errors::kValueOutOfRange;
            return refusal(source_->write(a.i, *x));
        }
        case P::CovIncrement: {
            const auto x = real_of(v);
            if (!x) return errors::kInvalidDataType;
            if (!std::isfinite(*x) || *x < 0.0F) return errors::kValueOutOfRange;
            cov_increment_[a.i] = *x;
            return std::nullopt;
        }
        default:
            break;
    }
    if (!a.ev) return errors::kWriteAccessDenied;
    EventReporting& rep = a.ev->rep;
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
            if (!nc(ObjectId(ObjectType::NotificationClass, static_cast<uint32_t>(*x)))) {
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
            if (b->size() != n) return errors::kValueOutOfRange;
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
            if (b->size() != 3) return errors::kValueOutOfRange;
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
    const auto a = analog(id);
    if (!a) return std::nullopt;
    CovValue v;
    v.present_value = present_value(*a);
    v.status_flags = status_flags(*a);
    v.increment = cov_increment_[a->i];
    return v;
}

std::vector<EventSummary> PointDatabase::event_summaries() const {
    std::vector<EventSummary> out;
    for (const AnalogSpec& spec : table_->specs) {
        if (!spec.reporting) continue;
        const EventSlot& e = events_[spec.event_slot];
        const bool all_acked = e.acked.get(0) && e.acked.get(1) && e.acked.get(2);
        if (e.state == EventState::Normal && all_acked) continue;
        EventSummary s;
        s.object = ObjectId(spec.type, spec.instance);
        s.state = e.state;
        s.acked_transitions = e.acked;
        s.timestamps = e.stamps;
        s.notify_type = e.rep.notify_type;
        s.event_enable = e.rep.event_enable;
        if (const auto info = notification_class(e.rep.notification_class))
            s.priorities = info->priority;
        out.push_back(std::move(s));
    }
    return out;
}

AcknowledgeOutcome PointDatabase::acknowledge(ObjectId id, EventState state,
                                              const TimeStamp& event_time,
                                              const TimeStamp& ack_time) {
    const auto a = analog(id);
    if (!a)
        return nc(id) ? AcknowledgeOutcome{ErrorPair{ErrorClass::Services,
                                                     ErrorCode::NoAlarmConfigured}}
                      : AcknowledgeOutcome{errors::kUnknownObject};
    if (!a->ev) return ErrorPair{ErrorClass::Services, ErrorCode::NoAlarmConfigured};
    EventSlot& e = *a->ev;
    const size_t t = transition_index(state);
    if (e.stamps[t] == TimeStamp::unspecified())
        return ErrorPair{ErrorClass::Services, ErrorCode::InvalidEventState};
    if (!(e.stamps[t] == event_time))
        return ErrorPair{ErrorClass::Services, ErrorCode::InvalidTimeStamp};
    e.acked.set(t, true);
    EventReport r;
    r.object = id;
    r.notification_class = e.rep.notification_class;
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

void PointDatabase::transition(const Analog& a, EventState to, const TimeStamp& stamp,
                               EventDetail detail) {
    EventSlot& e = *a.ev;
    const EventReporting& rep = e.rep;
    const EventState from = e.state;
    e.state = to;
    e.pending.reset();
    const size_t t = transition_index(to);
    e.stamps[t] = stamp;
    const auto info = notification_class(rep.notification_class);
    e.acked.set(t, !(info && info->ack_required.get(t)));
    if (!rep.event_enable.get(t)) return;
    EventReport r;
    r.object = ObjectId(a.spec->type, a.spec->instance);
    r.notification_class = rep.notification_class;
    r.timestamp = stamp;
    r.event_type = EventType::OutOfRange;
    r.notify_type = rep.notify_type;
    r.from_state = from;
    r.to_state = to;
    r.message = std::move(detail.message);
    OutOfRangeValues v;
    v.exceeding_value = detail.exceeding_value.value_or(present_value(a));
    v.status_flags = status_flags(a);
    v.deadband = rep.deadband;
    const EventState limit_state = to == EventState::Normal ? from : to;
    if (detail.exceeded_limit) {
        v.exceeded_limit = *detail.exceeded_limit;
    } else if (limit_state == EventState::LowLimit) {
        v.exceeded_limit = a.spec->meter_limits ? source_->low_limit(a.i) : rep.low_limit;
    } else {
        v.exceeded_limit = a.spec->meter_limits ? source_->high_limit(a.i) : rep.high_limit;
    }
    r.values = v;
    report(r);
}

void PointDatabase::evaluate(std::chrono::steady_clock::time_point now, const TimeStamp& stamp) {
    for (size_t i = 0; i < table_->specs.size(); ++i) {
        const AnalogSpec& spec = table_->specs[i];
        if (!spec.reporting || !spec.has_value) continue;
        EventSlot& e = events_[spec.event_slot];
        if (!e.rep.intrinsic) continue;
        const Analog a{i, &spec, &e};
        const EventReporting& rep = e.rep;
        const float pv = source_->value(i);
        const bool low_on = rep.limit_enable.get(0), high_on = rep.limit_enable.get(1);
        EventState target = e.state;
        switch (e.state) {
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
        if (target == e.state) {
            e.pending.reset();
            continue;
        }
        if (e.pending != target) {
            e.pending = target;
            e.pending_since = now;
        }
        if (now - e.pending_since >= std::chrono::seconds(rep.time_delay))
            transition(a, target, stamp, EventDetail{});
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
    const auto a = analog(id);
    if (!a || !a->ev) return false;
    if (a->ev->state == state) return true;
    transition(*a, state, stamp, std::move(detail));
    return true;
}

EventState PointDatabase::event_state(ObjectId id) const {
    const auto a = analog(id);
    return a && a->ev ? a->ev->state : EventState::Normal;
}

}  // namespace openbcpm::bacnet
