// The product MIB's layout: where the guide's OIDs are, that every catalogue
// point is placed or left out by a stated rule, and the notifications.
#include "protocols/snmp/meter_mib.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace openbcpm::snmp::meter {
namespace {

const MibObject& object(const std::string& name) {
    const MibObject* o = MeterMib::instance().find(name);
    if (!o) throw std::runtime_error("no MIB object " + name);
    return *o;
}

TEST(MeterMib, PanelOnesUserDefinedSettingsSitWhereTheGuideSaysTheyDo) {
    // "spanels/panel1/p1Configuration/p1Setup/p1UserDefinedSettings"
    // (OID .1.3.6.1.4.1.3833.1.30.1.1.6.3.4.0)
    const MibObject& o = object("p1UserDefinedSettings");
    EXPECT_EQ(o.oid.child(0), *Oid::parse("1.3.6.1.4.1.3833.1.30.1.1.6.3.4.0"));
    EXPECT_EQ(o.write, WriteAs::Setting);
    ASSERT_EQ(o.rows.size(), 1u);
    EXPECT_EQ(o.rows[0]->id, "user_defined");
    EXPECT_EQ(o.rows[0]->integer.reg, 62017);
    EXPECT_EQ(object("p2UserDefinedSettings").oid, *Oid::parse("1.3.6.1.4.1.3833.1.30.1.2.6.3.4"));
}

TEST(MeterMib, EachPanelHasTheGuidesSixBranches) {
    std::set<std::string> names;
    for (const MibNode& n : MeterMib::instance().nodes())
        names.insert(n.name);
    for (const char* p : {"p1", "p2"}) {
        for (const char* b : {"Alarms", "VoltageInputs", "AuxInputs", "BranchInputs",
                              "FlexCircuits", "Configuration"}) {
            EXPECT_TRUE(names.count(std::string(p) + b)) << p << b;
        }
    }
    EXPECT_EQ(MeterMib::instance().nodes()[0].oid, *Oid::parse("1.3.6.1.4.1.3833.1.30.1"));
}

TEST(MeterMib, EveryCataloguePointIsServedOrLeftOutByARule) {
    std::map<const points::Point*, int> placed;
    for (const MibObject& o : MeterMib::instance().objects()) {
        if (o.panel != 1) continue;
        for (const points::Point* p : o.rows)
            if (p) ++placed[p];
    }
    size_t served = 0, excluded = 0;
    for (const points::Point& p : points::Catalogue::instance().points()) {
        const Exclusion why = MeterMib::exclusion(p);
        if (why == Exclusion::None) {
            EXPECT_EQ(placed[&p], 1) << p.id << " must be served exactly once";
            ++served;
        } else {
            EXPECT_EQ(placed.count(&p), 0u) << p.id << " is excluded but served";
            ++excluded;
        }
    }
    EXPECT_GT(served, 1500u);
    EXPECT_GT(excluded, 0u);
    // Nothing fell through to the catch-all group.
    for (const MibObject& o : MeterMib::instance().objects())
        EXPECT_EQ(o.name.find("Other"), std::string::npos) << o.name;
}

TEST(MeterMib, NamesAndOidsAreUniqueAndObjectsDoNotNest) {
    std::set<std::string> names;
    std::vector<Oid> oids;
    for (const MibObject& o : MeterMib::instance().objects()) {
        EXPECT_TRUE(names.insert(o.name).second) << o.name;
        EXPECT_LE(o.name.size(), 64u);
        oids.push_back(o.oid);
    }
    for (const MibTable& t : MeterMib::instance().tables()) {
        EXPECT_TRUE(names.insert(t.name).second) << t.name;
        EXPECT_TRUE(names.insert(t.entry).second) << t.entry;
        EXPECT_TRUE(names.insert(t.index).second) << t.index;
        oids.push_back(t.oid.child(1).child(1));
    }
    std::sort(oids.begin(), oids.end());
    for (size_t i = 1; i < oids.size(); ++i)
        EXPECT_FALSE(oids[i].starts_with(oids[i - 1])) << oids[i].to_string();
}

TEST(MeterMib, TablesHoldChannelsAndCircuitsAsRows) {
    const MibObject& current = object("p1BranchCurrent");
    EXPECT_TRUE(current.column);
    EXPECT_EQ(current.oid, *Oid::parse("1.3.6.1.4.1.3833.1.30.1.1.4.1.1.2"));
    ASSERT_EQ(current.rows.size(), 42u);
    EXPECT_EQ(current.rows[4]->id, "ch5.current");
    EXPECT_EQ(current.decimals, 3);
    EXPECT_EQ(current.units, "A");
    // Aux 4 is the neutral: no power, so no kW cell in row 4.
    const MibObject& aux_kw = object("p1AuxKw");
    ASSERT_EQ(aux_kw.rows.size(), 4u);
    EXPECT_EQ(aux_kw.rows[0]->id, "ch43.kw");
    EXPECT_EQ(aux_kw.rows[3], nullptr);
    EXPECT_EQ(object("p1FlexChannel2").rows[6]->id, "lc7.by_circuit.channel2");
    EXPECT_EQ(object("p1FlexKwPhase3").rows[0]->id, "lc1.kw_phase3");
    EXPECT_EQ(object("p1ChannelEventStatus").rows[45]->id, "ch46.event_status");
    EXPECT_EQ(object("p1ChannelCtSize").write, WriteAs::Setting);
    EXPECT_EQ(object("p1BranchKwh").repr, Representation::Energy);
    EXPECT_EQ(object("p1BranchReset").repr, Representation::Enumerated);
    EXPECT_EQ(object("p1VoltsLineLine").rows[2]->id, "volts_ca");
    EXPECT_EQ(object("p1HighHighThreshold").decimals, 1);
    EXPECT_EQ(object("p1HighHighThreshold").max, 1000);
    EXPECT_EQ(object("p1Location").repr, Representation::Text);
    EXPECT_EQ(object("p1ClockYear").write, WriteAs::ReadOnly);
}

TEST(MeterMib, ModuleTextDefinesEveryObjectOnce) {
    const std::string text = MeterMib::instance().module_text();
    EXPECT_EQ(text.find("OPENBCPM-BCPME-MIB DEFINITIONS ::= BEGIN"), text.find("OPENBCPM"));
    EXPECT_NE(text.find("p1UserDefinedSettings OBJECT-TYPE"), std::string::npos);
    EXPECT_NE(text.find("::= { p1Setup 4 }"), std::string::npos);
    EXPECT_NE(text.find("p1EventLatched NOTIFICATION-TYPE"), std::string::npos);
    EXPECT_EQ(text.substr(text.size() - 4), "END\n");
    for (const MibObject& o : MeterMib::instance().objects()) {
        const std::string def = "\n" + o.name + " OBJECT-TYPE";
        const auto at = text.find(def);
        EXPECT_NE(at, std::string::npos) << o.name;
        EXPECT_EQ(text.find(def, at + 1), std::string::npos) << o.name;
    }
}

TEST(MeterMib, EventLevelsByChannelAndBit) {
    EXPECT_EQ(event_level(3, event_bits::kHighHigh), 1);
    EXPECT_EQ(event_level(3, event_bits::kOff), 5);
    EXPECT_EQ(event_level(46, event_bits::kNonLatchingLow), 7);
    EXPECT_EQ(event_level(47, event_bits::kVoltageHighLatching), 8);
    EXPECT_EQ(event_level(49, event_bits::kVoltageLowNonLatching), 11);
    EXPECT_EQ(event_level(48, event_bits::kLowLow), 0);
    EXPECT_EQ(event_level(3, 0x0400), 0);
}

TEST(MeterMib, ALatchOnChannelThreeNotifiesWithChannelLevelValueAndStatus) {
    EventRecord e;
    e.panel = 1;
    e.channel = 3;
    e.kind = EventKind::Latched;
    e.bit = event_bits::kHighHigh;
    e.value = 16.0004;
    e.threshold = 14.0;
    const auto n = event_notification(e, 0x0103);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->trap_oid, *Oid::parse("1.3.6.1.4.1.3833.1.30.1.1.1.0.1"));
    ASSERT_EQ(n->varbinds.size(), 5u);
    EXPECT_EQ(n->varbinds[0].name, *Oid::parse("1.3.6.1.4.1.3833.1.30.1.1.1.5.1.0"));
    EXPECT_EQ(n->varbinds[0].value, Value(Gauge32{3}));
    EXPECT_EQ(n->varbinds[1].value, Value(int32_t{1}));
    EXPECT_EQ(n->varbinds[2].value, Value(int32_t{16000}));
    EXPECT_EQ(n->varbinds[3].value, Value(int32_t{14000}));
    EXPECT_EQ(n->varbinds[4].name, object("p1ChannelEventStatus").oid.child(3));
    EXPECT_EQ(n->varbinds[4].value, Value(int32_t{0x0103}));

    e.panel = 2;
    e.channel = 48;  // B-C
    e.kind = EventKind::NonLatchingOff;
    e.bit = event_bits::kVoltageLowNonLatching;
    const auto v = event_notification(e, 0);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->trap_oid, *Oid::parse("1.3.6.1.4.1.3833.1.30.1.2.1.0.4"));
    EXPECT_EQ(v->varbinds[4].name, object("p2VoltageEventStatus").oid.child(2));

    e.bit = 0x0400;  // no such level
    EXPECT_FALSE(event_notification(e, 0));
    e.bit = event_bits::kHigh;
    e.panel = 3;
    EXPECT_FALSE(event_notification(e, 0));
}

TEST(MeterMib, FixedPointRoundsAndClamps) {
    EXPECT_EQ(fixed_point(12.4996, 3), 12500);
    EXPECT_EQ(fixed_point(-0.85, 3), -850);
    EXPECT_EQ(fixed_point(119.96, 1), 1200);
    EXPECT_EQ(fixed_point(1e12, 3), 2147483647);
    EXPECT_EQ(fixed_point(-1e12, 3), -2147483647 - 1);
    EXPECT_EQ(fixed_point(std::numeric_limits<double>::quiet_NaN(), 3), 0);
}

}  // namespace
}  // namespace openbcpm::snmp::meter
