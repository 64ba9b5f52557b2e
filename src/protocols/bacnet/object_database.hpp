// The seam between the BACnet engine and the meter: one ObjectDatabase per
// BACnet device holds that device's objects (everything but the Device object,
// which the engine owns). The engine asks it for object lists, property values
// and writes, COV values, event summaries and notification classes; the
// database tells the engine about event state changes through the sink.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "protocols/bacnet/services.hpp"
#include "protocols/bacnet/value.hpp"

namespace openbcpm::bacnet {

// A property value as a database reports it. A scalar has one item; a list
// or an array has one item per member (an item may be several elements, e.g.
// one BACnetDestination). The engine serves array indexes from it.
struct PropertyData {
    enum class Shape : uint8_t { Scalar, List, Array };
    Shape shape = Shape::Scalar;
    std::vector<std::vector<Element>> items;

    static PropertyData scalar(Primitive v) {
        PropertyData d;
        d.items.push_back({Element::app(std::move(v))});
        return d;
    }
    static PropertyData scalar_elements(std::vector<Element> es) {
        PropertyData d;
        d.items.push_back(std::move(es));
        return d;
    }
    static PropertyData array(std::vector<std::vector<Element>> items) {
        PropertyData d;
        d.shape = Shape::Array;
        d.items = std::move(items);
        return d;
    }
    static PropertyData array_of(const std::vector<Primitive>& values) {
        PropertyData d;
        d.shape = Shape::Array;
        for (const auto& v : values)
            d.items.push_back({Element::app(v)});
        return d;
    }
    static PropertyData list(std::vector<std::vector<Element>> items) {
        PropertyData d;
        d.shape = Shape::List;
        d.items = std::move(items);
        return d;
    }
};

struct PropertyInfo {
    PropertyId id = PropertyId::ObjectIdentifier;
    bool required = true;  // false: optional (RPM REQUIRED/OPTIONAL)
};

using ReadOutcome = std::variant<PropertyData, ErrorPair>;
using WriteOutcome = std::optional<ErrorPair>;  // nullopt: done

// What COV reporting watches for an object (clause 13.1, Table 13-1).
struct CovValue {
    Primitive present_value;
    BitString status_flags{false, false, false, false};
    std::optional<float> increment;  // COV_Increment of analog objects
};

struct NotificationClassInfo {
    std::array<uint8_t, 3> priority{255, 255, 255};  // to-offnormal, to-fault, to-normal
    BitString ack_required{false, false, false};
    std::vector<Destination> recipients;
};

// An event state change (or acknowledgement) the database wants reported.
// The engine fills the process identifier, the initiating device, the
// priority and ack_required from the notification class, and sends it to
// the class's recipients.
struct EventReport {
    ObjectId object;
    uint32_t notification_class = 0;
    TimeStamp timestamp;
    EventType event_type = EventType::OutOfRange;
    NotifyType notify_type = NotifyType::Alarm;
    EventState from_state = EventState::Normal;
    EventState to_state = EventState::Normal;
    std::optional<OutOfRangeValues> values;
    std::optional<std::string> message;
};

// The result of AcknowledgeAlarm: the acknowledgement notification to send,
// or the error to answer with.
using AcknowledgeOutcome = std::variant<EventReport, ErrorPair>;

class ObjectDatabase {
  public:
    virtual ~ObjectDatabase() = default;

    // Objects of the device, in Object_List order (the Device object excluded).
    virtual std::vector<ObjectId> object_list() const = 0;
    virtual bool has_object(ObjectId id) const;
    // Properties of an object (Property_List order); empty for an unknown object.
    virtual std::vector<PropertyInfo> property_list(ObjectId id) const = 0;
    // The whole value of a property (the engine applies the array index).
    virtual ReadOutcome read(ObjectId id, PropertyId property) const = 0;
    // The value of a property that is one application-tagged primitive, when
    // the database gives it without building a PropertyData (so that the
    // engine's read allocates nothing); nullopt: the engine asks read(),
    // which says the same and answers the errors.
    virtual std::optional<Primitive> read_primitive(ObjectId /*id*/,
                                                    PropertyId /*property*/) const {
        return std::nullopt;
    }
    // Validates and applies a write (index and priority in `value`); an
    // invalid value answers an error and changes nothing.
    virtual WriteOutcome write(ObjectId id, const PropertyValue& value) = 0;
    // AddListElement / RemoveListElement; on error, `failed` is the 1-based
    // element that failed (0 when none in particular).
    virtual WriteOutcome add_list_element(ObjectId id, const PropertyReference& ref,
                                          std::span<const Element> elements, uint32_t& failed);
    virtual WriteOutcome remove_list_element(ObjectId id, const PropertyReference& ref,
                                             std::span<const Element> elements, uint32_t& failed);

    // COV: the watched values of an object; nullopt when it does not support COV.
    virtual std::optional<CovValue> cov_value(ObjectId id) const;

    // Event reporting.
    virtual std::vector<EventSummary> event_summaries() const { return {}; }
    virtual AcknowledgeOutcome acknowledge(ObjectId id, EventState state,
                                           const TimeStamp& event_time, const TimeStamp& ack_time);
    virtual std::optional<NotificationClassInfo> notification_class(uint32_t instance) const;

    // Called by the engine; the database calls report() for each change.
    using EventSink = std::function<void(const EventReport&)>;
    void set_event_sink(EventSink sink) { sink_ = std::move(sink); }

  protected:
    void report(const EventReport& r) const {
        if (sink_) sink_(r);
    }

  private:
    EventSink sink_;
};

// Errors that databases and the engine answer with.
namespace errors {
inline constexpr ErrorPair kUnknownObject{ErrorClass::Object, ErrorCode::UnknownObject};
inline constexpr ErrorPair kUnknownProperty{ErrorClass::Property, ErrorCode::UnknownProperty};
inline constexpr ErrorPair kWriteAccessDenied{ErrorClass::Property, ErrorCode::WriteAccessDenied};
inline constexpr ErrorPair kValueOutOfRange{ErrorClass::Property, ErrorCode::ValueOutOfRange};
inline constexpr ErrorPair kInvalidDataType{ErrorClass::Property, ErrorCode::InvalidDataType};
// A valid write the meter could not make non-volatile (its storage fails): nothing changed.
inline constexpr ErrorPair kNotStored{ErrorClass::Resources, ErrorCode::NoSpaceToWriteProperty};
inline constexpr ErrorPair kNotAnArray{ErrorClass::Property, ErrorCode::PropertyIsNotAnArray};
inline constexpr ErrorPair kNotAList{ErrorClass::Services, ErrorCode::PropertyIsNotAList};
inline constexpr ErrorPair kInvalidArrayIndex{ErrorClass::Property, ErrorCode::InvalidArrayIndex};
inline constexpr ErrorPair kOptionalNotSupported{ErrorClass::Services,
                                                 ErrorCode::OptionalFunctionalityNotSupported};
}  // namespace errors

}  // namespace openbcpm::bacnet
