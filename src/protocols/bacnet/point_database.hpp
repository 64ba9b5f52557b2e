// A ready ObjectDatabase built from a table: analog objects (AI, AO, AV) whose
// values come from and go to callbacks, and Notification Class objects with
// recipient lists. It keeps the BACnet-side state of its objects (COV
// increments, AO priority arrays, event state, acknowledgements) and runs the
// OUT_OF_RANGE algorithm (clause 13.3.6) for objects that report events
// intrinsically; objects whose events the meter decides report them through
// set_event_state(). All state is volatile, as the guide says of COV increments.
//
// Memory: what does not change (names, descriptions, units, limits, event
// parameters as configured) is an AnalogTable that many databases (one per
// panel of every meter in a process) may share; a database keeps only its
// mutable state: a COV increment per object, the event state of its
// reporting objects and the priority arrays of its outputs. Present values
// come from an AnalogSource (the meter), or from the callbacks of AnalogPoints.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/bacnet/object_database.hpp"

namespace openbcpm::bacnet {

struct EventReporting {
    uint32_t notification_class = 0;
    float high_limit = 0.0F;
    float low_limit = 0.0F;
    float deadband = 0.0F;
    BitString limit_enable{true, true};        // low-limit, high-limit
    BitString event_enable{true, true, true};  // to-offnormal, to-fault, to-normal
    NotifyType notify_type = NotifyType::Alarm;
    uint32_t time_delay = 0;  // seconds
    bool intrinsic = true;    // false: the meter drives Event_State via set_event_state()
    // Objects the meter drives (intrinsic = false) show the meter's own
    // limits here; their limit properties are then read-only.
    std::function<float()> meter_high_limit, meter_low_limit;
};

// What the meter knows about an event it decided (set_event_state).
struct EventDetail {
    std::optional<float> exceeding_value;  // default: Present_Value now
    std::optional<float> exceeded_limit;   // default: High_Limit / Low_Limit
    std::optional<std::string> message;
};

// What a Present_Value write did: taken, refused as out of range, or refused
// because it could not be stored; both refusals change nothing.
struct WriteVerdict {
    enum class Kind : uint8_t { Done, OutOfRange, NotStored };
    Kind kind = Kind::Done;
    // true = done, false = out of range, as the simple writers say it.
    WriteVerdict(bool done) : kind(done ? Kind::Done : Kind::OutOfRange) {}  // NOLINT
    static WriteVerdict not_stored() {
        WriteVerdict v(false);
        v.kind = Kind::NotStored;
        return v;
    }
};

struct AnalogPoint {
    ObjectType type = ObjectType::AnalogInput;  // AnalogInput, AnalogOutput or AnalogValue
    uint32_t instance = 0;
    std::string name;
    std::string description;
    uint32_t units = units::kNoUnits;
    std::function<float()> value;  // Present_Value as the meter has it now
    // Applies a Present_Value write; false refuses it (value-out-of-range,
    // nothing changed), not_stored() too (resources). Null: read-only.
    std::function<WriteVerdict(float)> write;
    float cov_increment = 1.0F;                 // default; writable, volatile
    std::optional<float> min_value, max_value;  // Min/Max_Pres_Value, checked before write()
    float relinquish_default = 0.0F;            // Analog Output
    std::optional<EventReporting> reporting;
    // Reliability (BACnetReliability; 0 = no-fault-detected), evaluated on
    // read; a fault sets the fault bit of Status_Flags. Null: the property
    // is absent and the object is always reliable.
    std::function<uint32_t()> reliability;
    // Whether Present_Value may be written now (else write-access-denied,
    // e.g. the RTC while RTC_Control gives it to Modbus). Null: always.
    std::function<bool()> writable;
};

// The immutable part of an analog object (an AnalogPoint without its callbacks).
struct AnalogSpec {
    ObjectType type = ObjectType::AnalogInput;
    uint32_t instance = 0;
    std::string name;
    std::string description;
    uint32_t units = units::kNoUnits;
    float cov_increment = 1.0F;
    std::optional<float> min_value, max_value;
    float relinquish_default = 0.0F;
    // Which of the source's answers the object has (AnalogPoint: which callbacks are set).
    bool has_value = true, has_write = false, has_reliability = false, has_writable = false;
    bool meter_limits = false;  // High_/Low_Limit from the source (intrinsic = false objects)
    // Initial event reporting parameters (the callbacks unused here).
    std::optional<EventReporting> reporting;
    uint32_t event_slot = 0;     // index among the reporting objects
    uint32_t priority_slot = 0;  // index among the Analog Outputs
};

// A device's analog objects in Object_List order, with their lookup by identifier.
struct AnalogTable {
    std::vector<AnalogSpec> specs;
    std::vector<std::pair<ObjectId, uint32_t>> by_id;  // sorted
    uint32_t reporting = 0, outputs = 0;               // counts of event and priority slots
    // Fills by_id and the slots from specs; false when an identifier is there twice.
    bool index();
    const AnalogSpec* find(ObjectId id, size_t& i) const;
};

// Where the present values of a table's objects come from and where their
// writes go: index i is the object's place in the table.
class AnalogSource {
  public:
    virtual ~AnalogSource() = default;
    virtual float value(size_t i) const = 0;
    virtual uint32_t reliability(size_t /*i*/) const { return 0; }
    virtual WriteVerdict write(size_t /*i*/, float /*x*/) { return false; }
    virtual bool writable(size_t /*i*/) const { return true; }
    virtual float high_limit(size_t /*i*/) const { return 0.0F; }
    virtual float low_limit(size_t /*i*/) const { return 0.0F; }
};

struct NotificationClassDef {
    uint32_t instance = 0;
    std::string name;
    std::string description;
    std::array<uint8_t, 3> priority{100, 100, 200};
    BitString ack_required{true, false, false};
    std::vector<Destination> recipients;
};

class PointDatabase : public ObjectDatabase {
  public:
    PointDatabase(std::vector<AnalogPoint> points, std::vector<NotificationClassDef> classes);
    // A shared table whose values `source` gives (it outlives the database).
    PointDatabase(std::shared_ptr<const AnalogTable> table, AnalogSource& source,
                  std::vector<NotificationClassDef> classes);
    ~PointDatabase() override;

    std::vector<ObjectId> object_list() const override;
    bool has_object(ObjectId id) const override;
    std::vector<PropertyInfo> property_list(ObjectId id) const override;
    ReadOutcome read(ObjectId id, PropertyId property) const override;
    std::optional<Primitive> read_primitive(ObjectId id, PropertyId property) const override;
    WriteOutcome write(ObjectId id, const PropertyValue& value) override;
    WriteOutcome add_list_element(ObjectId id, const PropertyReference& ref,
                                  std::span<const Element> elements, uint32_t& failed) override;
    WriteOutcome remove_list_element(ObjectId id, const PropertyReference& ref,
                                     std::span<const Element> elements, uint32_t& failed) override;
    std::optional<CovValue> cov_value(ObjectId id) const override;
    std::vector<EventSummary> event_summaries() const override;
    AcknowledgeOutcome acknowledge(ObjectId id, EventState state, const TimeStamp& event_time,
                                   const TimeStamp& ack_time) override;
    std::optional<NotificationClassInfo> notification_class(uint32_t instance) const override;

    // Runs intrinsic reporting; `stamp` is the wall-clock time stamp of now.
    void evaluate(std::chrono::steady_clock::time_point now, const TimeStamp& stamp);
    // Drives the event state of an object whose events the meter decides.
    bool set_event_state(ObjectId id, EventState state, const TimeStamp& stamp,
                         std::optional<std::string> message = {});
    bool set_event_state(ObjectId id, EventState state, const TimeStamp& stamp, EventDetail detail);
    EventState event_state(ObjectId id) const;

    // Called with a Notification Class as a write (Priority, Ack_Required,
    // Recipient_List written, listed elements added or removed) would leave
    // it, before it does, e.g. to persist its recipients; false refuses the
    // write (error class resources) and changes nothing.
    using ClassListener = std::function<bool(const NotificationClassDef&)>;
    void set_class_listener(ClassListener l) { class_listener_ = std::move(l); }

  private:
    // The mutable event state of a reporting object.
    struct EventSlot {
        EventReporting rep;  // parameters as written (intrinsic objects)
        EventState state = EventState::Normal;
        BitString acked{true, true, true};
        std::array<TimeStamp, 3> stamps{};
        std::optional<EventState> pending;
        std::chrono::steady_clock::time_point pending_since{};
    };
    using PriorityArray = std::array<std::optional<float>, 16>;
    // An analog object found: its index, its spec and its event slot (null: none).
    struct Analog {
        size_t i = 0;
        const AnalogSpec* spec = nullptr;
        EventSlot* ev = nullptr;
    };
    std::optional<Analog> analog(ObjectId id) const;
    NotificationClassDef* nc(ObjectId id);
    const NotificationClassDef* nc(ObjectId id) const;
    bool has_property(ObjectId id, PropertyId p) const;
    float present_value(const Analog& a) const;
    BitString status_flags(const Analog& a) const;
    void transition(const Analog& a, EventState to, const TimeStamp& stamp, EventDetail detail);
    bool class_changing(const NotificationClassDef& n) const {
        return !class_listener_ || class_listener_(n);
    }
    WriteOutcome write_analog(const Analog& a, const PropertyValue& v);
    WriteOutcome write_nc(NotificationClassDef& n, const PropertyValue& v);
    void init_state();

    std::shared_ptr<const AnalogTable> table_;
    std::unique_ptr<AnalogSource> owned_source_;  // the AnalogPoints' callbacks
    AnalogSource* source_ = nullptr;
    std::vector<float> cov_increment_;
    std::vector<EventSlot> events_;          // by AnalogSpec::event_slot
    std::vector<PriorityArray> priorities_;  // by AnalogSpec::priority_slot
    std::vector<NotificationClassDef> classes_;
    ClassListener class_listener_;
};

}  // namespace openbcpm::bacnet
