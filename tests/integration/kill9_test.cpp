// The storage promise: a kill -9 at any moment loses at most one checkpoint
// (1 s) of energy, never corrupts the store, and energy never goes backwards.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>

#include "process.hpp"

using namespace openbcpm::test;

namespace {

// One 10 A, PF 1 load at 120 V (1.2 kW) and a meter at 20x real time.
constexpr double kSpeed = 20.0;
constexpr double kKw = 1.2;

const char* kConfig = R"(
[device]
channels = 42
[faces]
modbus_tcp = false
web = false
[panel.1]
subinterval_seconds = 10
[simulation]
speed = 20.0
voltage_noise = 0.0
current_noise = 0.0
[[simulation.load]]
channel = 1
amps = 10.0
pf = 1.0
)";

struct Stored {
    double kwh = 0.0;
    double meter_time = 0.0;
    double max_current = 0.0;
    std::string integrity;
};

Stored read_store(const std::filesystem::path& dir) {
    Stored s;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((dir / "openbcpm.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK)
        return s;
    auto value = [&](const char* key) {
        double v = -1.0;
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "SELECT value FROM meter_nv WHERE key = ?1", -1, &st, nullptr);
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
        return v;
    };
    s.kwh = value("p1.c1.kwh");
    s.meter_time = value("meter_time");
    s.max_current = value("p1.c1.max_current");
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
    if (sqlite3_step(st) == SQLITE_ROW)
        s.integrity = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return s;
}

}  // namespace

TEST(Storage, KillNineLosesAtMostOneCheckpointAndNeverGoesBackwards) {
    TempDir dir;
    const auto cfg = dir.path / "meter.toml";
    std::ofstream(cfg) << kConfig;
    std::mt19937 rng(20261124);
    std::uniform_int_distribution<int> alive_ms(700, 2600);
    double previous_kwh = 0.0;
    for (int cycle = 0; cycle < 5; ++cycle) {
        const auto started = std::chrono::steady_clock::now();
        Process meter({binary(), "run", "--config", cfg.string(), "--state-dir",
                       (dir.path / "state").string()},
                      (dir.path / "meter.log").string());
        ASSERT_TRUE(meter.started());
        std::this_thread::sleep_for(std::chrono::milliseconds(alive_ms(rng)));
        const double alive =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        meter.signal(SIGKILL);
        EXPECT_EQ(meter.wait(), 128 + SIGKILL);

        const Stored s = read_store(dir.path / "state");
        EXPECT_EQ(s.integrity, "ok") << "cycle " << cycle;
        // Never backwards.
        EXPECT_GE(s.kwh, previous_kwh) << "cycle " << cycle;
        // What the meter had metered when it was killed (start-up makes it a little less).
        const double metered_kwh = kKw * alive * kSpeed / 3600.0;
        EXPECT_LE(s.kwh - previous_kwh, metered_kwh + 1e-6) << "cycle " << cycle;
        // At most one checkpoint period (1 s real) lost, plus up to 0.5 s of start-up.
        EXPECT_GE(s.kwh - previous_kwh, kKw * (alive - 1.5) * kSpeed / 3600.0)
            << "cycle " << cycle << " alive " << alive;
        if (s.kwh > previous_kwh) {
            // The energy stored belongs to the metered time stored with it.
            EXPECT_NEAR(s.kwh - previous_kwh, kKw * s.meter_time / 3600.0, 1e-6)
                << "cycle " << cycle;
        }
        EXPECT_NEAR(s.max_current, 10.0, 0.05);
        previous_kwh = s.kwh;
    }
    EXPECT_GT(previous_kwh, 0.0);
}

TEST(Storage, CleanStopWritesAFinalCheckpoint) {
    TempDir dir;
    const auto cfg = dir.path / "meter.toml";
    std::ofstream(cfg) << kConfig;
    Process meter(
        {binary(), "run", "--config", cfg.string(), "--state-dir", (dir.path / "state").string()},
        (dir.path / "meter.log").string());
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    meter.signal(SIGTERM);
    EXPECT_EQ(meter.wait(), 0);
    const Stored s = read_store(dir.path / "state");
    EXPECT_EQ(s.integrity, "ok");
    EXPECT_NEAR(s.kwh, kKw * s.meter_time / 3600.0, 1e-6);
    EXPECT_GE(s.meter_time, 1.2 * kSpeed);
}
