// The one unit table (points/units.hpp) and the quantities read off the
// catalogue (points::quantities), and the snapshot JSON built from them.
#include "points/units.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "model/fixed_model.hpp"
#include "model/snapshot_json.hpp"
#include "points/catalogue.hpp"
#include "protocols/bacnet/enums.hpp"

using namespace openbcpm;
using namespace openbcpm::points;

namespace {

std::vector<std::string> keys(QuantityOf of) {
    std::vector<std::string> out;
    for (const Quantity& q : quantities(of))
        out.push_back(q.key);
    return out;
}

}  // namespace

TEST(UnitTable, EveryUnitOnceInOrder) {
    const auto table = unit_table();
    ASSERT_EQ(table.size(), static_cast<size_t>(Unit::Exponent) + 1);
    for (size_t i = 0; i < table.size(); ++i) {
        EXPECT_EQ(static_cast<size_t>(table[i].unit), i);
        EXPECT_EQ(&unit_info(table[i].unit), &table[i]);
        EXPECT_EQ(unit_symbol(table[i].unit), table[i].symbol);
    }
}

TEST(UnitTable, BacnetCodesAreTheStandardsEnumeration) {
    // The codes the BACnet face sends (protocols/bacnet/enums.hpp, clause 21).
    namespace u = bacnet::units;
    EXPECT_EQ(unit_info(Unit::Amps).bacnet, u::kAmperes);
    EXPECT_EQ(unit_info(Unit::Kilowatts).bacnet, u::kKilowatts);
    EXPECT_EQ(unit_info(Unit::KilovoltAmps).bacnet, u::kKilovoltAmperes);
    EXPECT_EQ(unit_info(Unit::KilowattHours).bacnet, u::kKilowattHours);
    EXPECT_EQ(unit_info(Unit::Volts).bacnet, u::kVolts);
    EXPECT_EQ(unit_info(Unit::Hertz).bacnet, u::kHertz);
    EXPECT_EQ(unit_info(Unit::Degrees).bacnet, u::kDegreesPhase);
    EXPECT_EQ(unit_info(Unit::PowerFactor).bacnet, u::kPowerFactor);
    EXPECT_EQ(unit_info(Unit::PercentTenths).bacnet, u::kPercent);
    EXPECT_EQ(unit_info(Unit::Seconds).bacnet, u::kSeconds);
    for (Unit x : {Unit::None, Unit::Count, Unit::Bits, Unit::Text, Unit::Exponent})
        EXPECT_EQ(unit_info(x).bacnet, u::kNoUnits);
    EXPECT_EQ(bacnet_units_name(u::kAmperes), "amperes");
    EXPECT_EQ(bacnet_units_name(u::kNoUnits), "no-units");
    EXPECT_EQ(bacnet_units_name(u::kPercent), "percent");
    EXPECT_EQ(bacnet_units_name(u::kWatts), "units-47");  // no catalogue unit has it
}

TEST(UnitTable, TextsOfEachFace) {
    EXPECT_EQ(unit_info(Unit::PercentTenths).symbol, "0.1%");
    EXPECT_EQ(unit_info(Unit::PercentTenths).snmp, "%");
    EXPECT_EQ(unit_info(Unit::Degrees).symbol, "deg");
    EXPECT_EQ(unit_info(Unit::Degrees).display, "\u00b0");
    EXPECT_EQ(unit_info(Unit::Degrees).snmp, "degrees");
    EXPECT_EQ(unit_info(Unit::Seconds).snmp, "seconds");
    EXPECT_EQ(unit_info(Unit::PowerFactor).display, "");
    EXPECT_EQ(unit_info(Unit::PowerFactor).snmp, "");
    EXPECT_EQ(unit_info(Unit::Kilowatts).prometheus, "watts");
    EXPECT_EQ(unit_info(Unit::Kilowatts).prometheus_factor, 1000.0);
    EXPECT_EQ(unit_info(Unit::KilovoltAmps).prometheus, "voltamperes");
    EXPECT_EQ(unit_info(Unit::KilowattHours).prometheus, "kilowatt_hours");
    EXPECT_EQ(unit_info(Unit::Amps).prometheus_factor, 1.0);
    // The digits the GUI shows.
    EXPECT_EQ(unit_info(Unit::Amps).decimals, 2);
    EXPECT_EQ(unit_info(Unit::Kilowatts).decimals, 3);
    EXPECT_EQ(unit_info(Unit::Volts).decimals, 1);
}

TEST(Quantities, ReadOffTheCatalogue) {
    EXPECT_EQ(
        keys(QuantityOf::Channel),
        (std::vector<std::string>{"current", "kw", "kva", "pf", "angle", "kwh", "kwh_snapshot",
                                  "current_demand", "kw_demand", "max_current", "max_kw",
                                  "max_current_demand", "max_kw_demand", "event_status"}));
    EXPECT_EQ(keys(QuantityOf::Circuit),
              (std::vector<std::string>{"kw", "kva", "pf", "current", "kwh", "kwh_snapshot",
                                        "kw_demand", "current_demand", "max_kw", "max_kw_demand",
                                        "max_current", "max_current_demand"}));
    EXPECT_EQ(
        keys(QuantityOf::Voltage),
        (std::vector<std::string>{"an", "bn", "cn", "ln_average", "ab", "bc", "ca", "ll_average",
                                  "frequency", "angle_a", "angle_b", "angle_c"}));
    EXPECT_EQ(keys(QuantityOf::Mains),
              (std::vector<std::string>{"kw", "kva", "pf", "current", "kwh", "kwh_snapshot",
                                        "kw_demand", "max_kw", "max_kw_demand"}));
    // Names and units are the points' own.
    for (QuantityOf of :
         {QuantityOf::Channel, QuantityOf::Circuit, QuantityOf::Mains, QuantityOf::Voltage}) {
        for (const Quantity& q : quantities(of)) {
            const std::string prefix = of == QuantityOf::Channel   ? "ch1."
                                       : of == QuantityOf::Circuit ? "lc1."
                                       : of == QuantityOf::Mains   ? "mains."
                                                                   : "";
            if (of == QuantityOf::Voltage) continue;
            const Point* p = Catalogue::instance().find(prefix + q.key);
            ASSERT_NE(p, nullptr) << prefix << q.key;
            EXPECT_EQ(p->unit, q.unit) << q.key;
            EXPECT_NE(p->name.find(q.name), std::string::npos) << q.key;
        }
    }
    const Quantity& kw = quantities(QuantityOf::Channel)[1];
    EXPECT_EQ(kw.name, "real power");
    EXPECT_EQ(kw.unit, Unit::Kilowatts);
    EXPECT_EQ(quantity_label(kw), "Real power");
    EXPECT_EQ(quantities(QuantityOf::Voltage)[0].name, "Voltage A-N");
    EXPECT_EQ(quantities(QuantityOf::Voltage)[10].unit, Unit::Degrees);
}

TEST(SnapshotJson, KeysAndValuesAreTheCataloguesQuantities) {
    Settings settings;
    MeterSnapshot snap{};
    PanelReadings& p = snap.panel[0];
    p.present = true;
    ChannelReadings& r = p.channel[6];
    r.present = true;
    r.phase = 1;
    r.current = 12.5;
    r.kw = 1.25;
    r.max_kw_demand = 3.5;
    p.events.status[6] = 0x11;
    p.mains.kw = 7.0;
    p.mains.valid = true;
    snap.voltage.ln[1] = 121.0;
    snap.voltage.angle[2] = 240.0;
    snap.voltage.frequency = 60.0;
    const nlohmann::json j = snapshot_json(snap, settings);
    const nlohmann::json& panel = j["panels"][0];
    ASSERT_EQ(panel["channels"].size(), 1u);
    const nlohmann::json& c = panel["channels"][0];
    std::set<std::string> got;
    for (const auto& [k, v] : c.items())
        got.insert(k);
    std::set<std::string> want{"channel", "aux", "phase"};
    for (const std::string& k : keys(QuantityOf::Channel))
        want.insert(k);
    EXPECT_EQ(got, want);
    EXPECT_EQ(c["channel"], 7);
    EXPECT_EQ(c["phase"], "B");
    EXPECT_EQ(c["current"], 12.5);
    EXPECT_EQ(c["kw"], 1.25);
    EXPECT_EQ(c["max_kw_demand"], 3.5);
    EXPECT_EQ(c["event_status"], 0x11);
    EXPECT_TRUE(c["event_status"].is_number_integer());
    EXPECT_EQ(panel["mains"]["kw"], 7.0);
    EXPECT_EQ(panel["mains"].size(), keys(QuantityOf::Circuit).size() + 2);  // + channels, valid
    EXPECT_EQ(panel["voltage"]["bn"], 121.0);
    EXPECT_EQ(panel["voltage"]["angle_c"], 240.0);
    EXPECT_EQ(panel["voltage"]["frequency"], 60.0);
    EXPECT_EQ(panel["voltage"].size(), keys(QuantityOf::Voltage).size());
}

TEST(Quantities, PrometheusNames) {
    std::vector<std::string> names;
    for (const Quantity& q : quantities(QuantityOf::Channel))
        names.push_back(prometheus_name("channel", q));
    // The names /metrics had before they came from the catalogue stay.
    EXPECT_EQ(names, (std::vector<std::string>{
                         "bcpm_channel_current_amperes", "bcpm_channel_power_watts",
                         "bcpm_channel_apparent_power_voltamperes", "bcpm_channel_power_factor",
                         "bcpm_channel_angle_degrees", "bcpm_channel_energy_kilowatt_hours_total",
                         "bcpm_channel_energy_snapshot_kilowatt_hours",
                         "bcpm_channel_current_demand_amperes", "bcpm_channel_power_demand_watts",
                         "bcpm_channel_max_current_amperes", "bcpm_channel_max_power_watts",
                         "bcpm_channel_max_current_demand_amperes",
                         "bcpm_channel_max_power_demand_watts", "bcpm_channel_event_status"}));
    EXPECT_EQ(prometheus_name("mains", quantities(QuantityOf::Mains)[0]), "bcpm_mains_power_watts");
    EXPECT_TRUE(prometheus_counter(quantities(QuantityOf::Channel)[5]));
    EXPECT_FALSE(prometheus_counter(quantities(QuantityOf::Channel)[6]));
}

// The fixed model the face fuzzers and tests run against: a metered snapshot of
// the embedded panel, and writes through the one write plan.
TEST(FixedModel, MeteredSnapshotAndThePlansWrites) {
    FixedModel model(default_config());
    const MeterSnapshot& snap = model.snapshot();
    EXPECT_GE(snap.time, 0.5 - 1e-9);
    EXPECT_GT(snap.voltage.ln[0], 100.0);
    const nlohmann::json j = snapshot_json(snap, model.settings());
    EXPECT_EQ(j["panels"].size(), static_cast<size_t>(model.settings().model.panels));
    EXPECT_GT(j["panels"][0]["voltage"]["an"].get<double>(), 100.0);

    const Point* hh = Catalogue::instance().find("hh_threshold");
    ASSERT_NE(hh, nullptr);
    WriteRequest ok;
    ok.items.push_back({hh, nullptr, 1, int64_t{725}, 1.0});
    EXPECT_TRUE(model.submit(ok).ok());
    EXPECT_EQ(model.settings().panel(1).hh_threshold, 725);
    WriteRequest refused;
    refused.items.push_back({hh, nullptr, 1, int64_t{1001}, 1.0});
    EXPECT_FALSE(model.submit(refused).ok());
    EXPECT_EQ(model.settings().panel(1).hh_threshold, 725);  // nothing changed
    EXPECT_EQ(model.batches, 1);
    const Point* reset = Catalogue::instance().find("global_reset");
    ASSERT_NE(reset, nullptr);
    WriteRequest clear;
    clear.items.push_back({reset, nullptr, 1, int64_t{reset_codes::kClearEnergy}, 1.0});
    EXPECT_TRUE(model.submit(clear).ok());
    EXPECT_EQ(model.resets.size(), 1u);
    model.put_back();
    EXPECT_EQ(model.settings().panel(1).hh_threshold,
              default_config().settings.panel(1).hh_threshold);
    EXPECT_TRUE(model.resets.empty());
}
