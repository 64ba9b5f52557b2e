// Service parameters (ASHRAE 135 clauses 13, 15, 16, 21): the request and
// acknowledgement productions of every service the meter serves or sends,
// decoded from and encoded to the service data of an APDU. Decoders throw
// DecodeError (its reason is the Reject reason to answer with).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "protocols/bacnet/enums.hpp"
#include "protocols/bacnet/npdu.hpp"
#include "protocols/bacnet/value.hpp"

namespace openbcpm::bacnet {

inline constexpr uint32_t kNoIndex = 0xFFFFFFFF;  // BACNET_ARRAY_ALL

struct ErrorPair {
    ErrorClass error_class = ErrorClass::Device;
    ErrorCode code = ErrorCode::Other;
    bool operator==(const ErrorPair&) const = default;
};

// --- Who-Is / I-Am / Who-Has / I-Have ---
struct WhoIs {
    std::optional<uint32_t> low, high;
};
struct IAm {
    ObjectId device;
    uint32_t max_apdu = 1476;
    Segmentation segmentation = Segmentation::Transmit;
    uint16_t vendor_id = 0;
};
struct WhoHas {
    std::optional<uint32_t> low, high;
    std::optional<ObjectId> object;  // either object or name
    std::optional<std::string> name;
};
struct IHave {
    ObjectId device, object;
    std::string name;
};
WhoIs decode_who_is(std::span<const uint8_t> d);
std::vector<uint8_t> encode_who_is(const WhoIs& w);
IAm decode_i_am(std::span<const uint8_t> d);
std::vector<uint8_t> encode_i_am(const IAm& i);
WhoHas decode_who_has(std::span<const uint8_t> d);
std::vector<uint8_t> encode_who_has(const WhoHas& w);
IHave decode_i_have(std::span<const uint8_t> d);
std::vector<uint8_t> encode_i_have(const IHave& i);

// --- Time synchronisation (both services carry a BACnetDateTime) ---
struct DateTime {
    Date date;
    Time time;
    bool operator==(const DateTime&) const = default;
};
DateTime decode_time_sync(std::span<const uint8_t> d);
std::vector<uint8_t> encode_time_sync(const DateTime& dt);

// --- ReadProperty ---
struct PropertyReference {
    PropertyId property = PropertyId::PresentValue;
    uint32_t index = kNoIndex;
};
struct ReadPropertyRequest {
    ObjectId object;
    PropertyReference ref;
};
ReadPropertyRequest decode_read_property(std::span<const uint8_t> d);
std::vector<uint8_t> encode_read_property(const ReadPropertyRequest& r);
// The ack carries the request back plus the encoded value.
void encode_read_property_ack(std::vector<uint8_t>& out, const ReadPropertyRequest& r,
                              std::span<const uint8_t> value);
// The same around a value the caller writes in between.
void encode_read_property_ack_open(Writer& w, const ReadPropertyRequest& r);
void encode_read_property_ack_close(Writer& w);
struct ReadPropertyAck {
    ReadPropertyRequest request;
    std::vector<Element> value;
};
ReadPropertyAck decode_read_property_ack(std::span<const uint8_t> d);

// --- ReadPropertyMultiple ---
struct ReadAccessSpec {
    ObjectId object;
    std::vector<PropertyReference> properties;
};
std::vector<ReadAccessSpec> decode_read_property_multiple(std::span<const uint8_t> d);
// The same into `out`, reusing its storage (a server's scratch).
void decode_read_property_multiple(std::span<const uint8_t> d, std::vector<ReadAccessSpec>& out);
std::vector<uint8_t> encode_read_property_multiple(const std::vector<ReadAccessSpec>& specs);
struct ReadResult {
    PropertyReference ref;
    std::variant<std::vector<Element>, ErrorPair> result;
};
struct ReadAccessResult {
    ObjectId object;
    std::vector<ReadResult> results;
};
std::vector<ReadAccessResult> decode_read_property_multiple_ack(std::span<const uint8_t> d);
// Encoders of the pieces of an RPM ack (the server builds it incrementally).
void encode_rpm_object_open(Writer& w, ObjectId object);
void encode_rpm_object_close(Writer& w);
void encode_rpm_value(Writer& w, const PropertyReference& ref, std::span<const uint8_t> value);
// The same around a value the caller writes in between.
void encode_rpm_value_open(Writer& w, const PropertyReference& ref);
void encode_rpm_value_close(Writer& w);
void encode_rpm_error(Writer& w, const PropertyReference& ref, ErrorPair e);

// --- WriteProperty / WritePropertyMultiple ---
struct PropertyValue {
    PropertyReference ref;
    std::vector<Element> value;
    std::optional<uint8_t> priority;  // 1..16
};
struct WritePropertyRequest {
    ObjectId object;
    PropertyValue value;
};
WritePropertyRequest decode_write_property(std::span<const uint8_t> d);
std::vector<uint8_t> encode_write_property(const WritePropertyRequest& r);
struct WriteAccessSpec {
    ObjectId object;
    std::vector<PropertyValue> values;
};
std::vector<WriteAccessSpec> decode_write_property_multiple(std::span<const uint8_t> d);
std::vector<uint8_t> encode_write_property_multiple(const std::vector<WriteAccessSpec>& specs);
std::vector<uint8_t> encode_wpm_error(ErrorPair e, ObjectId object, const PropertyReference& ref);

// --- SubscribeCOV and COV notifications ---
struct SubscribeCovRequest {
    uint32_t process_id = 0;
    ObjectId object;
    std::optional<bool> confirmed;     // absent with lifetime: cancellation
    std::optional<uint32_t> lifetime;  // seconds, 0 = indefinite
    bool cancellation() const { return !confirmed && !lifetime; }
};
SubscribeCovRequest decode_subscribe_cov(std::span<const uint8_t> d);
std::vector<uint8_t> encode_subscribe_cov(const SubscribeCovRequest& r);
struct CovNotification {
    uint32_t process_id = 0;
    ObjectId device, object;
    uint32_t time_remaining = 0;
    std::vector<PropertyValue> values;
};
CovNotification decode_cov_notification(std::span<const uint8_t> d);
std::vector<uint8_t> encode_cov_notification(const CovNotification& n);

// --- Events ---
struct TimeStamp {
    enum class Kind : uint8_t { Time = 0, Sequence = 1, DateTime = 2 };
    Kind kind = Kind::DateTime;
    Time time;
    uint16_t sequence = 0;
    Date date;
    bool operator==(const TimeStamp&) const = default;
    // The unspecified stamp that a transition never seen reports.
    static TimeStamp unspecified() { return TimeStamp{}; }
};
void encode_timestamp(Writer& w, uint8_t tag, const TimeStamp& t);
TimeStamp decode_timestamp(Reader& r, uint8_t tag);

struct OutOfRangeValues {
    float exceeding_value = 0.0F;
    BitString status_flags{false, false, false, false};
    float deadband = 0.0F;
    float exceeded_limit = 0.0F;
};
struct EventNotification {
    uint32_t process_id = 0;
    ObjectId device, object;
    TimeStamp timestamp;
    uint32_t notification_class = 0;
    uint8_t priority = 0;
    EventType event_type = EventType::OutOfRange;
    std::optional<std::string> message;
    NotifyType notify_type = NotifyType::Alarm;
    std::optional<bool> ack_required;      // absent in ack notifications
    std::optional<EventState> from_state;  // absent in ack notifications
    EventState to_state = EventState::Normal;
    std::optional<OutOfRangeValues> values;  // OUT_OF_RANGE parameters
};
EventNotification decode_event_notification(std::span<const uint8_t> d);
std::vector<uint8_t> encode_event_notification(const EventNotification& n);

struct AcknowledgeAlarmRequest {
    uint32_t process_id = 0;
    ObjectId object;
    EventState state = EventState::Normal;
    TimeStamp event_timestamp;
    std::string source;
    TimeStamp ack_timestamp;
};
AcknowledgeAlarmRequest decode_acknowledge_alarm(std::span<const uint8_t> d);
std::vector<uint8_t> encode_acknowledge_alarm(const AcknowledgeAlarmRequest& r);

struct EventSummary {
    ObjectId object;
    EventState state = EventState::Normal;
    BitString acked_transitions{true, true, true};
    std::array<TimeStamp, 3> timestamps{};
    NotifyType notify_type = NotifyType::Alarm;
    BitString event_enable{true, true, true};
    std::array<uint8_t, 3> priorities{};
};
std::optional<ObjectId> decode_get_event_information(std::span<const uint8_t> d);
std::vector<uint8_t> encode_get_event_information(std::optional<ObjectId> last);
struct EventInformation {
    std::vector<EventSummary> summaries;
    bool more_events = false;
};
std::vector<uint8_t> encode_get_event_information_ack(const EventInformation& e);
EventInformation decode_get_event_information_ack(std::span<const uint8_t> d);

// --- DeviceCommunicationControl / ReinitializeDevice ---
struct DeviceCommunicationControlRequest {
    std::optional<uint16_t> duration_minutes;
    EnableDisable state = EnableDisable::Enable;
    std::optional<std::string> password;
};
DeviceCommunicationControlRequest decode_device_communication_control(std::span<const uint8_t> d);
std::vector<uint8_t> encode_device_communication_control(
    const DeviceCommunicationControlRequest& r);
struct ReinitializeDeviceRequest {
    uint32_t state = 0;  // BACnetReinitializedStateOfDevice
    std::optional<std::string> password;
};
ReinitializeDeviceRequest decode_reinitialize_device(std::span<const uint8_t> d);
std::vector<uint8_t> encode_reinitialize_device(const ReinitializeDeviceRequest& r);

// --- AddListElement / RemoveListElement ---
struct ListElementRequest {
    ObjectId object;
    PropertyReference ref;
    std::vector<Element> elements;
};
ListElementRequest decode_list_element(std::span<const uint8_t> d);
std::vector<uint8_t> encode_list_element(const ListElementRequest& r);
std::vector<uint8_t> encode_change_list_error(ErrorPair e, uint32_t first_failed_element);

// --- Shared constructed types ---
// BACnetRecipient: a device (object identifier) or an address.
struct Recipient {
    std::optional<ObjectId> device;
    NetAddress address;  // used when device is empty
    bool operator==(const Recipient&) const = default;
};
void encode_recipient(Writer& w, const Recipient& r);
Recipient decode_recipient(Reader& r);
// BACnetDestination (Recipient_List of a Notification Class).
struct Destination {
    BitString valid_days{true, true, true, true, true, true, true};
    Time from_time{0, 0, 0, 0};
    Time to_time{23, 59, 59, 99};
    Recipient recipient;
    uint32_t process_id = 0;
    bool confirmed = false;
    BitString transitions{true, true, true};
    bool operator==(const Destination&) const = default;
};
void encode_destination(Writer& w, const Destination& d);
Destination decode_destination(Reader& r);
std::vector<Element> destination_elements(const Destination& d);

// Errors decoded from an Error PDU with the plain production.
ErrorPair decode_error(std::span<const uint8_t> d);

}  // namespace openbcpm::bacnet
