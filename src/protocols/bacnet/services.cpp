#include "protocols/bacnet/services.hpp"

namespace openbcpm::bacnet {

namespace {

void expect_end(const Reader& r) {
    if (!r.at_end()) throw DecodeError{RejectReason::TooManyArguments, "trailing parameters"};
}

std::optional<uint32_t> opt_index(Reader& r, uint8_t tag) {
    if (!r.peek_context(tag)) return std::nullopt;
    return static_cast<uint32_t>(r.ctx_unsigned(tag));
}

PropertyId read_property_id(Reader& r, uint8_t tag) {
    return static_cast<PropertyId>(r.ctx_enum(tag));
}

std::vector<uint8_t> with_writer(auto fn) {
    std::vector<uint8_t> out;
    Writer w(out);
    fn(w);
    return out;
}

void encode_ref(Writer& w, const PropertyReference& ref, uint8_t prop_tag, uint8_t index_tag) {
    w.ctx_enum(prop_tag, static_cast<uint32_t>(ref.property));
    if (ref.index != kNoIndex) w.ctx_unsigned(index_tag, ref.index);
}

PropertyReference decode_ref(Reader& r, uint8_t prop_tag, uint8_t index_tag) {
    PropertyReference ref;
    ref.property = read_property_id(r, prop_tag);
    if (auto i = opt_index(r, index_tag)) ref.index = *i;
    return ref;
}

// A property, its index, value and priority under the context tags first..first
// + 3: BACnetPropertyValue ([0]..[3]) and the tail of WriteProperty ([1]..[4]).
PropertyValue decode_property_value(Reader& r, uint8_t first = 0) {
    PropertyValue v;
    v.ref = decode_ref(r, first, first + 1);
    r.open(first + 2);
    v.value = r.elements_until_closing(first + 2);
    r.close(first + 2);
    if (r.peek_context(first + 3)) {
        const auto p = r.ctx_unsigned(first + 3);
        if (p < 1 || p > 16) throw DecodeError{RejectReason::ParameterOutOfRange, "priority"};
        v.priority = static_cast<uint8_t>(p);
    }
    return v;
}

void encode_property_value(Writer& w, const PropertyValue& v, uint8_t first = 0) {
    encode_ref(w, v.ref, first, first + 1);
    w.open(first + 2);
    w.elements(v.value);
    w.close(first + 2);
    if (v.priority) w.ctx_unsigned(first + 3, *v.priority);
}

// ReadPropertyMultiple and WritePropertyMultiple: objects ([0]), each with a
// non-empty list ([1]) of items (the Spec's `items` member).
// Into `specs`, whose storage (and that of its items) is reused.
template <typename Spec, typename Item>
void decode_access_specs(std::span<const uint8_t> d, std::vector<Spec>& specs,
                         std::vector<Item> Spec::*items, auto decode_item, const char* empty) {
    Reader r(d);
    size_t n = 0;
    do {
        if (n == specs.size()) specs.emplace_back();
        Spec& s = specs[n++];
        (s.*items).clear();
        s.object = r.ctx_oid(0);
        r.open(1);
        while (!r.peek_closing(1)) {
            if (r.at_end())
                throw DecodeError{RejectReason::MissingRequiredParameter, "missing closing tag"};
            (s.*items).push_back(decode_item(r));
        }
        r.close(1);
        if ((s.*items).empty()) throw DecodeError{RejectReason::MissingRequiredParameter, empty};
    } while (!r.at_end());
    specs.resize(n);
}

template <typename Spec, typename Item>
std::vector<uint8_t> encode_access_specs(const std::vector<Spec>& specs,
                                         std::vector<Item> Spec::*items, auto encode_item) {
    return with_writer([&](Writer& w) {
        for (const auto& s : specs) {
            w.ctx_oid(0, s.object);
            w.open(1);
            for (const auto& item : s.*items)
                encode_item(w, item);
            w.close(1);
        }
    });
}

std::optional<std::pair<uint32_t, uint32_t>> decode_range(Reader& r) {
    if (!r.peek_context(0)) {
        if (r.peek_context(1))
            throw DecodeError{RejectReason::MissingRequiredParameter, "range low missing"};
        return std::nullopt;
    }
    const auto low = static_cast<uint32_t>(r.ctx_unsigned(0, kMaxInstance));
    if (!r.peek_context(1))
        throw DecodeError{RejectReason::MissingRequiredParameter, "range high missing"};
    const auto high = static_cast<uint32_t>(r.ctx_unsigned(1, kMaxInstance));
    return std::pair{low, high};
}

EventState to_event_state(uint32_t v) {
    if (v > 4) throw DecodeError{RejectReason::UndefinedEnumeration, "event state"};
    return static_cast<EventState>(v);
}

}  // namespace

// --- Who-Is / I-Am / Who-Has / I-Have ---

WhoIs decode_who_is(std::span<const uint8_t> d) {
    Reader r(d);
    WhoIs w;
    if (auto range = decode_range(r)) {
        w.low = range->first;
        w.high = range->second;
    }
    expect_end(r);
    return w;
}

std::vector<uint8_t> encode_who_is(const WhoIs& w) {
    return with_writer([&](Writer& wr) {
        if (w.low && w.high) {
            wr.ctx_unsigned(0, *w.low);
            wr.ctx_unsigned(1, *w.high);
        }
    });
}

IAm decode_i_am(std::span<const uint8_t> d) {
    Reader r(d);
    IAm i;
    i.device = r.app_oid();
    i.max_apdu = static_cast<uint32_t>(r.app_unsigned());
    i.segmentation = static_cast<Segmentation>(r.app_enum());
    i.vendor_id = static_cast<uint16_t>(r.app_unsigned(0xFFFF));
    expect_end(r);
    return i;
}

std::vector<uint8_t> encode_i_am(const IAm& i) {
    return with_writer([&](Writer& w) {
        w.app_oid(i.device);
        w.app_unsigned(i.max_apdu);
        w.app_enum(static_cast<uint32_t>(i.segmentation));
        w.app_unsigned(i.vendor_id);
    });
}

WhoHas decode_who_has(std::span<const uint8_t> d) {
    Reader r(d);
    WhoHas w;
    if (auto range = decode_range(r)) {
        w.low = range->first;
        w.high = range->second;
    }
    if (r.peek_context(2)) {
        w.object = r.ctx_oid(2);
    } else if (r.peek_context(3)) {
        w.name = r.ctx_string(3).text;
    } else {
        throw DecodeError{RejectReason::MissingRequiredParameter, "who-has object"};
    }
    expect_end(r);
    return w;
}

std::vector<uint8_t> encode_who_has(const WhoHas& w) {
    return with_writer([&](Writer& wr) {
        if (w.low && w.high) {
            wr.ctx_unsigned(0, *w.low);
            wr.ctx_unsigned(1, *w.high);
        }
        if (w.object)
            wr.ctx_oid(2, *w.object);
        else
            wr.ctx_string(3, w.name.value_or(""));
    });
}

IHave decode_i_have(std::span<const uint8_t> d) {
    Reader r(d);
    IHave i;
    i.device = r.app_oid();
    i.object = r.app_oid();
    i.name = r.app_string().text;
    expect_end(r);
    return i;
}

std::vector<uint8_t> encode_i_have(const IHave& i) {
    return with_writer([&](Writer& w) {
        w.app_oid(i.device);
        w.app_oid(i.object);
        w.app_string(i.name);
    });
}

DateTime decode_time_sync(std::span<const uint8_t> d) {
    Reader r(d);
    DateTime dt;
    dt.date = r.app_date();
    dt.time = r.app_time();
    expect_end(r);
    return dt;
}

std::vector<uint8_t> encode_time_sync(const DateTime& dt) {
    return with_writer([&](Writer& w) {
        w.app(dt.date);
        w.app(dt.time);
    });
}

// --- ReadProperty ---

ReadPropertyRequest decode_read_property(std::span<const uint8_t> d) {
    Reader r(d);
    ReadPropertyRequest req;
    req.object = r.ctx_oid(0);
    req.ref = decode_ref(r, 1, 2);
    expect_end(r);
    return req;
}

std::vector<uint8_t> encode_read_property(const ReadPropertyRequest& req) {
    return with_writer([&](Writer& w) {
        w.ctx_oid(0, req.object);
        encode_ref(w, req.ref, 1, 2);
    });
}

void encode_read_property_ack(std::vector<uint8_t>& out, const ReadPropertyRequest& req,
                              std::span<const uint8_t> value) {
    Writer w(out);
    encode_read_property_ack_open(w, req);
    w.raw(value);
    encode_read_property_ack_close(w);
}

void encode_read_property_ack_open(Writer& w, const ReadPropertyRequest& req) {
    w.ctx_oid(0, req.object);
    encode_ref(w, req.ref, 1, 2);
    w.open(3);
}

void encode_read_property_ack_close(Writer& w) {
    w.close(3);
}

ReadPropertyAck decode_read_property_ack(std::span<const uint8_t> d) {
    Reader r(d);
    ReadPropertyAck ack;
    ack.request.object = r.ctx_oid(0);
    ack.request.ref = decode_ref(r, 1, 2);
    r.open(3);
    ack.value = r.elements_until_closing(3);
    r.close(3);
    expect_end(r);
    return ack;
}

// --- ReadPropertyMultiple ---

std::vector<ReadAccessSpec> decode_read_property_multiple(std::span<const uint8_t> d) {
    std::vector<ReadAccessSpec> specs;
    decode_read_property_multiple(d, specs);
    return specs;
}

void decode_read_property_multiple(std::span<const uint8_t> d, std::vector<ReadAccessSpec>& out) {
    decode_access_specs(
        d, out, &ReadAccessSpec::properties, [](Reader& r) { return decode_ref(r, 0, 1); },
        "empty property list");
}

std::vector<uint8_t> encode_read_property_multiple(const std::vector<ReadAccessSpec>& specs) {
    return encode_access_specs(
        specs, &ReadAccessSpec::properties,
        [](Writer& w, const PropertyReference& p) { encode_ref(w, p, 0, 1); });
}

void encode_rpm_object_open(Writer& w, ObjectId object) {
    w.ctx_oid(0, object);
    w.open(1);
}
void encode_rpm_object_close(Writer& w) {
    w.close(1);
}

void encode_rpm_value(Writer& w, const PropertyReference& ref, std::span<const uint8_t> value) {
    encode_rpm_value_open(w, ref);
    w.raw(value);
    encode_rpm_value_close(w);
}

void encode_rpm_value_open(Writer& w, const PropertyReference& ref) {
    encode_ref(w, ref, 2, 3);
    w.open(4);
}

void encode_rpm_value_close(Writer& w) {
    w.close(4);
}

void encode_rpm_error(Writer& w, const PropertyReference& ref, ErrorPair e) {
    encode_ref(w, ref, 2, 3);
    w.open(5);
    w.app_enum(static_cast<uint32_t>(e.error_class));
    w.app_enum(static_cast<uint32_t>(e.code));
    w.close(5);
}

std::vector<ReadAccessResult> decode_read_property_multiple_ack(std::span<const uint8_t> d) {
    Reader r(d);
    std::vector<ReadAccessResult> out;
    while (!r.at_end()) {
        ReadAccessResult res;
        res.object = r.ctx_oid(0);
        r.open(1);
        while (!r.peek_closing(1)) {
            ReadResult rr;
            rr.ref = decode_ref(r, 2, 3);
            if (r.peek_opening(4)) {
                r.open(4);
                rr.result = r.elements_until_closing(4);
                r.close(4);
            } else {
                r.open(5);
                ErrorPair e;
                e.error_class = static_cast<ErrorClass>(r.app_enum());
                e.code = static_cast<ErrorCode>(r.app_enum());
                r.close(5);
                rr.result = e;
            }
            res.results.push_back(std::move(rr));
        }
        r.close(1);
        out.push_back(std::move(res));
    }
    return out;
}

// --- WriteProperty / WritePropertyMultiple ---

WritePropertyRequest decode_write_property(std::span<const uint8_t> d) {
    Reader r(d);
    WritePropertyRequest req;
    req.object = r.ctx_oid(0);
    req.value = decode_property_value(r, 1);
    expect_end(r);
    return req;
}

std::vector<uint8_t> encode_write_property(const WritePropertyRequest& req) {
    return with_writer([&](Writer& w) {
        w.ctx_oid(0, req.object);
        encode_property_value(w, req.value, 1);
    });
}

std::vector<WriteAccessSpec> decode_write_property_multiple(std::span<const uint8_t> d) {
    std::vector<WriteAccessSpec> specs;
    decode_access_specs(
        d, specs, &WriteAccessSpec::values, [](Reader& r) { return decode_property_value(r); },
        "empty value list");
    return specs;
}

std::vector<uint8_t> encode_write_property_multiple(const std::vector<WriteAccessSpec>& specs) {
    return encode_access_specs(
        specs, &WriteAccessSpec::values,
        [](Writer& w, const PropertyValue& v) { encode_property_value(w, v); });
}

std::vector<uint8_t> encode_wpm_error(ErrorPair e, ObjectId object, const PropertyReference& ref) {
    return with_writer([&](Writer& w) {
        w.open(0);
        w.app_enum(static_cast<uint32_t>(e.error_class));
        w.app_enum(static_cast<uint32_t>(e.code));
        w.close(0);
        w.open(1);
        w.ctx_oid(0, object);
        encode_ref(w, ref, 1, 2);
        w.close(1);
    });
}

// --- COV ---

SubscribeCovRequest decode_subscribe_cov(std::span<const uint8_t> d) {
    Reader r(d);
    SubscribeCovRequest req;
    req.process_id = static_cast<uint32_t>(r.ctx_unsigned(0));
    req.object = r.ctx_oid(1);
    if (r.peek_context(2)) req.confirmed = r.ctx_bool(2);
    if (r.peek_context(3)) req.lifetime = static_cast<uint32_t>(r.ctx_unsigned(3));
    // issueConfirmedNotifications without lifetime is a subscription of
    // indefinite lifetime; a lifetime without the flag is not a valid request.
    if (!req.confirmed && req.lifetime) {
        throw DecodeError{RejectReason::MissingRequiredParameter,
                          "lifetime without issueConfirmedNotifications"};
    }
    expect_end(r);
    return req;
}

std::vector<uint8_t> encode_subscribe_cov(const SubscribeCovRequest& req) {
    return with_writer([&](Writer& w) {
        w.ctx_unsigned(0, req.process_id);
        w.ctx_oid(1, req.object);
        if (req.confirmed) w.ctx_bool(2, *req.confirmed);
        if (req.lifetime) w.ctx_unsigned(3, *req.lifetime);
    });
}

CovNotification decode_cov_notification(std::span<const uint8_t> d) {
    Reader r(d);
    CovNotification n;
    n.process_id = static_cast<uint32_t>(r.ctx_unsigned(0));
    n.device = r.ctx_oid(1);
    n.object = r.ctx_oid(2);
    n.time_remaining = static_cast<uint32_t>(r.ctx_unsigned(3));
    r.open(4);
    while (!r.peek_closing(4)) {
        if (r.at_end())
            throw DecodeError{RejectReason::MissingRequiredParameter, "missing closing tag"};
        n.values.push_back(decode_property_value(r));
    }
    r.close(4);
    expect_end(r);
    return n;
}

std::vector<uint8_t> encode_cov_notification(const CovNotification& n) {
    return with_writer([&](Writer& w) {
        w.ctx_unsigned(0, n.process_id);
        w.ctx_oid(1, n.device);
        w.ctx_oid(2, n.object);
        w.ctx_unsigned(3, n.time_remaining);
        w.open(4);
        for (const auto& v : n.values)
            encode_property_value(w, v);
        w.close(4);
    });
}

// --- Events ---

namespace {
// A BACnetTimeStamp choice without an enclosing tag (SEQUENCE OF elements).
void encode_timestamp_bare(Writer& w, const TimeStamp& t) {
    switch (t.kind) {
        case TimeStamp::Kind::Time:
            w.context(0, t.time);
            break;
        case TimeStamp::Kind::Sequence:
            w.ctx_unsigned(1, t.sequence);
            break;
        case TimeStamp::Kind::DateTime:
            w.open(2);
            w.app(t.date);
            w.app(t.time);
            w.close(2);
            break;
    }
}
TimeStamp decode_timestamp_bare(Reader& r) {
    TimeStamp t;
    if (r.peek_context(0)) {
        t.kind = TimeStamp::Kind::Time;
        t.time = std::get<Time>(r.context(0, AppTag::kTime));
    } else if (r.peek_context(1)) {
        t.kind = TimeStamp::Kind::Sequence;
        t.sequence = static_cast<uint16_t>(r.ctx_unsigned(1, 0xFFFF));
    } else {
        t.kind = TimeStamp::Kind::DateTime;
        r.open(2);
        t.date = r.app_date();
        t.time = r.app_time();
        r.close(2);
    }
    return t;
}
}  // namespace

void encode_timestamp(Writer& w, uint8_t tag, const TimeStamp& t) {
    w.open(tag);
    encode_timestamp_bare(w, t);
    w.close(tag);
}

TimeStamp decode_timestamp(Reader& r, uint8_t tag) {
    r.open(tag);
    TimeStamp t = decode_timestamp_bare(r);
    r.close(tag);
    return t;
}

EventNotification decode_event_notification(std::span<const uint8_t> d) {
    Reader r(d);
    EventNotification n;
    n.process_id = static_cast<uint32_t>(r.ctx_unsigned(0));
    n.device = r.ctx_oid(1);
    n.object = r.ctx_oid(2);
    n.timestamp = decode_timestamp(r, 3);
    n.notification_class = static_cast<uint32_t>(r.ctx_unsigned(4));
    n.priority = static_cast<uint8_t>(r.ctx_unsigned(5, 255));
    n.event_type = static_cast<EventType>(r.ctx_enum(6));
    if (r.peek_context(7)) n.message = r.ctx_string(7).text;
    n.notify_type = static_cast<NotifyType>(r.ctx_enum(8));
    if (r.peek_context(9)) n.ack_required = r.ctx_bool(9);
    if (r.peek_context(10)) n.from_state = to_event_state(r.ctx_enum(10));
    n.to_state = to_event_state(r.ctx_enum(11));
    if (r.peek_opening(12)) {
        r.open(12);
        if (r.peek_opening(5)) {
            r.open(5);
            OutOfRangeValues v;
            v.exceeding_value = r.ctx_real(0);
            v.status_flags = r.ctx_bits(1);
            v.deadband = r.ctx_real(2);
            v.exceeded_limit = r.ctx_real(3);
            r.close(5);
            n.values = v;
        } else {
            (void)r.element();  // other event types: not interpreted
        }
        r.close(12);
    }
    expect_end(r);
    return n;
}

std::vector<uint8_t> encode_event_notification(const EventNotification& n) {
    return with_writer([&](Writer& w) {
        w.ctx_unsigned(0, n.process_id);
        w.ctx_oid(1, n.device);
        w.ctx_oid(2, n.object);
        encode_timestamp(w, 3, n.timestamp);
        w.ctx_unsigned(4, n.notification_class);
        w.ctx_unsigned(5, n.priority);
        w.ctx_enum(6, static_cast<uint32_t>(n.event_type));
        if (n.message) w.ctx_string(7, *n.message);
        w.ctx_enum(8, static_cast<uint32_t>(n.notify_type));
        if (n.ack_required) w.ctx_bool(9, *n.ack_required);
        if (n.from_state) w.ctx_enum(10, static_cast<uint32_t>(*n.from_state));
        w.ctx_enum(11, static_cast<uint32_t>(n.to_state));
        if (n.values) {
            w.open(12);
            w.open(5);
            w.ctx_real(0, n.values->exceeding_value);
            w.ctx_bits(1, n.values->status_flags);
            w.ctx_real(2, n.values->deadband);
            w.ctx_real(3, n.values->exceeded_limit);
            w.close(5);
            w.close(12);
        }
    });
}

AcknowledgeAlarmRequest decode_acknowledge_alarm(std::span<const uint8_t> d) {
    Reader r(d);
    AcknowledgeAlarmRequest a;
    a.process_id = static_cast<uint32_t>(r.ctx_unsigned(0));
    a.object = r.ctx_oid(1);
    a.state = to_event_state(r.ctx_enum(2));
    a.event_timestamp = decode_timestamp(r, 3);
    a.source = r.ctx_string(4).text;
    a.ack_timestamp = decode_timestamp(r, 5);
    expect_end(r);
    return a;
}

std::vector<uint8_t> encode_acknowledge_alarm(const AcknowledgeAlarmRequest& a) {
    return with_writer([&](Writer& w) {
        w.ctx_unsigned(0, a.process_id);
        w.ctx_oid(1, a.object);
        w.ctx_enum(2, static_cast<uint32_t>(a.state));
        encode_timestamp(w, 3, a.event_timestamp);
        w.ctx_string(4, a.source);
        encode_timestamp(w, 5, a.ack_timestamp);
    });
}

std::optional<ObjectId> decode_get_event_information(std::span<const uint8_t> d) {
    Reader r(d);
    std::optional<ObjectId> last;
    if (r.peek_context(0)) last = r.ctx_oid(0);
    expect_end(r);
    return last;
}

std::vector<uint8_t> encode_get_event_information(std::optional<ObjectId> last) {
    return with_writer([&](Writer& w) {
        if (last) w.ctx_oid(0, *last);
    });
}

std::vector<uint8_t> encode_get_event_information_ack(const EventInformation& e) {
    return with_writer([&](Writer& w) {
        w.open(0);
        for (const auto& s : e.summaries) {
            w.ctx_oid(0, s.object);
            w.ctx_enum(1, static_cast<uint32_t>(s.state));
            w.ctx_bits(2, s.acked_transitions);
            w.open(3);
            for (const auto& t : s.timestamps)
                encode_timestamp_bare(w, t);
            w.close(3);
            w.ctx_enum(4, static_cast<uint32_t>(s.notify_type));
            w.ctx_bits(5, s.event_enable);
            w.open(6);
            for (uint8_t p : s.priorities)
                w.app_unsigned(p);
            w.close(6);
        }
        w.close(0);
        w.ctx_bool(1, e.more_events);
    });
}

EventInformation decode_get_event_information_ack(std::span<const uint8_t> d) {
    Reader r(d);
    EventInformation e;
    r.open(0);
    while (!r.peek_closing(0)) {
        EventSummary s;
        s.object = r.ctx_oid(0);
        s.state = to_event_state(r.ctx_enum(1));
        s.acked_transitions = r.ctx_bits(2);
        r.open(3);
        for (auto& t : s.timestamps)
            t = decode_timestamp_bare(r);
        r.close(3);
        s.notify_type = static_cast<NotifyType>(r.ctx_enum(4));
        s.event_enable = r.ctx_bits(5);
        r.open(6);
        for (auto& p : s.priorities)
            p = static_cast<uint8_t>(r.app_unsigned(255));
        r.close(6);
        e.summaries.push_back(std::move(s));
    }
    r.close(0);
    e.more_events = r.ctx_bool(1);
    expect_end(r);
    return e;
}

// --- DCC / Reinitialize ---

DeviceCommunicationControlRequest decode_device_communication_control(std::span<const uint8_t> d) {
    Reader r(d);
    DeviceCommunicationControlRequest req;
    if (r.peek_context(0)) req.duration_minutes = static_cast<uint16_t>(r.ctx_unsigned(0, 0xFFFF));
    const uint32_t state = r.ctx_enum(1);
    if (state > 2) throw DecodeError{RejectReason::UndefinedEnumeration, "enable-disable"};
    req.state = static_cast<EnableDisable>(state);
    if (r.peek_context(2)) {
        auto pw = r.ctx_string(2);
        if (pw.text.empty() || pw.text.size() > 20) {
            throw DecodeError{RejectReason::ParameterOutOfRange, "password length"};
        }
        req.password = std::move(pw.text);
    }
    expect_end(r);
    return req;
}

std::vector<uint8_t> encode_device_communication_control(
    const DeviceCommunicationControlRequest& req) {
    return with_writer([&](Writer& w) {
        if (req.duration_minutes) w.ctx_unsigned(0, *req.duration_minutes);
        w.ctx_enum(1, static_cast<uint32_t>(req.state));
        if (req.password) w.ctx_string(2, *req.password);
    });
}

ReinitializeDeviceRequest decode_reinitialize_device(std::span<const uint8_t> d) {
    Reader r(d);
    ReinitializeDeviceRequest req;
    req.state = r.ctx_enum(0);
    if (r.peek_context(1)) {
        auto pw = r.ctx_string(1);
        if (pw.text.empty() || pw.text.size() > 20) {
            throw DecodeError{RejectReason::ParameterOutOfRange, "password length"};
        }
        req.password = std::move(pw.text);
    }
    expect_end(r);
    return req;
}

std::vector<uint8_t> encode_reinitialize_device(const ReinitializeDeviceRequest& req) {
    return with_writer([&](Writer& w) {
        w.ctx_enum(0, req.state);
        if (req.password) w.ctx_string(1, *req.password);
    });
}

// --- List elements ---

ListElementRequest decode_list_element(std::span<const uint8_t> d) {
    Reader r(d);
    ListElementRequest req;
    req.object = r.ctx_oid(0);
    req.ref = decode_ref(r, 1, 2);
    r.open(3);
    req.elements = r.elements_until_closing(3);
    r.close(3);
    expect_end(r);
    return req;
}

std::vector<uint8_t> encode_list_element(const ListElementRequest& req) {
    return with_writer([&](Writer& w) {
        w.ctx_oid(0, req.object);
        encode_ref(w, req.ref, 1, 2);
        w.open(3);
        w.elements(req.elements);
        w.close(3);
    });
}

std::vector<uint8_t> encode_change_list_error(ErrorPair e, uint32_t first_failed_element) {
    return with_writer([&](Writer& w) {
        w.open(0);
        w.app_enum(static_cast<uint32_t>(e.error_class));
        w.app_enum(static_cast<uint32_t>(e.code));
        w.close(0);
        w.ctx_unsigned(1, first_failed_element);
    });
}

// --- Recipients and destinations ---

void encode_recipient(Writer& w, const Recipient& r) {
    if (r.device) {
        w.ctx_oid(0, *r.device);
    } else {
        w.open(1);
        w.app_unsigned(r.address.net);
        w.app(r.address.mac.to_vector());
        w.close(1);
    }
}

Recipient decode_recipient(Reader& r) {
    Recipient out;
    if (r.peek_context(0)) {
        out.device = r.ctx_oid(0);
        return out;
    }
    r.open(1);
    out.address.net = static_cast<uint16_t>(r.app_unsigned(0xFFFF));
    const auto mac = std::get<OctetString>(r.app(AppTag::kOctetString));
    if (mac.size() > MacAddress::kCapacity)
        throw DecodeError{RejectReason::ParameterOutOfRange, "recipient address too long"};
    out.address.mac.assign(mac.begin(), mac.end());
    r.close(1);
    return out;
}

void encode_destination(Writer& w, const Destination& d) {
    w.app_bits(d.valid_days);
    w.app(d.from_time);
    w.app(d.to_time);
    encode_recipient(w, d.recipient);
    w.app_unsigned(d.process_id);
    w.app_bool(d.confirmed);
    w.app_bits(d.transitions);
}

Destination decode_destination(Reader& r) {
    Destination d;
    d.valid_days = r.app_bits();
    d.from_time = r.app_time();
    d.to_time = r.app_time();
    d.recipient = decode_recipient(r);
    d.process_id = static_cast<uint32_t>(r.app_unsigned());
    d.confirmed = r.app_bool();
    d.transitions = r.app_bits();
    if (d.valid_days.size() != 7 || d.transitions.size() != 3) {
        throw DecodeError{RejectReason::ParameterOutOfRange, "destination bit string size"};
    }
    return d;
}

std::vector<Element> destination_elements(const Destination& d) {
    std::vector<uint8_t> bytes;
    Writer w(bytes);
    encode_destination(w, d);
    return decode_elements(bytes);
}

ErrorPair decode_error(std::span<const uint8_t> d) {
    Reader r(d);
    ErrorPair e;
    e.error_class = static_cast<ErrorClass>(r.app_enum());
    e.code = static_cast<ErrorCode>(r.app_enum());
    return e;
}

}  // namespace openbcpm::bacnet
