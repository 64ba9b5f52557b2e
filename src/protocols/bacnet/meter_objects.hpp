// The BACnet object list of the meter: a view of the point catalogue, as the
// Modbus map is. This file decides which points each device presents: a
// panel device makes Analog Inputs of the read-only measurements, Analog
// Values of the setting registers, Analog Outputs of the reset command
// registers, and has two Notification Classes; the router device presents
// the gateway's settings (AV1 DeviceID_Offset, AV2 Virt_Router_Net). Where
// each object sits, its type and instance, is pinned point by point in the
// catalogue (Point::bacnet; docs/decisions.md, Pinned identities), whatever
// the model: a channel the model lacks has no object, and the instances of the
// others do not move. Pure data: the databases (meter_node), the EDE export
// and the docs use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/device_model.hpp"
#include "points/catalogue.hpp"
#include "protocols/bacnet/enums.hpp"

namespace openbcpm::bacnet {

// What a write to an object's Present_Value does in the meter.
enum class MeterAction : uint8_t {
    None,            // read-only (Analog Input)
    Setting,         // Device::write_setting of the point's setting
    LatchClear,      // event status: a 0 bit clears that latched event
    PowerUpCounter,  // Device::set_power_up_counter
    Rtc,             // one field of the RTC (when RTC_Control gives BACnet the clock)
    Reset,           // a reset command code (Analog Output)
};

struct MeterObject {
    ObjectType type = ObjectType::AnalogInput;
    uint32_t instance = 0;
    const points::Point* point = nullptr;  // null for the router device's AVs
    std::string setting_key;               // router AVs: the gateway setting
    std::string name;                      // Object_Name
    std::string description;
    uint32_t units = units::kNoUnits;
    double scale = 1.0;  // Present_Value = the setting (register) value x scale
    std::optional<float> min_value, max_value;
    float cov_increment = 1.0F;
    float relinquish_default = 0.0F;
    MeterAction action = MeterAction::None;
    int channel = 0;  // a channel the model must have for the object to exist (0: always)
    // Event reporting driven by the meter's over-threshold events: the
    // notification class and the event channel (1..46 a channel's current,
    // 47..49 the L-L voltages A-B, B-C, C-A). 0: no event reporting.
    uint32_t notification_class = 0;
    int event_channel = 0;
    uint16_t reg = 0;  // the Modbus register of the point (0: none)
};

inline constexpr uint32_t kCurrentEventClass = 1;  // NC1: branch and aux current events
inline constexpr uint32_t kVoltageEventClass = 2;  // NC2: L-L voltage events

struct MeterClass {
    uint32_t instance = 0;
    std::string name;
    std::string description;
};

// Every object a panel device can have, in Object_List order (AIs, AVs,
// AOs, each by instance), with the instances of the full model.
const std::vector<MeterObject>& panel_object_table();
// The same tables built from other points (tests). They throw
// std::logic_error naming the point when a presented point has no pin, a
// point BACnet does not present has one, a pin has the wrong object type or
// two points share one object.
std::vector<MeterObject> build_panel_objects(const std::vector<points::Point>& points);
std::vector<MeterObject> build_router_objects(const std::vector<points::Point>& gateway);
// The objects of one panel for a model (channels it lacks left out).
std::vector<const MeterObject*> panel_objects(const ModelInfo& model);
// The router device's objects.
const std::vector<MeterObject>& router_object_table();
// The Notification Class objects of each panel device.
const std::vector<MeterClass>& panel_classes();

// BACnetEngineeringUnits of a catalogue unit (scaled as the object presents it).
uint32_t bacnet_units(points::Unit u);
std::string units_name(uint32_t bacnet_units);
std::string object_type_name(ObjectType t);
// "AI", "AV", "AO", "NC", "DEV".
std::string object_type_abbreviation(ObjectType t);

}  // namespace openbcpm::bacnet
