// `openbcpm site --state-dir DIR`: the table of a site's state directory
// (DIR/meters/NNNN/), read-only, while its meters run and when they are
// stopped: running or stopped from two reads, kW from the energy metered in
// between, kWh and latched events as stored, serials and models from the
// site's configuration (-c); a damaged store is listed as damaged (exit 3),
// nothing is written to any store; no such directory and a directory that is
// not a site's are refused with the reason.
//
// The meters are the real binary run on DIR/meters/NNNN/ as state directory:
// a meter of a site keeps exactly that store there.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <set>

#include "process.hpp"

using namespace openbcpm::test;

namespace {

// A 1.2 kW load (10 A, PF 1, 120 V) on channel 1 and a meter at 20x real time.
const char* kMeter = R"(
[device]
channels = 42
[faces]
modbus_tcp = false
web = false
[simulation]
speed = 20.0
voltage_noise = 0.0
current_noise = 0.0
[[simulation.load]]
channel = 1
amps = 10.0
pf = 1.0
)";

// The site's configuration: its identities (the meters above were started
// from their own files; only serials and models are taken from this one).
const char* kSite = R"(
[device]
channels = 42
serial_number = "4E3B73CB"
[fleet]
count = 4
first_address = "127.0.1.1"
)";

double stored(const std::filesystem::path& dir, const char* key) {
    sqlite3* db = nullptr;
    double v = -1.0;
    if (sqlite3_open_v2((dir / "openbcpm.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
        SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "SELECT value FROM meter_nv WHERE key = ?1", -1, &st, nullptr);
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

// The latched events a meter stored: inputs 1..46 of panel 1 (branches and
// aux) with a latching bit (HH, H, L, LL, OFF), L-L voltages latched.
int stored_latched(const std::filesystem::path& dir) {
    int n = 0;
    for (int ch = 1; ch <= 46; ++ch) {
        const std::string key = "p1.c" + std::to_string(ch) + ".event_status";
        if (static_cast<int>(stored(dir, key.c_str())) & 0x1F) ++n;
    }
    for (int v = 1; v <= 3; ++v) {
        const std::string key = "p1.v" + std::to_string(v) + ".event_status";
        if (static_cast<int>(stored(dir, key.c_str())) & 0x03) ++n;
    }
    return n;
}

// The mains' energy a meter stored: aux 1..3 of panel 1.
double stored_mains_kwh(const std::filesystem::path& dir) {
    return stored(dir, "p1.c43.kwh") + stored(dir, "p1.c44.kwh") + stored(dir, "p1.c45.kwh");
}

nlohmann::json site_json(const std::vector<std::string>& extra, const TempDir& scratch,
                         int* status = nullptr) {
    std::vector<std::string> args = {binary(), "site", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string out;
    const int st = run(args, &out, scratch.path);
    if (status) *status = st;
    // stdout and stderr share the file: the JSON is the part from the first '['.
    const auto at = out.find('[');
    return nlohmann::json::parse(at == std::string::npos ? "" : out.substr(at), nullptr, false);
}

void wait_for_store(const std::filesystem::path& dir) {
    for (int i = 0; i < 100 && stored(dir, "meter_time") <= 0.0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

TEST(SiteCommand, ListsRunningAndStoppedMetersWithTheirEnergyAndPower) {
    TempDir dir;
    const auto state = dir.path / "site";
    const auto cfg = dir.path / "meter.toml";
    const auto site_cfg = dir.path / "site.toml";
    std::ofstream(cfg) << kMeter;
    std::ofstream(site_cfg) << kSite;
    const auto m0 = state / "meters" / "0000";
    const auto m1 = state / "meters" / "0001";
    std::filesystem::create_directories(state / "meters" / "0003");  // never started
    {
        // Meter 1 ran and stopped.
        Process meter({binary(), "run", "--config", cfg.string(), "--state-dir", m1.string()},
                      (dir.path / "m1.log").string());
        wait_for_store(m1);
        std::this_thread::sleep_for(std::chrono::seconds(2));
        meter.signal(SIGTERM);
        ASSERT_EQ(meter.wait(), 0) << read_file(dir.path / "m1.log");
    }
    const double m1_kwh = stored_mains_kwh(m1);
    ASSERT_GT(m1_kwh, 0.0);
    const auto m1_db = read_file(m1 / "openbcpm.db");

    // Meter 0 runs while the site is read.
    Process meter({binary(), "run", "--config", cfg.string(), "--state-dir", m0.string()},
                  (dir.path / "m0.log").string());
    wait_for_store(m0);

    const auto j = site_json(
        {"--state-dir", state.string(), "-c", site_cfg.string(), "--interval", "2.5"}, dir);
    ASSERT_TRUE(j.is_array()) << read_file(dir.path / "run-output.txt");
    ASSERT_EQ(j.size(), 3u);
    EXPECT_EQ(j[0]["meter"], 0);
    EXPECT_EQ(j[0]["state"], "running");
    // 1.2 kW on one phase's mains, from the energy between the two reads.
    EXPECT_NEAR(j[0]["kw"].get<double>(), 1.2, 0.05);
    EXPECT_GT(j[0]["kwh"].get<double>(), 0.0);
    EXPECT_EQ(j[0]["serial_number"], "4E3B73CB");
    EXPECT_EQ(j[0]["model"], "BCPME42");
    EXPECT_EQ(j[0]["latched_events"], stored_latched(m0));
    EXPECT_EQ(j[1]["meter"], 1);
    EXPECT_EQ(j[1]["state"], "stopped");
    EXPECT_TRUE(j[1]["kw"].is_null());
    EXPECT_NEAR(j[1]["kwh"].get<double>(), m1_kwh, 1e-9);
    EXPECT_EQ(j[1]["latched_events"], stored_latched(m1));
    EXPECT_GT(j[1]["latched_events"].get<int>(), 0);  // aux 1 and 4 below their Low threshold
    EXPECT_EQ(j[1]["serial_number"], "4E3B73CC");
    EXPECT_EQ(j[1]["address"], "127.0.1.2");  // not stored by a lone meter: the site's
    EXPECT_EQ(j[2]["meter"], 3);
    EXPECT_EQ(j[2]["state"], "no store (never started)");
    EXPECT_TRUE(j[2]["kwh"].is_null());
    EXPECT_EQ(j[2]["serial_number"], "4E3B73CE");

    // The table says the same; nothing was written to a stopped meter's store.
    std::string out;
    ASSERT_EQ(run({binary(), "site", "--state-dir", state.string(), "-c", site_cfg.string(),
                   "--interval", "0"},
                  &out, dir.path),
              0)
        << out;
    EXPECT_NE(out.find("METER  ADDRESS"), std::string::npos) << out;
    EXPECT_NE(out.find("0001   127.0.1.2        4E3B73CC  BCPME42"), std::string::npos) << out;
    EXPECT_EQ(read_file(m1 / "openbcpm.db"), m1_db);
    EXPECT_FALSE(std::filesystem::exists(m1 / "openbcpm.db.damaged"));

    // Without the configuration: no serials or models, and it says why.
    ASSERT_EQ(
        run({binary(), "site", "--state-dir", state.string(), "--interval", "0"}, &out, dir.path),
        0);
    EXPECT_NE(out.find("give the site's configuration with -c"), std::string::npos) << out;

    meter.signal(SIGTERM);
    EXPECT_EQ(meter.wait(), 0);
}

TEST(SiteCommand, ADamagedStoreIsListedAsDamagedAndLeftAsItIs) {
    TempDir dir;
    const auto state = dir.path / "site";
    const auto cfg = dir.path / "meter.toml";
    std::ofstream(cfg) << kMeter;
    const auto m0 = state / "meters" / "0000";
    const auto m5 = state / "meters" / "0005";
    for (const auto& m : {m0, m5}) {
        Process meter({binary(), "run", "--config", cfg.string(), "--state-dir", m.string()},
                      (dir.path / "m.log").string());
        wait_for_store(m);
        meter.signal(SIGTERM);
        ASSERT_EQ(meter.wait(), 0);
    }
    // Meter 5's database overwritten in its middle.
    std::string bytes = read_file(m5 / "openbcpm.db");
    ASSERT_GT(bytes.size(), 8192u);
    for (size_t i = 4096; i < 8192; ++i)
        bytes[i] = static_cast<char>(0xA5);
    std::ofstream(m5 / "openbcpm.db", std::ios::binary | std::ios::trunc) << bytes;
    // The files beside it, but SQLite's -wal and -shm (a reader may leave them).
    auto files = [&] {
        std::set<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(m5)) {
            const std::string name = e.path().filename().string();
            if (!name.ends_with("-wal") && !name.ends_with("-shm")) out.insert(name);
        }
        return out;
    };
    const auto files_before = files();

    int status = 0;
    const auto j = site_json({"--state-dir", state.string(), "--interval", "0"}, dir, &status);
    EXPECT_EQ(status, 3);
    ASSERT_TRUE(j.is_array()) << read_file(dir.path / "run-output.txt");
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0]["state"], "-");  // one read: running or not is not known
    EXPECT_GT(j[0]["kwh"].get<double>(), 0.0);
    EXPECT_EQ(j[1]["meter"], 5);
    EXPECT_EQ(j[1]["state"].get<std::string>().rfind("damaged: ", 0), 0u) << j[1]["state"];
    EXPECT_TRUE(j[1]["kwh"].is_null());
    // Nothing restored, set aside or removed.
    EXPECT_EQ(read_file(m5 / "openbcpm.db"), bytes);
    EXPECT_FALSE(std::filesystem::exists(m5 / "openbcpm.db.damaged"));
    EXPECT_EQ(files(), files_before);
}

TEST(SiteCommand, RefusesWhatIsNotASiteStateDirectoryWithTheReason) {
    TempDir dir;
    std::string out;
    EXPECT_EQ(
        run({binary(), "site", "--state-dir", (dir.path / "nowhere").string()}, &out, dir.path), 1);
    EXPECT_NE(out.find("no such directory: " + (dir.path / "nowhere").string()), std::string::npos)
        << out;

    const auto empty = dir.path / "empty";
    std::filesystem::create_directories(empty / "meters" / "junk");
    EXPECT_EQ(run({binary(), "site", "--state-dir", empty.string()}, &out, dir.path), 1);
    EXPECT_NE(out.find("is not a fleet state directory"), std::string::npos) << out;

    // One meter's own state directory: the reason names what it is.
    const auto cfg = dir.path / "meter.toml";
    std::ofstream(cfg) << kMeter;
    const auto single = dir.path / "single";
    {
        Process meter({binary(), "run", "--config", cfg.string(), "--state-dir", single.string()},
                      (dir.path / "m.log").string());
        wait_for_store(single);
        meter.signal(SIGTERM);
        ASSERT_EQ(meter.wait(), 0);
    }
    EXPECT_EQ(run({binary(), "site", "--state-dir", single.string()}, &out, dir.path), 1);
    EXPECT_NE(out.find("it is one meter's state directory"), std::string::npos) << out;

    // A refused configuration is exit 2, as everywhere.
    const auto bad = dir.path / "bad.toml";
    std::ofstream(bad) << "[fleet]\ncount = 0\nfirst_address = \"127.0.1.1\"\n";
    std::filesystem::create_directories(dir.path / "s" / "meters" / "0000");
    EXPECT_EQ(run({binary(), "site", "--state-dir", (dir.path / "s").string(), "-c", bad.string()},
                  &out, dir.path),
              2)
        << out;
}
