// The GUI's writes as requests for the one write path (routes_gui.cpp): latch
// clears name the catalogue points a Modbus master writes, and a panel's CSV
// comes back as the same settings, with every refusal and bound.
#include "web/routes_gui.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "metering/snapshot.hpp"
#include "points/catalogue.hpp"
#include "points/write_plan.hpp"

namespace openbcpm::web::gui {
namespace {

using nlohmann::json;

TEST(GuiAlarmClear, ChannelVoltageAndPanelAreTheModbusWrites) {
    Settings s;
    auto w = alarm_clear(json{{"panel", 2}, {"channel", 10}}, s);
    ASSERT_TRUE(w.ok) << w.error;
    ASSERT_EQ(w.request.items.size(), 1u);
    EXPECT_EQ(w.request.source, points::WriteSource::Web);
    EXPECT_EQ(w.request.items[0].point->id, "ch10.event_status");
    EXPECT_EQ(w.request.items[0].point->integer.reg, 187);
    EXPECT_EQ(w.request.items[0].panel, 2);
    EXPECT_EQ(std::get<int64_t>(w.request.items[0].value), 0);
    EXPECT_EQ(w.detail, "panel 2 channel 10");

    w = alarm_clear(json{{"panel", 1}, {"voltage", "ca"}}, s);
    ASSERT_TRUE(w.ok) << w.error;
    EXPECT_EQ(w.request.items[0].point->integer.reg, 243);

    w = alarm_clear(json{{"panel", 1}}, s);
    ASSERT_TRUE(w.ok) << w.error;
    EXPECT_EQ(w.request.items[0].point->integer.reg, 295);
    EXPECT_EQ(std::get<int64_t>(w.request.items[0].value), points::reset_codes::kClearLatches);

    // The plan: a latch clear of every latched bit of channel 10; the whole
    // panel is the Global Reset's clear-latches command.
    auto snapshot = std::make_unique<MeterSnapshot>();
    points::WritePlan plan;
    w = alarm_clear(json{{"panel", 1}, {"channel", 10}}, s);
    ASSERT_TRUE(points::plan_writes(w.request, s, *snapshot, plan).ok());
    ASSERT_EQ(plan.latch_clears.size(), 1u);
    EXPECT_EQ(plan.latch_clears[0].channel, 10);
    w = alarm_clear(json{{"panel", 1}}, s);
    ASSERT_TRUE(points::plan_writes(w.request, s, *snapshot, plan).ok());
    ASSERT_EQ(plan.resets.size(), 1u);
    EXPECT_EQ(plan.resets[0].op, ResetOp::ClearLatches);
}

TEST(GuiAlarmClear, RefusesWhatNamesNoInput) {
    Settings s;
    s.model = *ModelInfo::from_channels(24);  // one panel, 24 branch channels
    for (const json& body :
         {json::object(), json{{"panel", 0}}, json{{"panel", 2}}, json{{"panel", "1"}},
          json{{"panel", 1}, {"channel", 0}}, json{{"panel", 1}, {"channel", 47}},
          json{{"panel", 1}, {"channel", 30}},  // not on a 24-channel model
          json{{"panel", 1}, {"channel", 1.5}}, json{{"panel", 1}, {"voltage", "AB"}},
          json{{"panel", 1}, {"voltage", 1}},
          json{{"panel", 1}, {"channel", 1}, {"voltage", "ab"}}}) {
        EXPECT_FALSE(alarm_clear(body, s).ok) << body.dump();
    }
    EXPECT_TRUE(alarm_clear(json{{"panel", 1}, {"channel", 43}}, s).ok) << "aux 1";
}

TEST(GuiSettingsCsv, ExportImportGivesTheSameSettings) {
    Settings s;
    s.panel(1).location = "Row \"C\", RPP-1A";
    s.panel(1).hh_threshold = 850;
    s.panel(1).breaker_size[6] = 30;
    const std::string csv = settings_csv(s, 1);
    EXPECT_EQ(csv.rfind("key,value\r\n", 0), 0u);
    EXPECT_NE(csv.find("\r\npanel.1.location,\"Row \"\"C\"\", RPP-1A\"\r\n"), std::string::npos);
    EXPECT_NE(csv.find("\r\npanel.1.hh_threshold,850\r\n"), std::string::npos);
    EXPECT_EQ(csv.find("panel.2."), std::string::npos);
    EXPECT_EQ(csv.find("gateway."), std::string::npos);

    // Onto factory settings: the plan makes them what was exported.
    Settings fresh;
    auto w = settings_csv_request(csv, fresh, 1);
    ASSERT_TRUE(w.ok) << w.error;
    EXPECT_EQ(w.lines.front(), 2);  // the header is line 1
    auto snapshot = std::make_unique<MeterSnapshot>();
    points::WritePlan plan;
    auto r = points::plan_writes(w.request, fresh, *snapshot, plan);
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(settings_csv(plan.trial, 1), csv);

    // No header, LF only, blank lines: the same request.
    std::string plain = csv.substr(csv.find('\n') + 1);
    std::string lf;
    for (char ch : plain) {
        if (ch != '\r') lf += ch;
        if (ch == '\n') lf += "\n";
    }
    auto w2 = settings_csv_request(lf, fresh, 1);
    ASSERT_TRUE(w2.ok) << w2.error;
    EXPECT_EQ(w2.request.items.size(), w.request.items.size());
}

TEST(GuiSettingsCsv, RefusalsNameTheirLine) {
    Settings s;
    auto refused = [&](const std::string& csv, const std::string& why) {
        auto w = settings_csv_request(csv, s, 1);
        EXPECT_FALSE(w.ok) << csv;
        EXPECT_NE(w.error.find(why), std::string::npos) << w.error;
    };
    refused("", "no settings");
    refused("key,value\r\n\r\n", "no settings");
    refused("panel.2.hh_threshold,1\n", "line 1: panel.2.hh_threshold is not a setting of panel 1");
    refused("gateway.modbus_address,3\n", "is not a setting of panel 1");
    refused("nonsense,3\n", "line 1: nonsense is not a setting");
    refused("panel.1.hh_threshold,1\npanel.1.hh_threshold,2\n",
            "line 2: panel.1.hh_threshold appears twice");
    refused("panel.1.location,\"open\n", "line 1: an unclosed quote");
    refused("panel.1.hh_threshold\n", "line 1: expected key,value");
    refused("panel.1.hh_threshold,1,2\n", "line 1: expected key,value");
    EXPECT_FALSE(settings_csv_request("panel.1.hh_threshold,1\n", s, 3).ok);

    // A value the table refuses: the write path says so, for the item of its line.
    auto w = settings_csv_request(
        "key,value\n\npanel.1.h_threshold,600\npanel.1.hh_threshold,abc\n", s, 1);
    ASSERT_TRUE(w.ok) << w.error;
    auto snapshot = std::make_unique<MeterSnapshot>();
    points::WritePlan plan;
    auto r = points::plan_writes(w.request, s, *snapshot, plan);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(w.lines.at(r.item), 4);
    EXPECT_EQ(r.message, "panel.1.hh_threshold takes an integer");
    EXPECT_TRUE(plan.settings.empty()) << "all or nothing";
    w = settings_csv_request("panel.1.hh_threshold,-1\n", s, 1);
    ASSERT_TRUE(w.ok);
    r = points::plan_writes(w.request, s, *snapshot, plan);
    EXPECT_EQ(r.message, "panel.1.hh_threshold must be 0 to 1000");
}

TEST(GuiSettingsCsv, AtMost1024Lines) {
    Settings s;
    std::string csv;
    for (int i = 0; i < 1024; ++i)
        csv += "\n";
    auto at_bound = settings_csv_request(csv + "panel.1.hh_threshold,1\n", s, 1);
    EXPECT_FALSE(at_bound.ok);
    EXPECT_NE(at_bound.error.find("at most 1024 lines"), std::string::npos) << at_bound.error;
    csv.pop_back();  // line 1024 holds the setting
    auto below = settings_csv_request(csv + "panel.1.hh_threshold,1\n", s, 1);
    EXPECT_TRUE(below.ok) << below.error;
}

}  // namespace
}  // namespace openbcpm::web::gui
