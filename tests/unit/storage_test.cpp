#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <thread>

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

// --- Integrity, backups, restore, file modes (docs/storage.md) ---

namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 07777;
    return st.st_mode & 07777;
}

// Everything a store holds, read back, to tell a harmless flip from a wrong value.
struct Contents {
    std::map<std::string, std::string> settings;
    std::vector<double> nv;
    std::optional<int64_t> counter;
    std::optional<std::string> users, small;
    std::vector<std::string> events;
    std::vector<std::string> log;
    bool operator==(const Contents&) const = default;
};

MeterSnapshot sample_snapshot() {
    MeterSnapshot s;
    for (size_t p = 0; p < 2; ++p) {
        for (size_t c = 0; c < 46; ++c) {
            s.panel[p].channel[c].kwh = 0.00316 + static_cast<double>(c) * 1.25 + 1000.0 * p;
            s.panel[p].channel[c].max_current = 3.0 + static_cast<double>(c);
        }
        s.panel[p].events.status[3] = event_bits::kHigh;
    }
    s.time = 1234.5;
    return s;
}

Contents contents(Store& store) {
    Contents c;
    for (const auto& [k, v] : store.load_settings())
        c.settings[k] = to_string(v.value) + "|" + v.config_seed.value_or("-");
    MeterSnapshot s;
    store.load_meter_state(s);
    for (const auto& p : s.panel) {
        for (const auto& ch : p.channel) {
            c.nv.push_back(ch.kwh);
            c.nv.push_back(ch.max_current);
        }
        c.nv.push_back(p.events.status[3]);
    }
    c.counter = store.load_counter("p1.power_up");
    c.users = store.load_text("web.users");
    c.small = store.load_text("bacnet.device.1.name");
    for (const StoredEvent& e : store.load_events(1000))
        c.events.push_back(std::to_string(e.id) + ":" + std::to_string(e.record.channel) + ":" +
                           std::to_string(e.record.value));
    for (const LogEntry& e : store.load_log(100))
        c.log.push_back(e.kind + ":" + e.text);
    return c;
}

// A store with a row in every table, big enough to span several pages
// (meter_nv and its index, an overflowing text, a few hundred events).
void fill(Store& store) {
    Settings s;
    for (const char* key : {"panel.1.demand_subintervals", "panel.1.hh_threshold",
                            "panel.2.location", "gateway.read_community"}) {
        const SettingDef& def = *find_setting(key);
        store.save_setting(
            key,
            def.is_string ? SettingValue(std::string("Row C panel")) : SettingValue(int64_t{5}),
            std::nullopt);
    }
    store.checkpoint(sample_snapshot());
    store.save_counter("p1.power_up", 17);
    store.save_text("web.users", std::string(6000, 'u') + "{\"admin\":1}");
    store.save_text("bacnet.device.1.name", "Panel 1A");
    std::vector<EventRecord> events(300);
    for (size_t i = 0; i < events.size(); ++i) {
        events[i].channel = static_cast<uint8_t>(1 + i % 46);
        events[i].value = 10.0 + static_cast<double>(i) / 8.0;
    }
    store.append_events(events.data(), events.size(), 1700000000, 10000);
    store.add_log("test", "filled");
}

std::vector<char> read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::vector<char>& b) {
    std::ofstream(p, std::ios::binary | std::ios::trunc)
        .write(b.data(), static_cast<std::streamsize>(b.size()));
}

}  // namespace

TEST(StoreIntegrity, FilesArePrivateFromTheirCreationWhateverTheUmask) {
    TempDir dir;
    const fs::path state = dir.path / "state";
    const mode_t old = ::umask(0);  // the widest: modes must not depend on the caller's umask
    {
        Store store(state);
        store.save_counter("p1.power_up", 1);  // the WAL and shared-memory files exist now
        EXPECT_EQ(mode_of(state), 0700u);
        EXPECT_EQ(mode_of(store.file()), 0600u);
        EXPECT_EQ(mode_of(store.file().string() + "-wal"), 0600u);
        EXPECT_EQ(mode_of(store.file().string() + "-shm"), 0600u);
        ASSERT_TRUE(store.backup());
        EXPECT_EQ(mode_of(state / "openbcpm.db.backup"), 0600u);
        write_private_file(state / "secret", "x\n");
        EXPECT_EQ(mode_of(state / "secret"), 0600u);
    }
    ::umask(old);
}

TEST(StoreIntegrity, OlderWideModesAreTightened) {
    TempDir dir;
    { Store store(dir.path); }
    ::chmod(dir.path.c_str(), 0755);
    ::chmod((dir.path / "openbcpm.db").c_str(), 0644);
    Store store(dir.path);
    EXPECT_EQ(mode_of(dir.path), 0700u);
    EXPECT_EQ(mode_of(dir.path / "openbcpm.db"), 0600u);
}

TEST(StoreIntegrity, OnlyADirectoryWithoutADatabaseIsANewMeter) {
    TempDir dir;
    {
        Store store(dir.path);
        EXPECT_TRUE(store.created());
        EXPECT_TRUE(store.recovery().damage.empty());
    }
    Store again(dir.path);
    EXPECT_FALSE(again.created());
}

TEST(StoreIntegrity, AnEmptyOrForeignFileWithoutBackupIsRefusedAndLeftAlone) {
    for (const std::string& bytes : {std::string(), std::string(5000, 'x')}) {
        TempDir dir;
        write_bytes(dir.path / "openbcpm.db", std::vector<char>(bytes.begin(), bytes.end()));
        try {
            Store store(dir.path);
            FAIL() << "a damaged file was taken";
        } catch (const StoreDamaged& e) {
            EXPECT_EQ(e.file(), dir.path / "openbcpm.db");
            EXPECT_NE(std::string(e.what()).find(bytes.empty() ? "empty" : "not an SQLite"),
                      std::string::npos)
                << e.what();
        }
        EXPECT_EQ(fs::file_size(dir.path / "openbcpm.db"), bytes.size());  // nothing changed
        EXPECT_FALSE(fs::exists(dir.path / "openbcpm.db.damaged"));
    }
}

TEST(StoreIntegrity, AnEmptyFileIsRestoredFromTheLastGoodCopyLoudly) {
    TempDir dir;
    Contents before;
    {
        Store store(dir.path);
        fill(store);
        ASSERT_TRUE(store.backup());
        EXPECT_GT(store.health().last_backup, 0);
        before = contents(store);
        store.save_counter("p1.power_up", 18);  // after the backup: lost by the restore
    }
    fs::resize_file(dir.path / "openbcpm.db", 0);
    Store store(dir.path);
    EXPECT_NE(store.recovery().damage.find("empty"), std::string::npos);
    EXPECT_EQ(store.recovery().restored_from, dir.path / "openbcpm.db.backup");
    EXPECT_TRUE(fs::exists(dir.path / "openbcpm.db.damaged"));
    const std::string note = store.recovery().note();
    EXPECT_NE(note.find("restored from openbcpm.db.backup"), std::string::npos) << note;
    EXPECT_NE(note.find("lost"), std::string::npos) << note;
    const auto log = store.load_log(10);
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(log.front().text, note);  // the device log says it too
    Contents after = contents(store);
    after.log.erase(after.log.begin());  // the restore's own line
    EXPECT_EQ(after, before);
    EXPECT_EQ(store.load_counter("p1.power_up"), 17);
}

TEST(StoreIntegrity, BackupsRotateAndADamagedNewestGivesWayToTheOlder) {
    TempDir dir;
    {
        Store store(dir.path);
        store.save_counter("p1.power_up", 1);
        ASSERT_TRUE(store.backup());
        store.save_counter("p1.power_up", 2);
        ASSERT_TRUE(store.backup());
    }
    EXPECT_TRUE(fs::exists(dir.path / "openbcpm.db.backup.1"));
    fs::resize_file(dir.path / "openbcpm.db", 0);
    fs::resize_file(dir.path / "openbcpm.db.backup", 100);  // the newest is damaged too
    Store store(dir.path);
    EXPECT_EQ(store.recovery().restored_from, dir.path / "openbcpm.db.backup.1");
    EXPECT_EQ(store.load_counter("p1.power_up"), 1);
}

TEST(StoreIntegrity, FactoryResetAllStartsAfreshOnADamagedFile) {
    TempDir dir;
    write_bytes(dir.path / "openbcpm.db", {});
    EXPECT_THROW(Store(dir.path, Store::OnDamage::Restore), StoreDamaged);
    Store store(dir.path, Store::OnDamage::Discard);
    EXPECT_NE(store.recovery().note().find("started afresh"), std::string::npos);
    EXPECT_TRUE(fs::exists(dir.path / "openbcpm.db.damaged"));
    EXPECT_FALSE(store.load_counter("p1.power_up"));
}

TEST(StoreIntegrity, ADatabaseFromBeforeChecksumsIsMigratedAndStillReads) {
    TempDir dir;
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open((dir.path / "openbcpm.db").c_str(), &db), SQLITE_OK);
        const char* old_schema =
            "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL, config_seed TEXT);"
            "CREATE TABLE meter_nv(key TEXT PRIMARY KEY, value REAL NOT NULL);"
            "CREATE TABLE counters(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
            "CREATE TABLE texts(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE events(id INTEGER PRIMARY KEY AUTOINCREMENT, wall_time INTEGER NOT "
            "NULL, meter_time REAL NOT NULL, rtc INTEGER NOT NULL, panel INTEGER NOT NULL, "
            "channel INTEGER NOT NULL, kind INTEGER NOT NULL, bit INTEGER NOT NULL, value REAL "
            "NOT NULL, threshold REAL NOT NULL);"
            "INSERT INTO counters VALUES('p1.power_up', 9);"
            "INSERT INTO meter_nv VALUES('p1.c1.kwh', 0.00316);";
        ASSERT_EQ(sqlite3_exec(db, old_schema, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    {
        Store store(dir.path);
        EXPECT_TRUE(store.recovery().damage.empty());
        EXPECT_EQ(store.load_counter("p1.power_up"), 9);
    }
    EXPECT_EQ(Store::check_file(dir.path / "openbcpm.db"), "");
    Store store(dir.path);  // the checksums written by the migration hold
    MeterSnapshot s;
    ASSERT_TRUE(store.load_meter_state(s));
    EXPECT_DOUBLE_EQ(s.panel[0].channel[0].kwh, 0.00316);
}

// One byte flipped anywhere in the pages of any table or index: the store is
// refused, or every value reads back as it was. Never a wrong value.
TEST(StoreIntegrity, AByteFlippedInAnyTablesPagesIsNeverTakenSilently) {
    TempDir dir;
    const fs::path state = dir.path / "state";
    Contents truth;
    {
        Store store(state);
        fill(store);
        truth = contents(store);
    }
    const fs::path file = state / "openbcpm.db";
    const std::vector<char> pristine = read_bytes(file);
    // Which pages hold which b-tree (dbstat), and where their cells start.
    struct Page {
        std::string name;
        int64_t number;
    };
    std::vector<Page> pages;
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        sqlite3_stmt* s = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT name, pageno FROM dbstat ORDER BY pageno", -1, &s,
                                     nullptr),
                  SQLITE_OK);
        while (sqlite3_step(s) == SQLITE_ROW)
            pages.push_back({reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                             sqlite3_column_int64(s, 1)});
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    constexpr size_t kPage = 4096;
    ASSERT_EQ(pristine.size() % kPage, 0u);
    std::map<std::string, int> detected, harmless, tried_pages;
    for (const Page& p : pages) {
        if (p.name == "sqlite_schema" || p.name == "sqlite_sequence") continue;
        if (tried_pages[p.name]++ >= 2) continue;  // a few pages of each b-tree
        const size_t base = static_cast<size_t>(p.number - 1) * kPage;
        // Spread over the page, and densely at its end, where the cells start.
        std::vector<size_t> offsets;
        for (size_t off = 11; off < kPage - 96; off += 211)
            offsets.push_back(off);
        for (size_t off = kPage - 96; off < kPage; off += 4)
            offsets.push_back(off);
        for (const size_t off : offsets) {
            std::vector<char> bytes = pristine;
            bytes[base + off] = static_cast<char>(bytes[base + off] ^ 0x24);
            write_bytes(file, bytes);
            try {
                Store store(state, Store::OnDamage::Refuse);
                const Contents now = contents(store);
                ASSERT_EQ(now, truth) << "a flip at byte " << off << " of page " << p.number << " ("
                                      << p.name << ") went unnoticed";
                ++harmless[p.name];
            } catch (const StoreError&) {
                ++detected[p.name];  // refused (StoreDamaged), or SQLite saw it on a read
            }
        }
    }
    for (const char* name :
         {"settings", "sqlite_autoindex_settings_1", "meter_nv", "sqlite_autoindex_meter_nv_1",
          "counters", "texts", "events", "device_log"}) {
        EXPECT_GT(detected[name], 0) << name << ": no flip reached a value";
    }
}

// --- Writes that cannot be stored (docs/storage.md, "When storage fails") ---

namespace {

// While it lives, no write of this process reaches past the first `bytes` of
// any file (RLIMIT_FSIZE: EFBIG, SIGXFSZ ignored): every write the store
// makes fails as on a full disk, reads still work.
class FilesCannotGrow {
  public:
    explicit FilesCannotGrow(rlim_t bytes) {
        old_signal_ = std::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &old_);
        rlimit limit = old_;
        limit.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ~FilesCannotGrow() {
        ::setrlimit(RLIMIT_FSIZE, &old_);
        std::signal(SIGXFSZ, old_signal_);
    }
    FilesCannotGrow(const FilesCannotGrow&) = delete;
    FilesCannotGrow& operator=(const FilesCannotGrow&) = delete;

  private:
    rlimit old_{};
    void (*old_signal_)(int) = nullptr;
};

}  // namespace

TEST(StoreFailure, AWriteThatCannotBeStoredChangesNothingAndTheStoreRecovers) {
    TempDir dir;
    Store store(dir.path);
    fill(store);
    ASSERT_TRUE(store.backup());
    const Contents before = contents(store);
    const std::vector<char> backup = read_bytes(dir.path / "openbcpm.db.backup");
    Settings s;
    ASSERT_TRUE(
        persist_setting(&store, s, *find_setting("panel.1.h_threshold"), int64_t{550}).ok());
    {
        const FilesCannotGrow full(4096);
        EXPECT_THROW(store.save_counter("p1.power_up", 99), StoreError);
        EXPECT_TRUE(store.health().failing);
        EXPECT_EQ(store.health().failed, 1u);
        EXPECT_EQ(store.health().episodes, 1u);
        EXPECT_FALSE(store.health().error.empty());
        // A batch is all or nothing: the first row alone is not stored either.
        EXPECT_THROW(store.update_settings({{"panel.1.demand_subintervals", int64_t{2}},
                                            {"panel.1.location", std::string("Not stored")}}),
                     StoreError);
        EXPECT_THROW(store.checkpoint(MeterSnapshot{}), StoreError);
        // A refused setting is unchanged in memory and says why, as the faces do.
        const WriteResult r =
            persist_setting(&store, s, *find_setting("panel.1.h_threshold"), int64_t{560});
        EXPECT_EQ(r.error, WriteError::StorageFailed);
        EXPECT_EQ(r.message.rfind("Storage is failing, nothing was changed: storage: ", 0), 0u)
            << r.message;
        EXPECT_EQ(s.panel(1).h_threshold, 550);
        EXPECT_EQ(store.health().failed, 4u);
        // Reads go on while it fails, and read the values as they were.
        Contents now = contents(store);
        now.settings.erase("panel.1.h_threshold");
        EXPECT_EQ(now, before);
        // A backup cannot be made: the last good copy is kept as it was.
        EXPECT_FALSE(store.backup());
        EXPECT_FALSE(store.health().backup_error.empty());
        EXPECT_EQ(read_bytes(dir.path / "openbcpm.db.backup"), backup);
        EXPECT_FALSE(fs::exists(dir.path / "openbcpm.db.backup-tmp"));
    }
    // Space again: the same connection stores, without a reopen. The failure
    // is over once writes have succeeded for a while with none failing (a
    // disk with a few blocks left takes one write and refuses the next).
    store.save_counter("p1.power_up", 100);
    EXPECT_EQ(store.load_counter("p1.power_up"), 100);
    EXPECT_TRUE(store.health().failing) << "one write that fits is not a recovery";
    {
        const FilesCannotGrow full(4096);
        EXPECT_THROW(store.save_counter("p1.power_up", 101), StoreError);
    }
    EXPECT_EQ(store.health().episodes, 1u) << "still the same failure";
    store.set_recovered_after(std::chrono::milliseconds(300));
    const auto failed_last = std::chrono::steady_clock::now();
    store.save_counter("p1.power_up", 100);
    EXPECT_TRUE(store.health().failing);
    std::this_thread::sleep_until(failed_last + std::chrono::milliseconds(320));
    store.save_counter("p1.power_up", 100);
    EXPECT_FALSE(store.health().failing);
    EXPECT_EQ(store.health().episodes, 1u);
    ASSERT_TRUE(
        persist_setting(&store, s, *find_setting("panel.1.h_threshold"), int64_t{570}).ok());
    const auto log = store.load_log(1);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log.front().kind, "storage");
    EXPECT_NE(log.front().text.find("storage failed for"), std::string::npos) << log.front().text;
    EXPECT_NE(log.front().text.find("5 writes refused"), std::string::npos) << log.front().text;
    EXPECT_TRUE(store.backup());
    EXPECT_TRUE(store.health().backup_error.empty());
    // And what it stored is what a restart reads.
    store.checkpoint(sample_snapshot());
    const Contents after = contents(store);
    Store again(dir.path);
    EXPECT_TRUE(again.recovery().damage.empty());
    EXPECT_EQ(contents(again), after);
    EXPECT_EQ(again.load_settings().at("panel.1.h_threshold").value, SettingValue(int64_t{570}));
}

// The meter's own checkpoints must not take back the space a full disk is
// given: the WAL is copied into the database and cut back every kWalPages
// pages, whatever the number of writes (SQLite's default lets it reach 4 MiB).
TEST(StoreFailure, TheWriteAheadLogStaysBounded) {
    TempDir dir;
    Store store(dir.path);
    MeterSnapshot s = sample_snapshot();
    const fs::path wal = dir.path / "openbcpm.db-wal";
    uintmax_t largest = 0;
    for (int i = 0; i < 60;
         ++i) {  // all of meter_nv each time: past 1000 pages, where SQLite's default stops
        for (auto& p : s.panel) {
            for (auto& ch : p.channel)
                ch.kwh += 0.001;
        }
        store.checkpoint(s);
        largest = std::max(largest, fs::file_size(wal));
    }
    EXPECT_GT(largest, 0u);
    // The bound plus one transaction (the one that crossed it).
    EXPECT_LE(largest, static_cast<uintmax_t>(Store::kWalPages + 64) * 4120u) << largest;
}

// A checkpoint writes only the values that changed since the last one this
// connection committed: one refused for want of space is written whole by
// the next, and after the NV values were cleared every value is written again.
TEST(StoreFailure, ACheckpointOfChangesOnlyLosesNoneRefusedOrCleared) {
    TempDir dir;
    MeterSnapshot a = sample_snapshot();
    {
        Store store(dir.path);
        store.checkpoint(a);
        a.panel[0].channel[4].kwh += 1.0;
        a.panel[1].events.global_counter[2] += 1;
        {
            // The WAL cannot take the new pages: nothing is stored.
            const FilesCannotGrow full(4096);
            EXPECT_THROW(store.checkpoint(a), StoreError);
        }
        // The same snapshot again (nothing changed since the refused one).
        store.checkpoint(a);
    }
    {
        Store store(dir.path);
        MeterSnapshot b;
        ASSERT_TRUE(store.load_meter_state(b));
        EXPECT_DOUBLE_EQ(b.panel[0].channel[4].kwh, a.panel[0].channel[4].kwh);
        EXPECT_EQ(b.panel[1].events.global_counter[2], a.panel[1].events.global_counter[2]);
        // Cleared, then the same values: every one of them is stored again.
        store.checkpoint(a);
        store.clear_meter_state();
        store.checkpoint(a);
    }
    Store store(dir.path);
    MeterSnapshot b;
    ASSERT_TRUE(store.load_meter_state(b));
    for (size_t p = 0; p < a.panel.size(); ++p) {
        for (size_t c = 0; c < a.panel[p].channel.size(); ++c) {
            EXPECT_DOUBLE_EQ(b.panel[p].channel[c].kwh, a.panel[p].channel[c].kwh) << p << "/" << c;
            EXPECT_DOUBLE_EQ(b.panel[p].channel[c].max_kw, a.panel[p].channel[c].max_kw);
        }
        EXPECT_EQ(b.panel[p].events.global_counter, a.panel[p].events.global_counter);
        EXPECT_DOUBLE_EQ(b.panel[p].mains.max_kw, a.panel[p].mains.max_kw);
    }
}
