// Trends (src/history): the ring of windows wraps and stays bounded, minutes
// aggregate min/avg/max, the SQLite minute rows are pruned by age and by the
// row bound (the file's size stays bounded), and the recorder's queries join
// SQLite minutes and the ring's windows.
#include "history/trends.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>

#include "../temp_dir.hpp"

namespace openbcpm::history {
namespace {

TEST(WindowRing, KeepsTheNewestRowsAndWraps) {
    WindowRing ring(4, 2);
    EXPECT_EQ(ring.size(), 0u);
    for (int i = 0; i < 10; ++i) {
        float* v = ring.push(i);
        v[0] = static_cast<float>(i);
        v[1] = static_cast<float>(-i);
        EXPECT_EQ(ring.size(), std::min(i + 1, 4));
    }
    ASSERT_EQ(ring.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(ring.time(i), 6.0 + static_cast<double>(i));
        EXPECT_EQ(ring.value(i, 0), 6.0f + static_cast<float>(i));
        EXPECT_EQ(ring.value(i, 1), -6.0f - static_cast<float>(i));
    }
    EXPECT_EQ(ring.lower_bound(7.5), 2u);
    EXPECT_EQ(ring.lower_bound(0.0), 0u);
    EXPECT_EQ(ring.lower_bound(100.0), 4u);
}

TEST(WindowRing, ItsMemoryIsAllocatedOnceAndBounded) {
    WindowRing ring(18000, 200);
    const size_t bytes = ring.bytes();
    EXPECT_EQ(bytes, 18000u * 8u + 18000u * 200u * 4u);
    for (int i = 0; i < 50000; ++i)
        ring.push(i)[0] = 1.0f;
    EXPECT_EQ(ring.bytes(), bytes);
    EXPECT_EQ(ring.size(), 18000u);
    EXPECT_EQ(ring.time(0), 32000.0);
}

TEST(MinuteAggregator, MinAvgMaxPerMinute) {
    MinuteAggregator agg(1);
    // Minute 60..119: 1, 2, 6; minute 120..: 10.
    float v = 1;
    EXPECT_FALSE(agg.add(60.0, &v));
    v = 2;
    EXPECT_FALSE(agg.add(90.0, &v));
    v = 6;
    EXPECT_FALSE(agg.add(119.9, &v));
    v = 10;
    auto row = agg.add(120.0, &v);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->minute, 60);
    EXPECT_EQ(row->windows, 3u);
    EXPECT_FLOAT_EQ(row->min[0], 1.0f);
    EXPECT_FLOAT_EQ(row->avg[0], 3.0f);
    EXPECT_FLOAT_EQ(row->max[0], 6.0f);
    auto last = agg.take();
    ASSERT_TRUE(last);
    EXPECT_EQ(last->minute, 120);
    EXPECT_EQ(last->windows, 1u);
    EXPECT_FLOAT_EQ(last->avg[0], 10.0f);
    EXPECT_FALSE(agg.take());
}

std::vector<SeriesDef> layout(std::initializer_list<const char*> keys) {
    std::vector<SeriesDef> out;
    for (const char* k : keys)
        out.push_back({k, "A", Quantity::ChannelCurrent, 1, 1, 0});
    return out;
}

MinuteRow row(int64_t minute, size_t series, float base) {
    MinuteRow r;
    r.minute = minute;
    r.windows = 300;
    for (size_t i = 0; i < series; ++i) {
        r.min.push_back(base + static_cast<float>(i) - 1);
        r.avg.push_back(base + static_cast<float>(i));
        r.max.push_back(base + static_cast<float>(i) + 1);
    }
    return r;
}

TEST(TrendStore, WritesReadsBackByKeyAcrossLayouts) {
    test::TempDir dir;
    const auto file = dir.path / "trends.sqlite";
    {
        TrendStore store(file, {});
        ASSERT_TRUE(store.ok()) << store.error();
        ASSERT_TRUE(store.write(layout({"a", "b"}), {row(60, 2, 10), row(120, 2, 20)}));
        // The model changed: a new series before the old ones.
        ASSERT_TRUE(store.write(layout({"c", "b"}), {row(180, 2, 30)}));
    }
    TrendStore store(file, {});
    EXPECT_EQ(store.rows(), 3u);
    EXPECT_EQ(store.newest(), 180);
    auto rows = store.read({"b", "a"}, 0, 1000, 100);
    ASSERT_EQ(rows.minute.size(), 3u);
    EXPECT_EQ(rows.minute[0], 60);
    EXPECT_EQ(rows.windows[0], 300u);
    EXPECT_FLOAT_EQ(rows.avg[0][0], 11.0f);   // b, layout a,b
    EXPECT_FLOAT_EQ(rows.min[0][1], 20.0f);   // b
    EXPECT_FLOAT_EQ(rows.max[0][2], 32.0f);   // b, layout c,b
    EXPECT_FLOAT_EQ(rows.avg[1][0], 10.0f);   // a
    EXPECT_TRUE(std::isnan(rows.avg[1][2]));  // no a in layout c,b
    EXPECT_EQ(store.read({"a"}, 100, 150, 100).minute.size(), 1u);
    EXPECT_EQ(store.read({"a"}, 0, 1000, 2).minute.size(), 2u);  // the limit
}

TEST(TrendStore, PrunesByAge) {
    test::TempDir dir;
    TrendStore store(dir.path / "trends.sqlite", {.days = 1, .max_bytes = 1ull << 30});
    std::vector<MinuteRow> rows;
    for (int64_t m = 0; m < 3 * 1440; ++m)
        rows.push_back(row(m * 60, 1, 1));
    ASSERT_TRUE(store.write(layout({"a"}), rows));
    // A day before the newest minute, and the newest: 1441 rows.
    EXPECT_EQ(store.rows(), 1441u);
    auto kept = store.read({"a"}, 0, INT64_MAX, 10);
    EXPECT_EQ(kept.minute.front(), (3 * 1440 - 1) * 60 - 86400);
}

TEST(TrendStore, TheRowBoundKeepsTheFileSizeBounded) {
    test::TempDir dir;
    const auto file = dir.path / "trends.sqlite";
    const uint64_t bound = 1024 * 1024;  // 1 MiB
    const size_t series = 200;
    TrendStore store(file, {.days = 365, .max_bytes = bound});
    const uint64_t max_rows = store.max_rows(series);
    EXPECT_EQ(max_rows, bound / 4096);  // 2448 bytes a row: one a page
    // A week of minutes, one transaction a minute as the meter writes them.
    const auto keys = [&] {
        std::vector<SeriesDef> l;
        for (size_t i = 0; i < series; ++i)
            l.push_back({"s" + std::to_string(i), "A", Quantity::ChannelCurrent, 1, 1, 0});
        return l;
    }();
    uintmax_t largest = 0;
    for (int64_t m = 0; m < 3000; ++m) {
        ASSERT_TRUE(store.write(keys, {row(m * 60, series, static_cast<float>(m))}));
        if (m % 100 == 99) {
            std::error_code ec;
            largest = std::max(largest, std::filesystem::file_size(file, ec));
        }
    }
    EXPECT_EQ(store.rows(), max_rows);
    auto newest = store.read({"s0"}, 0, INT64_MAX, 1000000);
    EXPECT_EQ(newest.minute.back(), 2999 * 60);
    EXPECT_EQ(newest.minute.front(), (2999 - static_cast<int64_t>(max_rows) + 1) * 60);
    // Freed pages are reused: the file stays within the bound (plus SQLite's slack).
    EXPECT_LE(largest, bound + bound / 4);
    EXPECT_GT(largest, bound / 2);
}

TEST(TrendStore, AFileThatIsNotADatabaseIsSetAsideAndANewOneStarted) {
    test::TempDir dir;
    const auto file = dir.path / "trends.sqlite";
    {
        std::FILE* f = std::fopen(file.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        std::fputs("this is not an SQLite database, and it is long enough to have a header", f);
        std::fclose(f);
    }
    TrendStore store(file, {});
    EXPECT_TRUE(store.ok()) << store.error();
    EXPECT_TRUE(std::filesystem::exists(dir.path / "trends.sqlite.damaged"));
    EXPECT_TRUE(store.write(layout({"a"}), {row(60, 1, 1)}));
}

TEST(TrendStore, AFailingStoreRefusesWritesAndSaysWhy) {
    test::TempDir dir;
    const auto file = dir.path / "trends.sqlite";
    TrendStore store(file, {});
    ASSERT_TRUE(store.write(layout({"a"}), {row(60, 1, 1)}));
    // Another connection holds the write lock: the store's writes fail (after its busy timeout).
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_FALSE(store.write(layout({"a"}), {row(120, 1, 1)}));
    EXPECT_FALSE(store.ok());
    EXPECT_NE(store.error().find("locked"), std::string::npos) << store.error();
    EXPECT_EQ(store.failures(), 1u);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    EXPECT_TRUE(store.write(layout({"a"}), {row(180, 1, 1)}));
    EXPECT_TRUE(store.ok());
    EXPECT_EQ(store.rows(), 2u);
}

MeterSnapshot snapshot(uint64_t sequence, double time, double amps) {
    MeterSnapshot s;
    s.sequence = sequence;
    s.time = time;
    s.panel[0].present = true;
    s.panel[0].channel[0].present = true;
    s.panel[0].channel[0].current = amps;
    s.panel[0].channel[0].kw = amps / 10;
    s.panel[0].mains.kw = amps / 5;
    s.voltage.ln = {120, 121, 122};
    s.voltage.frequency = 60;
    s.voltage.frequency_valid = true;
    return s;
}

TEST(TrendRecorder, SeriesOfTheModel) {
    const auto keys = [] {
        std::vector<std::string> k;
        for (const auto& d : series_of(snapshot(1, 0, 0)))
            k.push_back(d.key);
        return k;
    }();
    EXPECT_EQ(keys, (std::vector<std::string>{"p1.ch1.current", "p1.ch1.kw", "p1.kw", "p1.kwh",
                                              "p1.pf", "v.an", "v.bn", "v.cn", "v.ab", "v.bc",
                                              "v.ca", "frequency"}));
}

TEST(TrendRecorder, EachWindowOnceMinutesToSqliteQueriesJoinBoth) {
    test::TempDir dir;
    const double wall = 1'800'000'000.0;  // a whole minute
    TrendOptions options;
    options.windows = 100;  // 20 s of 0.2 s windows
    options.file = dir.path / "trends.sqlite";
    {
        TrendRecorder rec(options);
        // 3 minutes of windows; each offered twice (the loop polls faster than windows come).
        for (uint64_t i = 1; i <= 900; ++i) {
            const auto s = snapshot(i, 0.2 * static_cast<double>(i - 1),
                                    static_cast<double>((i - 1) / 300 + 1));
            rec.record(s, wall);
            rec.record(s, wall + 2000);  // the host clock is ignored after the first window
        }
        rec.flush();
        EXPECT_EQ(rec.ring()->size(), 100u);
        // Minutes 0 and 1 ended; minute 2 is being built.
        auto q = rec.query({"p1.ch1.current", "nope", "frequency"}, wall, wall + 180, 0);
        ASSERT_EQ(q.keys, (std::vector<std::string>{"p1.ch1.current", "frequency"}));
        EXPECT_EQ(q.units, (std::vector<std::string>{"A", "Hz"}));
        EXPECT_EQ(q.from_minutes, 2u);
        EXPECT_EQ(q.from_memory, 100u);
        ASSERT_EQ(q.t.size(), 102u);
        EXPECT_EQ(q.t[0], wall);
        EXPECT_EQ(q.windows[0], 300u);
        EXPECT_FLOAT_EQ(q.avg[0][0], 1.0f);
        EXPECT_FLOAT_EQ(q.avg[0][1], 2.0f);
        EXPECT_FLOAT_EQ(q.avg[0][2], 3.0f);  // the ring
        EXPECT_FLOAT_EQ(q.avg[1][1], 60.0f);
        EXPECT_DOUBLE_EQ(q.t.back(), wall + 0.2 * 899);
        // Merged into 10 points: the mean weighted by windows.
        auto m = rec.query({"p1.ch1.current"}, 0, 1e10, 10);
        ASSERT_EQ(m.t.size(), 10u);
        uint32_t windows = 0;
        for (auto w : m.windows)
            windows += w;
        EXPECT_EQ(windows, 700u);
        rec.finish();  // the partial minute 2 is written at a clean stop
        EXPECT_EQ(rec.store()->failures(), 0u);
    }
    // Another start: the ring is empty, the minutes are there; new windows are
    // anchored after the newest stored minute even though the host clock is behind.
    TrendRecorder again(options);
    again.record(snapshot(1, 0, 7), wall);
    EXPECT_EQ(again.now(), wall + 180);
    auto q = again.query({"p1.ch1.current"}, 0, 1e10, 0);
    EXPECT_EQ(q.from_minutes, 3u);
    EXPECT_EQ(q.from_memory, 1u);
}

TEST(TrendRecorder, MemoryOnlyWithoutAFile) {
    TrendRecorder rec({.windows = 10, .file = {}, .store = {}});
    for (uint64_t i = 1; i <= 1000; ++i)
        rec.record(snapshot(i, 0.2 * static_cast<double>(i), 1), 0);
    rec.flush();
    EXPECT_EQ(rec.store(), nullptr);
    EXPECT_EQ(rec.query({"p1.kw"}, 0, 1e9, 0).t.size(), 10u);
}

}  // namespace
}  // namespace openbcpm::history
