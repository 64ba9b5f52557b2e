// The faces take every identity from the catalogue's pins: a presented point
// without a pin, a pin on a point a face does not present, or two points on
// one identity stop the table from being built, naming the point; a point
// added anywhere in the catalogue moves nothing.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "points/catalogue.hpp"
#include "protocols/bacnet/meter_objects.hpp"
#include "protocols/snmp/meter_mib.hpp"

using namespace openbcpm;

namespace {

std::vector<points::Point> catalogue_copy() {
    return points::Catalogue::instance().points();
}

points::Point& at(std::vector<points::Point>& points, const std::string& id) {
    for (points::Point& p : points)
        if (p.id == id) return p;
    throw std::logic_error("no point " + id);
}

// The message of the std::logic_error that f throws ("" when it does not).
template <typename F>
std::string logic_error_of(F&& f) {
    try {
        f();
    } catch (const std::logic_error& e) {
        return e.what();
    }
    return "";
}

std::string bacnet_error(const std::vector<points::Point>& points) {
    return logic_error_of([&] { bacnet::build_panel_objects(points); });
}

std::string mib_error(const std::vector<points::Point>& points) {
    return logic_error_of([&] { snmp::meter::MeterMib mib(points); });
}

std::string object_of(const std::vector<bacnet::MeterObject>& objects, const std::string& id) {
    for (const bacnet::MeterObject& o : objects)
        if (o.point && o.point->id == id)
            return bacnet::object_type_abbreviation(o.type) + std::to_string(o.instance);
    return "";
}

}  // namespace

TEST(Pins, TheFacesTablesAreTheCataloguesPins) {
    for (const bacnet::MeterObject& o : bacnet::panel_object_table()) {
        ASSERT_NE(o.point, nullptr);
        EXPECT_EQ(o.instance, o.point->bacnet.instance) << o.point->id;
    }
    const auto& gateway = points::Catalogue::instance().gateway_points();
    ASSERT_EQ(bacnet::router_object_table().size(), gateway.size());
    EXPECT_EQ(object_of(bacnet::router_object_table(), "gateway.device_id_offset"), "AV1");
    EXPECT_EQ(object_of(bacnet::router_object_table(), "gateway.virt_router_net"), "AV2");
    for (const auto& o : snmp::meter::MeterMib::instance().objects()) {
        for (size_t r = 0; r < o.rows.size(); ++r) {
            if (!o.rows[r]) continue;
            const points::SnmpPin& pin = o.rows[r]->snmp;
            EXPECT_EQ(o.name, "p" + std::to_string(o.panel) + pin.descriptor) << o.rows[r]->id;
            EXPECT_EQ(o.oid.arcs().back(), pin.arc) << o.rows[r]->id;
            EXPECT_EQ(o.column ? r + 1 : 0, pin.row) << o.rows[r]->id;
        }
    }
}

TEST(Pins, APresentedPointWithoutAPinIsRefused) {
    auto points = catalogue_copy();
    at(points, "ch5.current").bacnet = {};
    EXPECT_NE(bacnet_error(points).find("ch5.current"), std::string::npos) << bacnet_error(points);
    points = catalogue_copy();
    at(points, "lc7.kw_phase2").snmp = {};
    EXPECT_NE(mib_error(points).find("lc7.kw_phase2"), std::string::npos) << mib_error(points);
    auto gateway = points::Catalogue::instance().gateway_points();
    gateway.at(1).bacnet = {};
    EXPECT_NE(logic_error_of([&] {
                  bacnet::build_router_objects(gateway);
              }).find("gateway.virt_router_net"),
              std::string::npos);
}

TEST(Pins, APinOnAPointTheFaceDoesNotPresentIsRefused) {
    auto points = catalogue_copy();
    at(points, "ch5.current_scale").bacnet = {points::ObjectKind::AnalogInput, 3294};
    EXPECT_NE(bacnet_error(points).find("ch5.current_scale"), std::string::npos)
        << bacnet_error(points);
    points = catalogue_copy();
    at(points, "2ph3.kw").snmp = {points::MibGroup::Branch, 16, 3, "BranchLegacyKw"};
    EXPECT_NE(mib_error(points).find("2ph3.kw"), std::string::npos) << mib_error(points);
    // A pin of the wrong object type: a measurement pinned as an AV.
    points = catalogue_copy();
    at(points, "ch5.kw").bacnet = {points::ObjectKind::AnalogValue, 263};
    EXPECT_NE(bacnet_error(points).find("ch5.kw"), std::string::npos) << bacnet_error(points);
}

TEST(Pins, TwoPointsOnOneIdentityAreRefused) {
    auto points = catalogue_copy();
    at(points, "ch2.current").bacnet = at(points, "ch1.current").bacnet;
    std::string e = bacnet_error(points);
    EXPECT_NE(e.find("ch1.current"), std::string::npos) << e;
    EXPECT_NE(e.find("ch2.current"), std::string::npos) << e;
    // An AV on the instance of another AV (the case of AV164, register 62017).
    points = catalogue_copy();
    at(points, "ch1.phase").bacnet = at(points, "user_defined").bacnet;
    e = bacnet_error(points);
    EXPECT_NE(e.find("user_defined"), std::string::npos) << e;
    EXPECT_NE(e.find("ch1.phase"), std::string::npos) << e;

    points = catalogue_copy();
    at(points, "ch2.kw").snmp.row = 1;  // ch1.kw's row
    e = mib_error(points);
    EXPECT_NE(e.find("ch1.kw"), std::string::npos) << e;
    EXPECT_NE(e.find("ch2.kw"), std::string::npos) << e;
    // One arc, two descriptors; one descriptor, two arcs.
    points = catalogue_copy();
    at(points, "ch2.kw").snmp.descriptor = "BranchRealPower";
    EXPECT_NE(mib_error(points).find("ch2.kw"), std::string::npos) << mib_error(points);
    points = catalogue_copy();
    at(points, "frequency").snmp.descriptor = "VoltsLineNeutralAverage";
    EXPECT_NE(mib_error(points).find("frequency"), std::string::npos) << mib_error(points);
    // A row outside the table, a row on a scalar.
    points = catalogue_copy();
    at(points, "ch2.kw").snmp.row = 43;
    EXPECT_NE(mib_error(points).find("ch2.kw"), std::string::npos) << mib_error(points);
    points = catalogue_copy();
    at(points, "frequency").snmp.row = 1;
    EXPECT_NE(mib_error(points).find("frequency"), std::string::npos) << mib_error(points);
}

// What numbering by order broke: a writable point added below register 62017
// (and a measurement added among the first points) renumbers nothing.
TEST(Pins, APointAddedAnywhereMovesNothing) {
    auto points = catalogue_copy();
    points::Point setting = at(points, "hh_delay");
    setting.id = "new_delay";
    setting.name = "A new delay";
    setting.integer.reg = 180;
    setting.bacnet = {points::ObjectKind::AnalogValue, 263};
    setting.snmp = {points::MibGroup::EventConfig, 19, 0, "NewDelay"};
    points::Point measurement = at(points, "frequency");
    measurement.id = "new_frequency";
    measurement.name = "A new frequency";
    measurement.bacnet = {points::ObjectKind::AnalogInput, 3294};
    measurement.snmp = {points::MibGroup::VoltageSummary, 4, 0, "NewFrequency"};
    points.insert(points.begin() + 3, measurement);
    points.insert(points.begin() + 1, setting);

    const auto objects = bacnet::build_panel_objects(points);
    EXPECT_EQ(object_of(objects, "user_defined"), "AV164");
    EXPECT_EQ(object_of(objects, "new_delay"), "AV263");
    EXPECT_EQ(object_of(objects, "new_frequency"), "AI3294");
    EXPECT_EQ(object_of(objects, "firmware_rs"), "AI3");
    ASSERT_EQ(objects.size(), bacnet::panel_object_table().size() + 2);
    for (const bacnet::MeterObject& o : bacnet::panel_object_table())
        EXPECT_EQ(object_of(objects, o.point->id),
                  object_of(bacnet::panel_object_table(), o.point->id));
    const snmp::meter::MeterMib mib(points);
    ASSERT_NE(mib.find("p1NewDelay"), nullptr);
    EXPECT_EQ(mib.find("p1NewDelay")->oid.to_string(), "1.3.6.1.4.1.3833.1.30.1.1.6.5.19");
    for (const auto& o : snmp::meter::MeterMib::instance().objects()) {
        const auto* now = mib.find(o.name);
        ASSERT_NE(now, nullptr) << o.name;
        EXPECT_EQ(now->oid.to_string(), o.oid.to_string()) << o.name;
    }
}
