#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include "../temp_dir.hpp"
#include "config/config.hpp"
#include "storage/store.hpp"

using namespace openbcpm;

namespace {
using test::TempDir;

Config config_with(const std::string& text) {
    return parse_config(text, "t.toml");
}
}  // namespace

TEST(Store, SettingsMergeLastEditWins) {
    TempDir dir;
    {
        Store store(dir.path);
        // First start: the file's values seed the store.
        const Config c = config_with("[panel.1]\nlocation = \"From file\"\nhh_threshold = 650\n");
        Settings s = merge_settings(store, c.settings, c.explicit_settings, nullptr);
        EXPECT_EQ(s.panel(1).location, "From file");
        // A face edits the location and a setting the file does not mention.
        ASSERT_TRUE(
            persist_setting(&store, s, *find_setting("panel.1.location"), std::string("Edited"))
                .ok());
        ASSERT_TRUE(
            persist_setting(&store, s, *find_setting("panel.1.h_threshold"), int64_t{550}).ok());
    }
    {
        Store store(dir.path);
        // Same file again: the edits win.
        const Config c = config_with("[panel.1]\nlocation = \"From file\"\nhh_threshold = 650\n");
        Settings s = merge_settings(store, c.settings, c.explicit_settings, nullptr);
        EXPECT_EQ(s.panel(1).location, "Edited");
        EXPECT_EQ(s.panel(1).h_threshold, 550);
        EXPECT_EQ(s.panel(1).hh_threshold, 650);
    }
    {
        Store store(dir.path);
        // The file changed the location since: the file wins now.
        const Config c = config_with("[panel.1]\nlocation = \"New file\"\nhh_threshold = 650\n");
        Settings s = merge_settings(store, c.settings, c.explicit_settings, nullptr);
        EXPECT_EQ(s.panel(1).location, "New file");
        EXPECT_EQ(s.panel(1).h_threshold, 550);
    }
    {
        Store store(dir.path);
        // The file no longer sets hh_threshold, which nobody edited: back to factory.
        const Config c = config_with("[panel.1]\nlocation = \"New file\"\n");
        Settings s = merge_settings(store, c.settings, c.explicit_settings, nullptr);
        EXPECT_EQ(s.panel(1).hh_threshold, 700);
        store.clear_settings();  // factory reset
        s = merge_settings(store, Config{}.settings, {}, nullptr);
        EXPECT_EQ(s.panel(1).location, "Location");
        EXPECT_EQ(s.panel(1).h_threshold, 600);
    }
}

TEST(Store, CorruptStoredSettingIsIgnoredWithAWarning) {
    TempDir dir;
    {
        Store store(dir.path);
        store.save_setting("panel.1.hh_threshold", int64_t{5000}, std::nullopt);  // out of range
        store.save_setting("panel.1.location", std::string("ok"), std::nullopt);
    }
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((dir.path / "openbcpm.db").c_str(), &db), SQLITE_OK);
        sqlite3_exec(db,
                     "INSERT INTO settings(key, value, config_seed) VALUES('panel.1.h_threshold', "
                     "'abc', NULL)",
                     nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
    Store store(dir.path);
    std::vector<std::string> warnings;
    Settings s = merge_settings(store, Settings{}, {}, &warnings);
    EXPECT_EQ(s.panel(1).hh_threshold, 700);
    EXPECT_EQ(s.panel(1).h_threshold, 600);
    EXPECT_EQ(s.panel(1).location, "ok");
    EXPECT_EQ(warnings.size(), 1u);
}

TEST(Store, CheckpointRoundTripsEveryNonVolatileValue) {
    TempDir dir;
    MeterSnapshot a;
    a.panel[0].channel[4].kwh = 12.345678;
    a.panel[1].channel[45].max_current = 3.5;
    a.panel[0].logical[2].max_kw_demand = 7.25;
    a.panel[1].three_phase[13].max_current_demand = 1.5;
    a.panel[0].mains.max_kw = 99.0;
    a.panel[0].events.status[7] = event_bits::kHigh | event_bits::kNonLatchingHigh;
    a.panel[0].events.global_counter[3] = 17;
    a.panel[1].events.recent_latching_channel = 44;
    {
        Store store(dir.path);
        MeterSnapshot empty;
        EXPECT_FALSE(store.load_meter_state(empty));
        store.checkpoint(a);
        a.panel[0].channel[4].kwh = 12.5;
        store.checkpoint(a);
    }
    Store store(dir.path);
    MeterSnapshot b;
    ASSERT_TRUE(store.load_meter_state(b));
    EXPECT_DOUBLE_EQ(b.panel[0].channel[4].kwh, 12.5);
    EXPECT_DOUBLE_EQ(b.panel[1].channel[45].max_current, 3.5);
    EXPECT_DOUBLE_EQ(b.panel[0].logical[2].max_kw_demand, 7.25);
    EXPECT_DOUBLE_EQ(b.panel[1].three_phase[13].max_current_demand, 1.5);
    EXPECT_DOUBLE_EQ(b.panel[0].mains.max_kw, 99.0);
    EXPECT_EQ(b.panel[0].events.status[7], event_bits::kHigh | event_bits::kNonLatchingHigh);
    EXPECT_EQ(b.panel[0].events.global_counter[3], 17);
    EXPECT_EQ(b.panel[1].events.recent_latching_channel, 44);
}

TEST(Store, EventHistoryIsBounded) {
    TempDir dir;
    Store store(dir.path);
    std::vector<EventRecord> records(25);
    for (size_t i = 0; i < records.size(); ++i) {
        records[i].channel = static_cast<uint8_t>(i + 1);
        records[i].time = static_cast<double>(i);
    }
    store.append_events(records.data(), records.size(), 1000, 10);
    auto events = store.load_events(100);
    ASSERT_EQ(events.size(), 10u);
    EXPECT_EQ(events.front().record.channel, 25);  // newest first
    EXPECT_EQ(events.back().record.channel, 16);
    store.clear_events();
    EXPECT_TRUE(store.load_events(100).empty());
}

TEST(Store, CountersTextsAndFactoryReset) {
    TempDir dir;
    Store store(dir.path);
    EXPECT_FALSE(store.load_counter("p1.power_up"));
    store.save_counter("p1.power_up", 3);
    EXPECT_EQ(store.load_counter("p1.power_up"), 3);
    store.save_text("web.users", "{}");
    EXPECT_EQ(store.load_text("web.users"), "{}");
    MeterSnapshot s;
    s.panel[0].channel[0].kwh = 1.0;
    store.checkpoint(s);
    store.clear_all_but_settings();
    EXPECT_FALSE(store.load_counter("p1.power_up"));
    EXPECT_FALSE(store.load_text("web.users"));
    MeterSnapshot t;
    EXPECT_FALSE(store.load_meter_state(t));
}

TEST(Store, RefusesAnUnusableDirectory) {
    EXPECT_THROW(Store("/proc/openbcpm-cannot-exist"), StoreError);
}
