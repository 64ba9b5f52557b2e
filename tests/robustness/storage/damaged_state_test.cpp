// Damaged state is never taken silently: an empty database, or one byte
// flipped in the pages of any table or index, is restored from the last good
// copy (loudly) or, with none, refused with exit 3 and the way out, which
// works. The state is made by the real meter (every table has rows).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "storage_meter.hpp"

using namespace openbcpm::test;
namespace fs = std::filesystem;

namespace {

std::vector<char> bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_bytes(const fs::path& p, const std::vector<char>& b) {
    std::ofstream(p, std::ios::binary | std::ios::trunc)
        .write(b.data(), static_cast<std::streamsize>(b.size()));
}

// The first page of every b-tree but SQLite's own, by name.
std::map<std::string, int64_t> first_pages(const fs::path& db_file) {
    std::map<std::string, int64_t> out;
    sqlite3* db = nullptr;
    sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT name, MIN(pageno) FROM dbstat GROUP BY name", -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        if (name.rfind("sqlite_schema", 0) != 0 && name != "sqlite_sequence")
            out[name] = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

// A byte inside the first cell of a b-tree page (its key or record header).
size_t cell_byte(const std::vector<char>& db, int64_t page) {
    constexpr size_t kPage = 4096;
    const size_t base = static_cast<size_t>(page - 1) * kPage;
    const size_t header = base + (page == 1 ? 100 : 0);
    const auto type = static_cast<unsigned char>(db[header]);
    const size_t pointers = header + (type == 0x0D || type == 0x0A ? 8 : 12);
    const size_t cell = (static_cast<unsigned char>(db[pointers]) << 8) |
                        static_cast<unsigned char>(db[pointers + 1]);
    return base + cell + 3;
}

const char* kConfig = R"(
[faces]
modbus_tcp = false
bacnet_ip = false
snmp = false
web = false
[panel.1]
demand_subintervals = 5
on_time = 1
h_delay = 1
[[simulation.load]]
panel = 1
channel = 3
amps = 15.0
)";

}  // namespace

TEST(DamagedState, EmptyOrFlippedDatabaseIsRestoredLoudlyOrRefusedWithExitThree) {
    TempDir dir;
    const fs::path state = dir.path / "state";
    {
        // The meter with every face makes rows in every table (users and
        // sessions in texts; events from channel 3 over its breaker).
        StorageMeter m(dir.path / "first", state);
        ASSERT_TRUE(m.ready()) << m.log();
        ASSERT_EQ(m.modbus_write(kDemandRegister, {5}), 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        ASSERT_EQ(m.stop(), 0) << m.log();  // a clean stop makes the last good copy
    }
    ASSERT_TRUE(fs::exists(state / "openbcpm.db.backup"));
    const auto cfg = dir.path / "sim.toml";
    std::ofstream(cfg) << kConfig;
    auto simulate = [&](std::string* out) {
        return run({binary(), "simulate", "--config", cfg.string(), "--seconds", "3", "--state-dir",
                    state.string()},
                   out, dir.path);
    };

    // A 0-byte database with its backup beside it: restored, and it says so.
    fs::resize_file(state / "openbcpm.db", 0);
    std::string out;
    ASSERT_EQ(simulate(&out), 0) << out;
    EXPECT_NE(out.find("openbcpm.db was damaged (the file is empty (0 bytes)); restored from "
                       "openbcpm.db.backup"),
              std::string::npos)
        << out;
    EXPECT_TRUE(fs::exists(state / "openbcpm.db.damaged"));

    // Now every table has rows (the device log too); a clean stop made a new copy.
    const std::vector<char> db = bytes_of(state / "openbcpm.db");
    const std::vector<char> backup = bytes_of(state / "openbcpm.db.backup");
    const auto pages = first_pages(state / "openbcpm.db");
    for (const char* name :
         {"settings", "sqlite_autoindex_settings_1", "meter_nv", "sqlite_autoindex_meter_nv_1",
          "counters", "texts", "events", "device_log"}) {
        ASSERT_TRUE(pages.count(name)) << name;
        std::vector<char> flipped = db;
        const size_t at = cell_byte(db, pages.at(name));
        flipped[at] = static_cast<char>(flipped[at] ^ 0x11);
        // With the last good copy beside it: restored, loudly.
        put_bytes(state / "openbcpm.db", flipped);
        put_bytes(state / "openbcpm.db.backup", backup);
        ASSERT_EQ(simulate(&out), 0) << name << "\n" << out;
        EXPECT_NE(out.find("openbcpm.db was damaged"), std::string::npos) << name << "\n" << out;
        EXPECT_NE(out.find("restored from openbcpm.db.backup"), std::string::npos) << out;
        // Without one: the meter refuses to start, names the file and the way out.
        put_bytes(state / "openbcpm.db", flipped);
        fs::remove(state / "openbcpm.db.backup");
        fs::remove(state / "openbcpm.db.backup.1");
        EXPECT_EQ(run({binary(), "run", "--config", cfg.string(), "--state-dir", state.string()},
                      &out, dir.path),
                  3)
            << name << "\n"
            << out;
        EXPECT_NE(out.find((state / "openbcpm.db").string() + " is damaged"), std::string::npos)
            << out;
        EXPECT_NE(out.find("openbcpm factory-reset --all --state-dir " + state.string()),
                  std::string::npos)
            << out;
    }
    // The way out works on the damaged database.
    EXPECT_EQ(
        run({binary(), "factory-reset", "--all", "--state-dir", state.string()}, &out, dir.path), 0)
        << out;
    EXPECT_TRUE(fs::exists(state / "openbcpm.db.damaged"));
    ASSERT_EQ(simulate(&out), 0) << out;
    EXPECT_EQ(out.find("damaged"), std::string::npos) << out;
}

TEST(DamagedState, OnlyAStateDirectoryWithoutADatabaseIsANewMeter) {
    TempDir dir;
    const fs::path state = dir.path / "state";
    fs::create_directories(state);
    std::ofstream(state / "openbcpm.db");  // 0 bytes, no backup: not a new meter
    std::string out;
    EXPECT_EQ(run({binary(), "run", "--state-dir", state.string()}, &out, dir.path), 3) << out;
    EXPECT_NE(out.find("the file is empty (0 bytes)"), std::string::npos) << out;
    EXPECT_EQ(fs::file_size(state / "openbcpm.db"), 0u) << "refusing changes nothing";
    fs::remove(state / "openbcpm.db");
    EXPECT_EQ(run({binary(), "simulate", "--seconds", "1", "--state-dir", state.string()}, &out,
                  dir.path),
              0)
        << out;
}
