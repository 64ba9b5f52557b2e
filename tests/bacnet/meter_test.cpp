// The meter's BACnet devices: the object table from the catalogue (AV164 is
// register 62017), the databases on a real Device (values, writes through
// the meter's validation, resets, latch clears, the RTC), event states from
// the meter's over-threshold events, identities and recipients persisted,
// time synchronisation, the EDE files and docs/bacnet-objects.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "../temp_dir.hpp"
#include "config/config.hpp"
#include "device/device.hpp"
#include "points/modbus_map.hpp"
#include "protocols/bacnet/apdu.hpp"
#include "protocols/bacnet/ede.hpp"
#include "protocols/bacnet/meter_node.hpp"
#include "protocols/bacnet/meter_objects.hpp"

using namespace openbcpm;
using namespace openbcpm::bacnet;
using Bytes = std::vector<uint8_t>;

namespace {

using test::TempDir;

const MeterObject* find(ObjectType type, uint32_t instance) {
    for (const auto& o : panel_object_table()) {
        if (o.type == type && o.instance == instance) return &o;
    }
    return nullptr;
}

std::vector<const MeterObject*> of_type(ObjectType type) {
    std::vector<const MeterObject*> out;
    for (const auto& o : panel_object_table()) {
        if (o.type == type) out.push_back(&o);
    }
    return out;
}

uint16_t av_register(uint32_t instance) {
    const MeterObject* o = find(ObjectType::AnalogValue, instance);
    return o ? o->reg : 0;
}

}  // namespace

// ---------------------------------------------------------------- the table

TEST(MeterObjects, AnalogValuesAreTheWritableRegistersInRegisterOrderAv164Is62017) {
    const auto avs = of_type(ObjectType::AnalogValue);
    ASSERT_EQ(avs.size(), 262u);
    for (size_t i = 0; i < avs.size(); ++i)
        EXPECT_EQ(avs[i]->instance, i + 1);
    EXPECT_EQ(av_register(1), 6);
    EXPECT_EQ(av_register(2), 71);
    EXPECT_EQ(av_register(3), 72);
    for (uint32_t i = 4; i <= 49; ++i)
        EXPECT_EQ(av_register(i), 73 + (i - 4)) << "CT size AV" << i;
    for (uint32_t i = 50; i <= 95; ++i)
        EXPECT_EQ(av_register(i), 119 + (i - 50)) << "breaker size AV" << i;
    for (uint32_t i = 96; i <= 101; ++i)
        EXPECT_EQ(av_register(i), 165 + (i - 96)) << "timer AV" << i;
    for (uint32_t i = 102; i <= 108; ++i)
        EXPECT_EQ(av_register(i), 171 + (i - 102)) << "threshold AV" << i;
    for (uint32_t i = 109; i <= 154; ++i)
        EXPECT_EQ(av_register(i), 178 + (i - 109)) << "event status AV" << i;
    for (uint32_t i = 155; i <= 159; ++i)
        EXPECT_EQ(av_register(i), 236 + (i - 155)) << "voltage event setting AV" << i;
    for (uint32_t i = 160; i <= 162; ++i)
        EXPECT_EQ(av_register(i), 241 + (i - 160)) << "voltage event status AV" << i;
    EXPECT_EQ(av_register(163), 531);
    EXPECT_EQ(av_register(164), 62017);
    EXPECT_EQ(find(ObjectType::AnalogValue, 164)->point->id, "user_defined");
    for (uint32_t i = 165; i <= 210; ++i)
        EXPECT_EQ(av_register(i), 62116 + (i - 165)) << "phase AV" << i;
    for (uint32_t i = 211; i <= 256; ++i)
        EXPECT_EQ(av_register(i), 3201 + (i - 211)) << "logical circuit AV" << i;
    for (uint32_t i = 257; i <= 262; ++i)
        EXPECT_EQ(av_register(i), 3251 + (i - 257)) << "RTC AV" << i;
    // The location string (7..70) is text: not an AV.
    for (const auto* o : avs)
        EXPECT_NE(o->reg, 7);
}

TEST(MeterObjects, AnalogValuesCarryTheSettingsScaleUnitsAndRange) {
    const MeterObject* hh = find(ObjectType::AnalogValue, 102);  // reg 171, 0.1 %
    ASSERT_TRUE(hh);
    EXPECT_EQ(hh->units, units::kPercent);
    EXPECT_DOUBLE_EQ(hh->scale, 0.1);
    EXPECT_FLOAT_EQ(*hh->max_value, 100.0F);
    const MeterObject* over = find(ObjectType::AnalogValue, 157);  // reg 238, voltage scale -1
    EXPECT_EQ(over->units, units::kVolts);
    EXPECT_DOUBLE_EQ(over->scale, 0.1);
    const MeterObject* ct = find(ObjectType::AnalogValue, 4);
    EXPECT_EQ(ct->units, units::kAmperes);
    EXPECT_EQ(ct->action, MeterAction::Setting);
    EXPECT_FLOAT_EQ(*ct->max_value, 32767.0F);
    EXPECT_EQ(find(ObjectType::AnalogValue, 109)->action, MeterAction::LatchClear);
    EXPECT_EQ(find(ObjectType::AnalogValue, 163)->action, MeterAction::PowerUpCounter);
    EXPECT_EQ(find(ObjectType::AnalogValue, 257)->action, MeterAction::Rtc);
    EXPECT_FLOAT_EQ(*find(ObjectType::AnalogValue, 258)->max_value, 12.0F);  // month
}

TEST(MeterObjects, AnalogInputsAreTheReadOnlyMeasurementsInCatalogueOrder) {
    const auto ais = of_type(ObjectType::AnalogInput);
    const auto& points = points::Catalogue::instance().points();
    size_t expected = 0;
    const points::Point* previous = nullptr;
    for (size_t i = 0; i < ais.size(); ++i) {
        const auto* o = ais[i];
        EXPECT_EQ(o->instance, i + 1);
        EXPECT_EQ(o->point->access, points::Access::Read);
        EXPECT_NE(o->point->unit, points::Unit::Exponent) << o->point->id;
        EXPECT_EQ(o->point->id.find(".by_circuit."), std::string::npos);
        if (previous) {
            EXPECT_LT(previous, o->point) << "catalogue order";
        }
        previous = o->point;
    }
    for (const auto& p : points) {
        if (p.access == points::Access::Read && p.unit != points::Unit::Exponent &&
            p.ref.q != points::Q::Reserved && p.id.find(".by_circuit.") == std::string::npos)
            ++expected;
    }
    EXPECT_EQ(ais.size(), expected);
    // Units of a few kinds.
    std::map<std::string, uint32_t> units_of;
    for (const auto* o : ais)
        units_of[o->point->id] = o->units;
    EXPECT_EQ(units_of["ch5.current"], units::kAmperes);
    EXPECT_EQ(units_of["ch5.kw"], units::kKilowatts);
    EXPECT_EQ(units_of["ch5.kwh"], units::kKilowattHours);
    EXPECT_EQ(units_of["ch5.pf"], units::kPowerFactor);
    EXPECT_EQ(units_of["ch5.angle"], units::kDegreesPhase);
    EXPECT_EQ(units_of["frequency"], units::kHertz);
    EXPECT_EQ(units_of["volts_ab"], units::kVolts);
    EXPECT_EQ(units_of["mains.kva"], units::kKilovoltAmperes);
    EXPECT_EQ(units_of.count("ch5.current_scale"), 0u);
    EXPECT_EQ(units_of.count("lc5.by_circuit.kw"), 0u);
    EXPECT_EQ(units_of.count("lc5.kw"), 1u);
}

TEST(MeterObjects, EventReportingOnChannelCurrentsAndLineToLineVoltages) {
    std::set<int> channels;
    for (const auto& o : panel_object_table()) {
        if (!o.notification_class) continue;
        EXPECT_EQ(o.type, ObjectType::AnalogInput);
        channels.insert(o.event_channel);
        if (o.event_channel <= kChannelsPerPanel) {
            EXPECT_EQ(o.notification_class, kCurrentEventClass);
            EXPECT_EQ(o.point->id, "ch" + std::to_string(o.event_channel) + ".current");
        } else {
            EXPECT_EQ(o.notification_class, kVoltageEventClass);
        }
    }
    EXPECT_EQ(channels.size(), 49u);
    EXPECT_EQ(*channels.begin(), 1);
    EXPECT_EQ(*channels.rbegin(), 49);
}

TEST(MeterObjects, AnalogOutputsAreTheResetRegisters) {
    const auto aos = of_type(ObjectType::AnalogOutput);
    ASSERT_GE(aos.size(), 2u + 42 + 21 + 14 + 46);
    EXPECT_EQ(aos[0]->reg, 294);
    EXPECT_EQ(aos[1]->reg, 295);
    EXPECT_EQ(aos[2]->reg, 1126);
    EXPECT_EQ(aos[2]->channel, 1);
    EXPECT_EQ(aos[43]->reg, 1167);
    EXPECT_EQ(aos.size(), 2u + 42 + 21 + 14 + 46);
    for (const auto* o : aos)
        EXPECT_EQ(o->action, MeterAction::Reset);
}

TEST(MeterObjects, NamesAreUniqueAndAModelWithFewerChannelsKeepsTheInstances) {
    std::set<std::string> names;
    for (const auto& o : panel_object_table())
        EXPECT_TRUE(names.insert(o.name).second) << o.name;
    const auto full = panel_objects(*ModelInfo::from_channels(84));
    const auto small = panel_objects(*ModelInfo::from_channels(24));
    EXPECT_EQ(full.size(), panel_object_table().size());
    EXPECT_LT(small.size(), full.size());
    bool has_ct_30 = false, has_av164 = false;
    for (const auto* o : small) {
        if (o->type == ObjectType::AnalogValue && o->reg == 73 + 29) has_ct_30 = true;
        if (o->type == ObjectType::AnalogValue && o->instance == 164) has_av164 = true;
        if (o->channel) {
            EXPECT_TRUE(ModelInfo::from_channels(24)->has_channel(o->channel));
        }
    }
    EXPECT_FALSE(has_ct_30) << "channel 30 is not in a 24-channel model";
    EXPECT_TRUE(has_av164);
}

// ---------------------------------------------------------------- databases on a Device

namespace {

Config test_config(const std::string& extra = "") {
    return parse_config(R"(
[device]
channels = 84
[panel.1]
on_time = 1
hh_delay = 1
h_delay = 1
[simulation]
speed = 1.0
current_noise = 0.0
[[simulation.load]]
panel = 1
channel = 3
amps = 10.0
[[simulation.load]]
panel = 1
channel = 5
amps = 5.0
)" + extra,
                        "meter_test");
}

float pv(PointDatabase& db, ObjectType t, uint32_t i) {
    const auto r = db.read(ObjectId(t, i), PropertyId::PresentValue);
    const auto* d = std::get_if<PropertyData>(&r);
    if (!d) return NAN;
    return *d->items.at(0).at(0).as<float>();
}

uint32_t enum_property(PointDatabase& db, ObjectId id, PropertyId p) {
    const auto r = db.read(id, p);
    const auto* d = std::get_if<PropertyData>(&r);
    if (!d) return 0xFFFFFFFF;
    return d->items.at(0).at(0).as<Enumerated>()->value;
}

WriteOutcome write_real(PointDatabase& db, ObjectType t, uint32_t i, float x,
                        std::optional<uint8_t> priority = {}) {
    PropertyValue v;
    v.ref.property = PropertyId::PresentValue;
    v.value = {Element::app(x)};
    v.priority = priority;
    return db.write(ObjectId(t, i), v);
}

uint32_t ai_of(const std::string& point_id) {
    for (const auto& o : panel_object_table()) {
        if (o.type == ObjectType::AnalogInput && o.point->id == point_id) return o.instance;
    }
    return 0;
}

}  // namespace

TEST(MeterNode, ThreeDevicesWithTheirObjects) {
    Device device(test_config(), std::nullopt);
    MeterNode node(device);
    ASSERT_EQ(node.device_count(), 3u);
    EXPECT_EQ(node.config().router.instance, 50000u);
    EXPECT_EQ(node.config().panels.at(0).instance, 50001u);
    EXPECT_EQ(node.config().panels.at(1).name, "BCPME_2");
    EXPECT_EQ(node.database(0).object_list().size(), 2u);
    EXPECT_EQ(node.database(1).object_list().size(), panel_object_table().size() + 2);
    EXPECT_EQ(node.router().device_count(), 3u);
}

TEST(MeterNode, AnalogInputsReadTheSnapshotAndFlagWhatTheConfigurationDoesNotGive) {
    Device device(test_config(), std::nullopt);
    MeterNode node(device);
    device.run_inline(1.0);
    PointDatabase& db = node.database(1);
    EXPECT_NEAR(pv(db, ObjectType::AnalogInput, ai_of("ch3.current")), 10.0, 0.2);
    EXPECT_NEAR(pv(db, ObjectType::AnalogInput, ai_of("volts_an")), 120.0, 2.0);
    const ObjectId ok(ObjectType::AnalogInput, ai_of("ch3.current"));
    EXPECT_EQ(enum_property(db, ok, PropertyId::Reliability), 0u);
    // Logical circuit 44 has no members by default.
    const ObjectId lc44(ObjectType::AnalogInput, ai_of("lc44.kw"));
    EXPECT_EQ(enum_property(db, lc44, PropertyId::Reliability), 10u);  // configuration-error
    const auto flags = db.read(lc44, PropertyId::StatusFlags);
    const auto bits = std::get<PropertyData>(flags).items.at(0).at(0).as<BitString>();
    EXPECT_TRUE(bits->get(1)) << "fault";
    EXPECT_FLOAT_EQ(pv(db, ObjectType::AnalogInput, lc44.instance), 0.0F);
    // Analog inputs are read-only.
    EXPECT_EQ(write_real(db, ObjectType::AnalogInput, ok.instance, 1.0F),
              errors::kWriteAccessDenied);
}

TEST(MeterNode, SettingWritesGoThroughTheMetersValidation) {
    Device device(test_config(), std::nullopt);
    MeterNode node(device);
    PointDatabase& db = node.database(1);
    // AV164 = register 62017.
    EXPECT_FLOAT_EQ(pv(db, ObjectType::AnalogValue, 164), 0.0F);
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 164, 1.0F), std::nullopt);
    EXPECT_EQ(device.settings().panel(1).user_defined, 1);
    EXPECT_EQ(device.settings().panel(2).user_defined, 0);
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 164, 16.0F), errors::kValueOutOfRange);
    EXPECT_EQ(device.settings().panel(1).user_defined, 1);
    // CT size of channel 5: range, integers only; a refused write changes nothing.
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 8, 50.0F), std::nullopt);
    EXPECT_EQ(device.settings().panel(1).ct_size[4], 50);
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 8, 40000.0F), errors::kValueOutOfRange);
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 8, 12.5F), errors::kValueOutOfRange);
    EXPECT_EQ(device.settings().panel(1).ct_size[4], 50);
    PropertyValue text;
    text.ref.property = PropertyId::PresentValue;
    text.value = {Element::app(CharString{0, "50"})};
    EXPECT_EQ(db.write(ObjectId(ObjectType::AnalogValue, 8), text), errors::kInvalidDataType);
    // Thresholds in percent (register in 0.1 %).
    EXPECT_FLOAT_EQ(pv(db, ObjectType::AnalogValue, 102), 70.0F);
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 102, 75.5F), std::nullopt);
    EXPECT_EQ(device.settings().panel(1).hh_threshold, 755);
    // The sub-interval: 0 or 10..32767 (a rule beyond the range).
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 3, 5.0F), errors::kValueOutOfRange);
    // Panel 2 is its own device.
    EXPECT_EQ(write_real(node.database(2), ObjectType::AnalogValue, 8, 60.0F), std::nullopt);
    EXPECT_EQ(device.settings().panel(2).ct_size[4], 60);
    EXPECT_EQ(device.settings().panel(1).ct_size[4], 50);
    // The router's AV1 and AV2: the gateway settings, for the next start.
    EXPECT_FLOAT_EQ(pv(node.database(0), ObjectType::AnalogValue, 2), 50.0F);
    EXPECT_EQ(write_real(node.database(0), ObjectType::AnalogValue, 1, 60000.0F), std::nullopt);
    EXPECT_EQ(device.settings().gateway.device_id_offset, 60000);
    EXPECT_EQ(write_real(node.database(0), ObjectType::AnalogValue, 1, 4194058.0F),
              errors::kValueOutOfRange);
    EXPECT_EQ(write_real(node.database(0), ObjectType::AnalogValue, 2, 0.0F), std::nullopt);
    EXPECT_EQ(effective_router_net(device.settings().gateway), 5);
    EXPECT_EQ(node.router().virtual_network(), 50) << "takes effect at restart";
}

TEST(MeterNode, PowerUpCounterRtcAndResets) {
    Device device(test_config(), std::nullopt);
    MeterNode node(device);
    PointDatabase& db = node.database(1);
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 163, 77.0F), std::nullopt);
    EXPECT_EQ(device.power_up_counter(1), 77);
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 163, 40000.0F), errors::kValueOutOfRange);

    // RTC fields: BACnet has the clock while RTC_Control = 0.
    ASSERT_EQ(device.settings().gateway.rtc_control, 0);
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 257, 2031.0F), std::nullopt);  // year
    EXPECT_FLOAT_EQ(pv(db, ObjectType::AnalogValue, 257), 2031.0F);
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 258, 2.0F), std::nullopt);  // February
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 259, 31.0F), errors::kValueOutOfRange)
        << "31 February";
    ASSERT_TRUE(device.write_setting("gateway.rtc_control", int64_t{1}).ok());
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 259, 3.0F), errors::kWriteAccessDenied);

    // Resets: the codes of the register, on the channels it covers.
    device.run_inline(2.0);
    const uint32_t kwh3 = ai_of("ch3.kwh");
    ASSERT_GT(pv(db, ObjectType::AnalogInput, kwh3), 0.0F);
    const MeterObject* reset3 = nullptr;
    for (const auto* o : of_type(ObjectType::AnalogOutput)) {
        if (o->reg == 1128) reset3 = o;
    }
    ASSERT_TRUE(reset3);
    EXPECT_EQ(write_real(db, ObjectType::AnalogOutput, reset3->instance, 26013.0F, 8),
              errors::kValueOutOfRange)
        << "demand reset is a global code only";
    EXPECT_GT(pv(db, ObjectType::AnalogInput, kwh3), 0.0F);
    EXPECT_EQ(write_real(db, ObjectType::AnalogOutput, reset3->instance, 10203.0F, 8),
              std::nullopt);
    EXPECT_FLOAT_EQ(pv(db, ObjectType::AnalogInput, kwh3), 0.0F);
    EXPECT_FLOAT_EQ(pv(db, ObjectType::AnalogOutput, reset3->instance), 10203.0F);
    EXPECT_GT(pv(db, ObjectType::AnalogInput, ai_of("ch5.kwh")), 0.0F) << "other channels kept";
    // Relinquishing leaves the default (0: no command) in force.
    PropertyValue relinquish;
    relinquish.ref.property = PropertyId::PresentValue;
    relinquish.value = {Element::app(Null{})};
    relinquish.priority = 8;
    EXPECT_EQ(db.write(ObjectId(ObjectType::AnalogOutput, reset3->instance), relinquish),
              std::nullopt);
    EXPECT_FLOAT_EQ(pv(db, ObjectType::AnalogOutput, reset3->instance), 0.0F);
}

TEST(MeterNode, OverThresholdEventsDriveTheEventStateOfTheChannelCurrent) {
    // Channel 3 goes from 50 % to 80 % of its 20 A breaker for 2 s: high and
    // high-high latch, and stay latched when the current is back.
    Device device(test_config(R"(
[[simulation.event]]
at = 0.5
action = "ramp"
channel = 3
amps = 16.0
duration = 0.2
[[simulation.event]]
at = 2.5
action = "ramp"
channel = 3
amps = 10.0
duration = 0.2
)"),
                  std::nullopt);
    MeterNode node(device);
    PointDatabase& db = node.database(1);
    const ObjectId ai3(ObjectType::AnalogInput, ai_of("ch3.current"));
    EXPECT_EQ(db.event_state(ai3), EventState::Normal);
    device.run_inline(4.0);
    EXPECT_EQ(db.event_state(ai3), EventState::HighLimit);
    EXPECT_EQ(node.database(2).event_state(ai3), EventState::Normal) << "panel 2 untouched";
    // In GetEventInformation until acknowledged; High_Limit is the meter's (60 % of 20 A).
    const auto summaries = db.event_summaries();
    ASSERT_EQ(summaries.size(), 1u);
    EXPECT_EQ(summaries[0].object, ai3);
    const auto hl = std::get<PropertyData>(db.read(ai3, PropertyId::HighLimit));
    EXPECT_FLOAT_EQ(*hl.items[0][0].as<float>(), 12.0F);
    PropertyValue limit;
    limit.ref.property = PropertyId::HighLimit;
    limit.value = {Element::app(20.0F)};
    EXPECT_EQ(db.write(ai3, limit), errors::kWriteAccessDenied) << "the meter decides";
    // A 0 written to channel 3's event status (AV111) clears the latches: back to normal.
    EXPECT_EQ(write_real(db, ObjectType::AnalogValue, 111, 0.0F), std::nullopt);
    device.run_inline(0.2);
    EXPECT_EQ(db.event_state(ai3), EventState::Normal);
}

TEST(MeterNode, LatchedStatesComeBackWithThePowerUp) {
    TempDir dir;
    const auto cfg = test_config(R"(
[[simulation.event]]
at = 0.5
action = "ramp"
channel = 3
amps = 16.0
duration = 0.2
)");
    const ObjectId ai3(ObjectType::AnalogInput, ai_of("ch3.current"));
    {
        Device device(cfg, dir.path);
        MeterNode node(device);
        device.run_inline(4.0);
        ASSERT_EQ(node.database(1).event_state(ai3), EventState::HighLimit);
        device.checkpoint();
    }
    Device device(test_config(), dir.path);
    MeterNode node(device);
    EXPECT_EQ(node.database(1).event_state(ai3), EventState::HighLimit);
}

namespace {

struct FakeLink : Datalink {
    std::vector<Bytes> sent;
    void send_npdu(std::span<const uint8_t> npdu, const LinkAddress&) override {
        sent.emplace_back(npdu.begin(), npdu.end());
    }
    size_t max_apdu() const override { return 1476; }
    void inject(const Bytes& npdu) { deliver(npdu, LinkAddress{127, 0, 0, 1, 0xBA, 0xC1}, false); }
};

Bytes to_device(uint16_t net, uint8_t mac, const Bytes& apdu) {
    NpduHeader h;
    h.expecting_reply = true;
    if (mac) h.destination = NetAddress{net, {mac}};
    return encode_npdu(h, apdu);
}

Bytes confirmed(ConfirmedService s, const Bytes& data) {
    ConfirmedHeader h;
    h.invoke_id = 1;
    h.service = static_cast<uint8_t>(s);
    h.max_apdu_code = 5;
    return encode_confirmed_request(h, data);
}

Bytes write_identity(ObjectId device, PropertyId p, Element value) {
    WritePropertyRequest w;
    w.object = device;
    w.value.ref.property = p;
    w.value.value = {std::move(value)};
    return confirmed(ConfirmedService::WriteProperty, encode_write_property(w));
}

bool simple_ack(const FakeLink& link) {
    if (link.sent.empty()) return false;
    const auto n = decode_npdu(link.sent.back());
    if (!n) return false;
    const auto a = decode_apdu(n->payload);
    return a && a->type == PduType::SimpleAck;
}

}  // namespace

TEST(MeterNode, WrittenIdentitiesPersistAndNoLongerFollowTheOffset) {
    TempDir dir;
    {
        Device device(test_config(), dir.path);
        MeterNode node(device);
        FakeLink link;
        node.router().attach(link);
        link.inject(to_device(
            50, 1,
            write_identity(ObjectId(ObjectType::Device, 50001), PropertyId::ObjectIdentifier,
                           Element::app(ObjectId(ObjectType::Device, 777)))));
        EXPECT_TRUE(simple_ack(link));
        link.inject(
            to_device(0, 0,
                      write_identity(ObjectId(ObjectType::Device, 50000), PropertyId::ObjectName,
                                     Element::app(CharString{0, "Row C gateway"}))));
        EXPECT_TRUE(simple_ack(link));
        // The offset moves; it applies at the next start.
        ASSERT_TRUE(device.write_setting("gateway.device_id_offset", int64_t{60000}).ok());
        node.router().detach();
    }
    Device device(test_config(), dir.path);
    MeterNode node(device);
    EXPECT_EQ(node.config().panels[0].instance, 777u) << "written: stays";
    EXPECT_EQ(node.config().panels[0].name, "BCPME_1") << "name not written: follows";
    EXPECT_EQ(node.config().panels[1].instance, 60002u);
    EXPECT_EQ(node.config().router.instance, 60000u) << "router id not written: follows";
    EXPECT_EQ(node.config().router.name, "Row C gateway");
}

TEST(MeterNode, RecipientListsPersist) {
    TempDir dir;
    Destination d;
    d.recipient.device = ObjectId(ObjectType::Device, 1234);
    d.process_id = 9;
    d.confirmed = true;
    {
        Device device(test_config(), dir.path);
        MeterNode node(device);
        const auto elements = destination_elements(d);
        uint32_t failed = 0;
        EXPECT_EQ(node.database(2).add_list_element(
                      ObjectId(ObjectType::NotificationClass, kCurrentEventClass),
                      PropertyReference{PropertyId::RecipientList, kNoIndex}, elements, failed),
                  std::nullopt);
    }
    Device device(test_config(), dir.path);
    MeterNode node(device);
    const auto nc = node.database(2).notification_class(kCurrentEventClass);
    ASSERT_TRUE(nc);
    ASSERT_EQ(nc->recipients.size(), 1u);
    EXPECT_EQ(nc->recipients[0], d);
    EXPECT_TRUE(node.database(1).notification_class(kCurrentEventClass)->recipients.empty());
}

TEST(MeterNode, TimeSynchronisationSetsTheRtcWhenRtcControlSaysBacnet) {
    Device device(test_config(), std::nullopt);
    MeterNode node(device);
    FakeLink link;
    node.router().attach(link);
    const DateTime when{Date{126, 11, 24, 2}, Time{12, 34, 56, 0}};
    link.inject(to_device(0, 0,
                          encode_unconfirmed_request(UnconfirmedService::TimeSynchronization,
                                                     encode_time_sync(when))));
    EXPECT_TRUE(device.snapshot().rtc_set);
    EXPECT_EQ(device.snapshot().rtc, *rtc_seconds(when));
    EXPECT_EQ(*rtc_seconds(when), 1795523696);  // 2026-11-24T12:34:56Z
    // Local_Time follows the RTC.
    EXPECT_EQ(rtc_date_time(device.snapshot().rtc).time.minute, 34);
    // With RTC_Control = 1 (Modbus) it is ignored.
    ASSERT_TRUE(device.write_setting("gateway.rtc_control", int64_t{1}).ok());
    const DateTime later{Date{127, 1, 2, 6}, Time{1, 2, 3, 0}};
    link.inject(to_device(0, 0,
                          encode_unconfirmed_request(UnconfirmedService::UtcTimeSynchronization,
                                                     encode_time_sync(later))));
    EXPECT_EQ(device.snapshot().rtc, *rtc_seconds(when));
    node.router().detach();
}

TEST(MeterNode, RtcConversionsRefuseImpossibleDates) {
    EXPECT_FALSE(rtc_seconds(DateTime{Date{126, 2, 30, 0xFF}, Time{0, 0, 0, 0}}));
    EXPECT_FALSE(rtc_seconds(DateTime{Date{0xFF, 2, 3, 0xFF}, Time{0, 0, 0, 0}}));
    EXPECT_FALSE(rtc_seconds(DateTime{Date{126, 2, 3, 0xFF}, Time{24, 0, 0, 0}}));
    const auto t = rtc_seconds(DateTime{Date{100, 1, 1, 6}, Time{0, 0, 0, 0}});
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, 946684800);
    EXPECT_EQ(rtc_date_time(946684800).date.weekday, 6);  // 2000-01-01 was a Saturday
}

// ---------------------------------------------------------------- EDE and docs

TEST(Ede, OneRowPerObjectOfEachDeviceInTheLayout) {
    Settings s;
    std::array<DeviceIdentityOverride, 1 + kMaxPanels> overrides{};
    overrides[2].instance = 4242;
    const EdeFiles f = ede_files(s, overrides, "2026-11-24");
    EXPECT_EQ(f.project, "BCPME84");
    std::istringstream in(f.ede);
    std::string line;
    std::map<uint32_t, size_t> per_device;
    size_t rows = 0;
    bool av164 = false;
    while (std::getline(in, line)) {
        EXPECT_EQ(std::count(line.begin(), line.end(), ';'), 16) << line;
        if (line.empty() || line[0] == '#' || line.find("_OF_") != std::string::npos ||
            line.rfind("PROJECT_NAME", 0) == 0)
            continue;
        ++rows;
        std::vector<std::string> cells;
        std::stringstream ss(line);
        std::string c;
        while (std::getline(ss, c, ';'))
            cells.push_back(c);
        ++per_device[static_cast<uint32_t>(std::stoul(cells.at(1)))];
        if (cells.at(3) == "2" && cells.at(4) == "164" && cells.at(1) == "50001") {
            av164 = true;
            EXPECT_EQ(cells.at(15), "Modbus 62017");
            EXPECT_EQ(cells.at(9), "Y");
        }
    }
    EXPECT_TRUE(av164);
    EXPECT_EQ(per_device[50000], 3u);
    EXPECT_EQ(per_device[50001], panel_object_table().size() + 1 + panel_classes().size());
    EXPECT_EQ(per_device[4242], per_device[50001]) << "the written identity";
    EXPECT_NE(f.ede.find("VERSION_OF_LAYOUT;2.3"), std::string::npos);
    EXPECT_NE(f.units.find("3;amperes"), std::string::npos);
    EXPECT_NE(f.object_types.find("15;Notification Class"), std::string::npos);
    EXPECT_EQ(f.state_texts.rfind("#State Text Reference", 0), 0u);
}

TEST(Docs, ObjectListDocumentIsCurrent) {
    const std::filesystem::path path = OPENBCPM_SOURCE_DIR "/docs/bacnet-objects.md";
    const std::string generated = objects_markdown();
    if (const char* w = std::getenv("OPENBCPM_WRITE_DOCS"); w && std::string(w) == "1") {
        std::ofstream(path, std::ios::binary) << generated;
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_TRUE(text.str() == generated)
        << "docs/bacnet-objects.md is stale: run bacnet_unit_tests with OPENBCPM_WRITE_DOCS=1";
    EXPECT_NE(generated.find("| AV164 | User defined settings (62017)"), std::string::npos);
}
