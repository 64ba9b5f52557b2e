#include "storage/store.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <boost/crc.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

namespace openbcpm {

namespace {

namespace fs = std::filesystem;

int64_t wall_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string errno_text() {
    return std::strerror(errno);
}

// "4 min 12 s", "2 h 5 min", "3 d 4 h": how old a backup is, for people.
std::string age_text(int64_t s) {
    if (s < 0) s = 0;
    if (s < 60) return std::to_string(s) + " s";
    if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
    if (s < 86400) return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
    return std::to_string(s / 86400) + " d " + std::to_string(s % 86400 / 3600) + " h";
}

// The row checksum, an SQL function so that writes, the start-up check and
// the migration of old rows all compute it from the same values: CRC-32 of
// each argument's type and bytes. A byte flipped in a value that
// integrity_check cannot see (a REAL, a text) no longer matches it.
void crc_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    boost::crc_32_type crc;
    for (int i = 0; i < argc; ++i) {
        sqlite3_value* v = argv[i];
        const int type = sqlite3_value_type(v);
        const auto tag = static_cast<unsigned char>(type);
        crc.process_byte(tag);
        switch (type) {
            case SQLITE_INTEGER: {
                const sqlite3_int64 x = sqlite3_value_int64(v);
                unsigned char b[8];
                for (int k = 0; k < 8; ++k)
                    b[k] = static_cast<unsigned char>(static_cast<uint64_t>(x) >> (8 * k));
                crc.process_bytes(b, sizeof b);
                break;
            }
            case SQLITE_FLOAT: {
                double x = sqlite3_value_double(v);
                // SQLite keeps an integral REAL as an integer on disk: -0.0 reads back as 0.0.
                if (x == 0.0) x = 0.0;
                uint64_t bits = 0;
                std::memcpy(&bits, &x, sizeof bits);
                unsigned char b[8];
                for (int k = 0; k < 8; ++k)
                    b[k] = static_cast<unsigned char>(bits >> (8 * k));
                crc.process_bytes(b, sizeof b);
                break;
            }
            case SQLITE_TEXT:
            case SQLITE_BLOB: {
                const void* p = type == SQLITE_TEXT
                                    ? static_cast<const void*>(sqlite3_value_text(v))
                                    : sqlite3_value_blob(v);
                const int n = sqlite3_value_bytes(v);
                const auto len = static_cast<uint32_t>(n);
                unsigned char b[4];
                for (int k = 0; k < 4; ++k)
                    b[k] = static_cast<unsigned char>(len >> (8 * k));
                crc.process_bytes(b, sizeof b);
                if (p && n > 0) crc.process_bytes(p, static_cast<size_t>(n));
                break;
            }
            default:  // NULL: the tag alone
                break;
        }
    }
    sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(crc.checksum()));
}

void register_functions(sqlite3* db) {
    sqlite3_create_function(db, "openbcpm_crc", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                            crc_function, nullptr, nullptr);
}

// Each table, the columns its checksum covers, and how it is made.
struct TableDef {
    const char* name;
    const char* columns;  // covered by crc, in order
    const char* create;
};
constexpr TableDef kTables[] = {
    {"settings", "key, value, config_seed",
     "CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL, "
     "config_seed TEXT, crc INTEGER)"},
    {"meter_nv", "key, value",
     "CREATE TABLE IF NOT EXISTS meter_nv(key TEXT PRIMARY KEY, value REAL NOT NULL, crc "
     "INTEGER)"},
    {"counters", "key, value",
     "CREATE TABLE IF NOT EXISTS counters(key TEXT PRIMARY KEY, value INTEGER NOT NULL, crc "
     "INTEGER)"},
    {"texts", "key, value",
     "CREATE TABLE IF NOT EXISTS texts(key TEXT PRIMARY KEY, value TEXT NOT NULL, crc INTEGER)"},
    {"events", "wall_time, meter_time, rtc, panel, channel, kind, bit, value, threshold",
     "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY AUTOINCREMENT, wall_time INTEGER "
     "NOT NULL, meter_time REAL NOT NULL, rtc INTEGER NOT NULL, panel INTEGER NOT NULL, channel "
     "INTEGER NOT NULL, kind INTEGER NOT NULL, bit INTEGER NOT NULL, value REAL NOT NULL, "
     "threshold REAL NOT NULL, crc INTEGER)"},
    {"device_log", "wall_time, kind, text",
     "CREATE TABLE IF NOT EXISTS device_log(id INTEGER PRIMARY KEY AUTOINCREMENT, wall_time "
     "INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL, crc INTEGER)"},
};
// Tables every openbcpm database has had since the first version.
constexpr const char* kRequiredTables[] = {"settings", "meter_nv", "counters", "texts", "events"};
// PRAGMA user_version: 1 = rows carry checksums.
constexpr int kSchemaVersion = 1;

bool is_damage_code(int code) {
    const int primary = code & 0xFF;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB || primary == SQLITE_FORMAT;
}

// Thrown inside the checks when SQLite itself reports damage.
struct Damaged {
    std::string what;
};

void fsync_path(const fs::path& p, bool directory) {
    const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

// Creates `p` empty with mode 0600 (never wider, whatever the umask).
void create_private(const fs::path& p) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw StoreError("cannot create " + p.string() + ": " + errno_text());
    ::close(fd);
}

// A file of ours that an older version left readable by others becomes 0600.
void tighten(const fs::path& p, mode_t want) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || st.st_uid != ::geteuid()) return;
    const mode_t now = st.st_mode & 07777;
    if ((now & ~want) == 0) return;
    if (::chmod(p.c_str(), want) == 0)
        spdlog::info("storage: {} was mode {:04o}; now {:04o}", p.string(), now, want);
}

void make_state_dir(const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        if (dir.has_parent_path() && !dir.parent_path().empty()) {
            fs::create_directories(dir.parent_path(), ec);
            if (ec)
                throw StoreError("cannot create state directory " + dir.string() + ": " +
                                 ec.message());
        }
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
            throw StoreError("cannot create state directory " + dir.string() + ": " + errno_text());
        return;
    }
    if (!fs::is_directory(dir, ec))
        throw StoreError("state directory " + dir.string() + " is not a directory");
    // A directory we made with wider access (older versions): ours, not shared (sticky).
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & S_ISVTX) == 0 &&
        fs::exists(dir / Store::kFileName, ec))
        tighten(dir, 0700);
}

void remove_file(const fs::path& p) {
    std::error_code ec;
    fs::remove(p, ec);
}

// A database file and the WAL and shared-memory files beside it.
void remove_database(const fs::path& p) {
    remove_file(p);
    remove_file(p.string() + "-wal");
    remove_file(p.string() + "-shm");
    remove_file(p.string() + "-journal");
}

std::string backup_name(int i) {
    return std::string(Store::kFileName) + ".backup" + (i == 0 ? "" : "." + std::to_string(i));
}

// What is wrong with a database file before SQLite reads it; "" when nothing.
std::string check_header(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) return "cannot be read: " + ec.message();
    if (size == 0) return "the file is empty (0 bytes)";
    std::ifstream in(file, std::ios::binary);
    char header[16] = {};
    in.read(header, sizeof header);
    if (!in || size < 512 || std::memcmp(header, "SQLite format 3", 16) != 0)
        return "not an SQLite database (" + std::to_string(size) + " bytes, no SQLite header)";
    return {};
}

// The checks opening runs on a connection: integrity_check, the tables, the
// row checksums. Damage comes back as text; other failures (I/O) throw.
std::string check_connection(sqlite3* db) {
    auto step_rows = [&](const char* sql, const std::function<bool(sqlite3_stmt*)>& row) {
        sqlite3_stmt* s = nullptr;
        int rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(s);
            if (is_damage_code(sqlite3_extended_errcode(db))) throw Damaged{sqlite3_errmsg(db)};
            throw StoreError(std::string("storage: ") + sqlite3_errmsg(db) + " (" + sql + ")");
        }
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            if (!row(s)) break;
        }
        const bool bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
        sqlite3_finalize(s);
        if (bad) {
            if (is_damage_code(sqlite3_extended_errcode(db))) throw Damaged{sqlite3_errmsg(db)};
            throw StoreError(std::string("storage: ") + sqlite3_errmsg(db) + " (" + sql + ")");
        }
    };
    try {
        std::vector<std::string> problems;
        size_t count = 0;
        step_rows("PRAGMA integrity_check(20)", [&](sqlite3_stmt* s) {
            const auto* t = sqlite3_column_text(s, 0);
            const std::string line = t ? reinterpret_cast<const char*>(t) : "";
            if (line != "ok") {
                ++count;
                if (problems.size() < 2) problems.push_back(line);
            }
            return true;
        });
        if (count > 0) {
            std::string what = "integrity_check: " + problems[0];
            if (problems.size() > 1) what += "; " + problems[1];
            if (count > problems.size())
                what += " (and " + std::to_string(count - problems.size()) + " more)";
            return what;
        }
        std::vector<std::string> tables;
        step_rows("SELECT name FROM sqlite_master WHERE type = 'table'", [&](sqlite3_stmt* s) {
            const auto* t = sqlite3_column_text(s, 0);
            if (t) tables.emplace_back(reinterpret_cast<const char*>(t));
            return true;
        });
        for (const char* required : kRequiredTables) {
            if (std::find(tables.begin(), tables.end(), required) == tables.end())
                return std::string("not an openbcpm database (no table ") + required + ")";
        }
        int version = 0;
        step_rows("PRAGMA user_version", [&](sqlite3_stmt* s) {
            version = sqlite3_column_int(s, 0);
            return false;
        });
        if (version < kSchemaVersion) return {};  // rows from before checksums: migrated later
        for (const TableDef& t : kTables) {
            if (std::find(tables.begin(), tables.end(), t.name) == tables.end()) continue;
            const std::string sql = std::string("SELECT rowid FROM ") + t.name +
                                    " WHERE crc IS NOT NULL AND crc != openbcpm_crc(" + t.columns +
                                    ") LIMIT 1";
            std::optional<int64_t> bad;
            step_rows(sql.c_str(), [&](sqlite3_stmt* s) {
                bad = sqlite3_column_int64(s, 0);
                return false;
            });
            if (bad)
                return std::string("row ") + std::to_string(*bad) + " of table " + t.name +
                       " fails its checksum";
        }
        return {};
    } catch (const Damaged& d) {
        return d.what;
    }
}

// RAII for a prepared statement.
class Statement {
  public:
    explicit Statement(sqlite3_stmt* s) : s_(s) {}
    ~Statement() { sqlite3_finalize(s_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    sqlite3_stmt* get() const { return s_; }
    void reset() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }

  private:
    sqlite3_stmt* s_;
};

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* s, int i) {
    const auto* p = sqlite3_column_text(s, i);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(s, i)))
             : std::string();
}

// Visits every NV value of a snapshot, always in the same order, with a
// function that makes its stable key: the same walk loads and saves, and a
// checkpoint makes the key only of a value that changed.
template <class Snapshot, class F>
void for_each_nv(Snapshot& s, F&& f) {
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        auto& p = s.panel[static_cast<size_t>(panel - 1)];
        const auto pk = [panel] { return "p" + std::to_string(panel) + "."; };
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            auto& r = p.channel[static_cast<size_t>(c - 1)];
            const auto ck = [&pk, c] { return pk() + "c" + std::to_string(c) + "."; };
            f([&] { return ck() + "kwh"; }, r.kwh);
            f([&] { return ck() + "kwh_snapshot"; }, r.kwh_snapshot);
            f([&] { return ck() + "max_current"; }, r.max_current);
            f([&] { return ck() + "max_kw"; }, r.max_kw);
            f([&] { return ck() + "max_current_demand"; }, r.max_current_demand);
            f([&] { return ck() + "max_kw_demand"; }, r.max_kw_demand);
        }
        auto group = [&](const auto& gk, auto& g) {
            f([&] { return gk() + "max_kw"; }, g.max_kw);
            f([&] { return gk() + "max_kw_demand"; }, g.max_kw_demand);
            f([&] { return gk() + "max_current"; }, g.max_current);
            f([&] { return gk() + "max_current_demand"; }, g.max_current_demand);
        };
        const auto numbered = [&pk](const char* what, size_t i) {
            return [&pk, what, i] { return pk() + what + std::to_string(i + 1) + "."; };
        };
        for (size_t i = 0; i < p.logical.size(); ++i)
            group(numbered("lc", i), p.logical[i]);
        for (size_t i = 0; i < p.two_phase.size(); ++i)
            group(numbered("2ph", i), p.two_phase[i]);
        for (size_t i = 0; i < p.three_phase.size(); ++i)
            group(numbered("3ph", i), p.three_phase[i]);
        group([&pk] { return pk() + "mains."; }, p.mains);
    }
}

template <class Snapshot, class F>
void for_each_nv_event(Snapshot& s, F&& f) {
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        auto& e = s.panel[static_cast<size_t>(panel - 1)].events;
        const auto pk = [panel] { return "p" + std::to_string(panel) + "."; };
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            f([&] { return pk() + "c" + std::to_string(c) + ".event_status"; },
              e.status[static_cast<size_t>(c - 1)]);
        }
        for (size_t v = 0; v < 3; ++v)
            f([&] { return pk() + "v" + std::to_string(v + 1) + ".event_status"; },
              e.voltage_status[v]);
        for (size_t l = 0; l < e.global_counter.size(); ++l)
            f([&] { return pk() + "global_counter." + std::to_string(l); }, e.global_counter[l]);
        f([&] { return pk() + "recent_latching_channel"; }, e.recent_latching_channel);
        f([&] { return pk() + "recent_non_latching_channel"; }, e.recent_non_latching_channel);
    }
}

SettingValue decode_setting(const SettingDef& def, const std::string& text, bool* ok) {
    *ok = true;
    if (def.is_string) return text;
    try {
        size_t used = 0;
        const long long v = std::stoll(text, &used);
        if (used != text.size()) *ok = false;
        return int64_t{v};
    } catch (const std::exception&) {
        *ok = false;
        return int64_t{0};
    }
}

}  // namespace

StoreDamaged::StoreDamaged(std::filesystem::path file, std::string reason)
    : StoreError(file.string() + " is damaged: " + reason),
      file_(std::move(file)),
      reason_(std::move(reason)) {}

std::string StoreRecovery::note() const {
    if (damage.empty()) return {};
    std::string s = std::string(Store::kFileName) + " was damaged (" + damage + "); ";
    if (!restored_from.empty()) {
        s += "restored from " + restored_from.filename().string() + ", taken " +
             age_text(backup_age_seconds) +
             " before: settings, energy, maxima and events changed since then are lost";
    } else {
        s += "started afresh: every stored value is lost";
    }
    if (!damaged_copy.empty()) s += "; the damaged file is kept as " + damaged_copy.string();
    return s;
}

void Store::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string why = err ? err : sqlite3_errmsg(db_);
        sqlite3_free(err);
        throw StoreError(std::string("storage: ") + why + " (" + sql + ")");
    }
}

sqlite3_stmt* Store::prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
        sqlite3_finalize(s);
        throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_) + " (" + sql + ")");
    }
    return s;
}

void Store::fail_step(const char* what) {
    throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_) + " (" + what + ")");
}

template <class F>
void Store::transaction(F&& body) {
    if (in_transaction_) {  // part of an enclosing transaction
        body();
        return;
    }
    try {
        exec("BEGIN IMMEDIATE");
        in_transaction_ = true;
        body();
        exec("COMMIT");
        in_transaction_ = false;
    } catch (const StoreError& e) {
        if (in_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        in_transaction_ = false;
        note_failure(e.what());
        throw;
    }
    note_success();
}

void Store::note_failure(const std::string& why) {
    if (!health_.failing) {
        health_.failing = true;
        health_.since = wall_now();
        health_.failed = 0;
        ++health_.episodes;
        spdlog::error("storage failing: {}; writes are refused until it recovers", why);
    }
    ++health_.failed;
    health_.error = why;
    last_failure_ = std::chrono::steady_clock::now();
}

void Store::note_success() {
    if (!health_.failing) return;
    if (std::chrono::steady_clock::now() - last_failure_ < recovered_after_) return;
    health_.failing = false;
    const int64_t lasted = wall_now() - health_.since;
    const std::string text = "storage failed for " + age_text(lasted) + " (" +
                             std::to_string(health_.failed) +
                             " writes refused; last error: " + health_.error + ")";
    spdlog::warn("storage recovered: {}", text);
    try {
        add_log("storage", text);
    } catch (const StoreError&) {
        // Noted again by add_log itself.
    }
}

Store::Store(const std::filesystem::path& dir, OnDamage on_damage) : dir_(dir) {
    if (on_damage != OnDamage::ReadOnly) make_state_dir(dir_);
    try {
        open_checked(on_damage);
    } catch (...) {
        close_connection();
        throw;
    }
}

Store::~Store() {
    close_connection();
}

void Store::close_connection() {
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
    nv_written_.clear();  // another file, or the same one restored, may be opened next
}

void Store::open_connection(const std::filesystem::path& path, bool read_only) {
    close_connection();
    const int mode = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path.c_str(), &db_, mode | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
        const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        close_connection();
        throw StoreError("cannot open " + path.string() + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_extended_result_codes(db_, 1);
    register_functions(db_);
}

void Store::create_new() {
    // Made whole under another name, then renamed: a database that exists is
    // never half made, so an empty or partial openbcpm.db is always damage.
    const fs::path tmp = dir_ / (std::string(kFileName) + ".new");
    remove_database(tmp);
    create_private(tmp);
    open_connection(tmp);
    exec("BEGIN");
    for (const TableDef& t : kTables)
        exec(t.create);
    exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
    exec("COMMIT");
    exec("PRAGMA journal_mode=WAL");
    close_connection();
    fsync_path(tmp, false);
    std::error_code ec;
    fs::rename(tmp, file(), ec);
    if (ec) throw StoreError("cannot create " + file().string() + ": " + ec.message());
    fsync_path(dir_, true);
    created_ = true;
}

void Store::prepare_schema() {
    // WAL survives a killed process without losing committed transactions;
    // NORMAL sync is enough for that (power loss may drop the last commit).
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    // A bounded WAL. SQLite's default checkpoints it into the database only
    // at 1000 pages (4 MiB, some 80 times the database), so the meter's own
    // energy checkpoints would take back whatever space a full disk is given
    // and fill it again. Copied into the database every kWalPages pages and
    // cut back to that size when it restarts, the WAL stays near 512 KiB.
    exec(("PRAGMA wal_autocheckpoint=" + std::to_string(kWalPages)).c_str());
    exec(("PRAGMA journal_size_limit=" + std::to_string(kWalPages * 4096)).c_str());
    exec("PRAGMA foreign_keys=ON");
    int version = 0;
    {
        Statement s(prepare("PRAGMA user_version"));
        if (sqlite3_step(s.get()) == SQLITE_ROW) version = sqlite3_column_int(s.get(), 0);
    }
    bool missing = false;
    for (const TableDef& t : kTables) {
        Statement s(prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1"));
        sqlite3_bind_text(s.get(), 1, t.name, -1, SQLITE_STATIC);
        missing = missing || sqlite3_step(s.get()) != SQLITE_ROW;
    }
    if (version >= kSchemaVersion && !missing) return;  // nothing to write
    transaction([&] {
        for (const TableDef& t : kTables)
            exec(t.create);
        if (version < kSchemaVersion) {
            // A database from before row checksums: add them, trusting the rows
            // that integrity_check has just passed.
            for (const TableDef& t : kTables) {
                bool has_crc = false;
                Statement s(prepare((std::string("PRAGMA table_info(") + t.name + ")").c_str()));
                while (sqlite3_step(s.get()) == SQLITE_ROW)
                    has_crc = has_crc || column_text(s.get(), 1) == "crc";
                if (!has_crc)
                    exec(
                        (std::string("ALTER TABLE ") + t.name + " ADD COLUMN crc INTEGER").c_str());
                exec(
                    (std::string("UPDATE ") + t.name + " SET crc = openbcpm_crc(" + t.columns + ")")
                        .c_str());
            }
            exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
        }
    });
}

std::string Store::check_open_database() {
    return check_connection(db_);
}

std::string Store::check_file(const std::filesystem::path& file) {
    if (std::string header = check_header(file); !header.empty()) return header;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return "cannot be opened: " + why;
    }
    sqlite3_extended_result_codes(db, 1);
    register_functions(db);
    std::string damage;
    try {
        damage = check_connection(db);
    } catch (const StoreError& e) {
        damage = e.what();
    }
    sqlite3_close(db);
    return damage;
}

void Store::open_checked(OnDamage on_damage) {
    const fs::path db = file();
    if (on_damage == OnDamage::ReadOnly) {
        std::error_code ec;
        if (!fs::exists(db, ec)) throw StoreError(db.string() + " does not exist");
        recovery_.damage = check_header(db);
        if (recovery_.damage.empty()) {
            open_connection(db, true);
            recovery_.damage = check_open_database();
        }
        if (recovery_.damage.empty()) return;
        throw StoreDamaged(db, recovery_.damage);
    }
    // What an interrupted creation, backup or restore left behind.
    for (const char* stale : {".new", ".backup-tmp", ".restore-tmp"})
        remove_database(dir_ / (std::string(kFileName) + stale));

    std::error_code ec;
    bool backups = false;
    for (int i = 0; i < kBackups; ++i)
        backups = backups || fs::exists(dir_ / backup_name(i), ec);

    std::string damage;
    if (!fs::exists(db, ec)) {
        if (!backups) {
            // Only a state directory without a database is a new meter.
            remove_database(db);  // a WAL or shared-memory file left alone
            create_new();
            open_connection(db);
            prepare_schema();
            return;
        }
        damage = "the file is missing, its backups are not";
    } else {
        damage = check_header(db);
        if (damage.empty()) {
            open_connection(db);
            damage = check_open_database();
            if (damage.empty()) {
                prepare_schema();
                for (const char* suffix : {"", "-wal", "-shm"})
                    tighten(db.string() + suffix, 0600);
                for (int i = 0; i < kBackups; ++i)
                    tighten(dir_ / backup_name(i), 0600);
                return;
            }
            close_connection();
        }
    }

    recovery_.damage = damage;
    if (on_damage == OnDamage::Refuse) throw StoreDamaged(db, damage);

    fs::path good;
    if (on_damage == OnDamage::Restore) {
        for (int i = 0; i < kBackups && good.empty(); ++i) {
            const fs::path b = dir_ / backup_name(i);
            if (!fs::exists(b, ec)) continue;
            const std::string why = check_file(b);
            if (why.empty())
                good = b;
            else
                spdlog::error("storage: backup {} is not usable either: {}", b.string(), why);
        }
        if (good.empty())
            throw StoreDamaged(db, damage + (backups ? "; no backup beside it is good either"
                                                     : "; there is no backup beside it"));
    }

    // Keep the damaged file (one, the latest) for whoever wants to look at it.
    if (fs::exists(db, ec)) {
        const fs::path aside = dir_ / (std::string(kFileName) + ".damaged");
        remove_database(aside);
        for (const char* suffix : {"", "-wal", "-shm"}) {
            const fs::path from = db.string() + suffix;
            if (!fs::exists(from, ec)) continue;
            fs::rename(from, aside.string() + suffix, ec);
            if (ec) throw StoreError("cannot move " + from.string() + " aside: " + ec.message());
        }
        recovery_.damaged_copy = aside;
    }
    remove_database(db);

    if (good.empty()) {  // Discard
        create_new();
        open_connection(db);
        prepare_schema();
        spdlog::error("storage: {}", recovery_.note());
        add_log("storage", recovery_.note());
        return;
    }

    const fs::path tmp = dir_ / (std::string(kFileName) + ".restore-tmp");
    {
        std::ifstream in(good, std::ios::binary);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        if (!in && !in.eof()) throw StoreError("cannot read " + good.string());
        write_private_file(tmp, bytes.str());
    }
    fs::rename(tmp, db, ec);
    if (ec) throw StoreError("cannot restore " + db.string() + ": " + ec.message());
    fsync_path(dir_, true);
    const auto mtime = fs::last_write_time(good, ec);
    if (!ec) {
        const auto age = std::chrono::file_clock::now() - mtime;
        recovery_.backup_age_seconds =
            std::chrono::duration_cast<std::chrono::seconds>(age).count();
    }
    recovery_.restored_from = good;
    open_connection(db);
    if (std::string again = check_open_database(); !again.empty())
        throw StoreDamaged(db, "restored from " + good.string() + " but still " + again);
    prepare_schema();
    spdlog::error("storage: {}", recovery_.note());
    add_log("storage", recovery_.note());
}

std::map<std::string, StoredSetting> Store::load_settings() {
    std::map<std::string, StoredSetting> out;
    Statement s(prepare("SELECT key, value, config_seed FROM settings"));
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
        const std::string key = column_text(s.get(), 0);
        const SettingDef* def = find_setting(key);
        if (!def) continue;  // a setting this version no longer has
        bool ok = false;
        StoredSetting st;
        st.value = decode_setting(*def, column_text(s.get(), 1), &ok);
        if (!ok) continue;
        if (sqlite3_column_type(s.get(), 2) != SQLITE_NULL)
            st.config_seed = column_text(s.get(), 2);
        out.emplace(key, std::move(st));
    }
    return out;
}

void Store::save_setting(const std::string& key, const SettingValue& value,
                         const std::optional<std::string>& config_seed) {
    transaction([&] {
        Statement s(
            prepare("INSERT INTO settings(key, value, config_seed, crc)"
                    " VALUES(?1, ?2, ?3, openbcpm_crc(?1, ?2, ?3))"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                    " config_seed = excluded.config_seed, crc = excluded.crc"));
        bind_text(s.get(), 1, key);
        bind_text(s.get(), 2, to_string(value));
        if (config_seed) bind_text(s.get(), 3, *config_seed);
        if (sqlite3_step(s.get()) != SQLITE_DONE) fail_step("save setting");
    });
}

void Store::update_setting(const std::string& key, const SettingValue& value) {
    update_settings({{key, value}});
}

void Store::update_settings(const std::vector<std::pair<std::string, SettingValue>>& values) {
    if (values.empty()) return;
    transaction([&] {
        // Keeps the row's config seed: the file's value is still what it was.
        Statement s(
            prepare("INSERT INTO settings(key, value, crc) VALUES(?1, ?2, openbcpm_crc(?1, ?2, "
                    "NULL)) ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                    " crc = openbcpm_crc(key, excluded.value, config_seed)"));
        for (const auto& [key, value] : values) {
            bind_text(s.get(), 1, key);
            bind_text(s.get(), 2, to_string(value));
            if (sqlite3_step(s.get()) != SQLITE_DONE) fail_step("update setting");
            s.reset();
        }
    });
}

void Store::update_settings_and_counters(
    const std::vector<std::pair<std::string, SettingValue>>& values,
    const std::vector<std::pair<std::string, int64_t>>& counters) {
    transaction([&] {
        update_settings(values);
        for (const auto& [key, value] : counters)
            save_counter(key, value);
    });
}

void Store::delete_setting(const std::string& key) {
    transaction([&] {
        Statement s(prepare("DELETE FROM settings WHERE key = ?1"));
        bind_text(s.get(), 1, key);
        if (sqlite3_step(s.get()) != SQLITE_DONE) fail_step("delete setting");
    });
}

void Store::clear_settings() {
    transaction([&] { exec("DELETE FROM settings"); });
}

bool Store::load_meter_state(MeterSnapshot& into) {
    std::map<std::string, double> values;
    {
        Statement s(prepare("SELECT key, value FROM meter_nv"));
        while (sqlite3_step(s.get()) == SQLITE_ROW) {
            values.emplace(column_text(s.get(), 0), sqlite3_column_double(s.get(), 1));
        }
    }
    if (values.empty()) return false;
    for_each_nv(into, [&](const auto& key, double& v) {
        auto it = values.find(key());
        if (it != values.end() && std::isfinite(it->second) && it->second >= 0.0) v = it->second;
    });
    for_each_nv_event(into, [&](const auto& key, uint16_t& v) {
        auto it = values.find(key());
        if (it != values.end() && it->second >= 0.0 && it->second <= 65535.0)
            v = static_cast<uint16_t>(it->second);
    });
    return true;
}

std::optional<double> Store::load_checkpoint_time() {
    Statement s(prepare("SELECT value FROM meter_nv WHERE key = 'meter_time'"));
    if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
    return sqlite3_column_double(s.get(), 0);
}

void Store::checkpoint(const MeterSnapshot& snapshot) {
    // Only the values that changed since the last checkpoint this connection
    // wrote are put: most of a meter's NV values (maxima, counters, idle
    // channels' energy) stay the same from one second to the next, and a site
    // of hundreds of meters checkpoints each every second on its event loop.
    nv_changed_.clear();
    transaction([&] {
        Statement s(
            prepare("INSERT INTO meter_nv(key, value, crc) VALUES(?1, ?2, openbcpm_crc(?1, ?2))"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value, crc = excluded.crc"
                    " WHERE value != excluded.value"));
        auto put = [&](const std::string& key, double v) {
            bind_text(s.get(), 1, key);
            sqlite3_bind_double(s.get(), 2, v);
            if (sqlite3_step(s.get()) != SQLITE_DONE) fail_step("checkpoint");
            s.reset();
        };
        size_t i = 0;
        auto put_if_changed = [&](const auto& key, double v) {
            const bool same = i < nv_written_.size() &&
                              std::bit_cast<uint64_t>(nv_written_[i]) == std::bit_cast<uint64_t>(v);
            if (!same) {
                put(key(), v);
                nv_changed_.emplace_back(i, v);
            }
            ++i;
        };
        for_each_nv(snapshot, [&](const auto& key, const double& v) { put_if_changed(key, v); });
        for_each_nv_event(snapshot, [&](const auto& key, const uint16_t& v) {
            put_if_changed(key, static_cast<double>(v));
        });
        // Metered seconds since this start: tells how recent the checkpoint is (not restored).
        put("meter_time", snapshot.time);
        // Committed below: what was written is known only now (a failure throws past this).
        if (nv_written_.size() < i) nv_written_.resize(i, std::numeric_limits<double>::quiet_NaN());
    });
    for (const auto& [index, value] : nv_changed_)
        nv_written_[index] = value;
}

void Store::clear_meter_state() {
    nv_written_.clear();
    transaction([&] { exec("DELETE FROM meter_nv"); });
}

std::optional<int64_t> Store::load_counter(const std::string& key) {
    Statement s(prepare("SELECT value FROM counters WHERE key = ?1"));
    bind_text(s.get(), 1, key);
    if (sqlite3_step(s.get()) == SQLITE_ROW) return sqlite3_column_int64(s.get(), 0);
    return std::nullopt;
}

void Store::save_counter(const std::string& key, int64_t value) {
    transaction([&] {
        Statement s(
            prepare("INSERT INTO counters(key, value, crc) VALUES(?1, ?2, openbcpm_crc(?1, ?2))"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value, crc = excluded.crc"));
        bind_text(s.get(), 1, key);
        sqlite3_bind_int64(s.get(), 2, value);
        if (sqlite3_step(s.get()) != SQLITE_DONE) fail_step("save counter");
    });
}

void Store::append_events(const EventRecord* records, size_t count, int64_t wall_time,
                          size_t keep) {
    if (count == 0) return;
    transaction([&] {
        Statement s(
            prepare("INSERT INTO events(wall_time, meter_time, rtc, panel, channel, kind, bit, "
                    "value, threshold, crc) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                    " openbcpm_crc(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9))"));
        for (size_t i = 0; i < count; ++i) {
            const EventRecord& r = records[i];
            sqlite3_bind_int64(s.get(), 1, wall_time);
            sqlite3_bind_double(s.get(), 2, r.time);
            sqlite3_bind_int64(s.get(), 3, r.rtc);
            sqlite3_bind_int64(s.get(), 4, r.panel);
            sqlite3_bind_int64(s.get(), 5, r.channel);
            sqlite3_bind_int64(s.get(), 6, static_cast<int>(r.kind));
            sqlite3_bind_int64(s.get(), 7, r.bit);
            sqlite3_bind_double(s.get(), 8, r.value);
            sqlite3_bind_double(s.get(), 9, r.threshold);
            if (sqlite3_step(s.get()) != SQLITE_DONE) fail_step("append events");
            s.reset();
        }
        Statement trim(prepare("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?1"));
        sqlite3_bind_int64(trim.get(), 1, static_cast<sqlite3_int64>(keep));
        if (sqlite3_step(trim.get()) != SQLITE_DONE) fail_step("trim events");
    });
}

std::vector<StoredEvent> Store::load_events(size_t limit, int64_t after_id) {
    std::vector<StoredEvent> out;
    Statement s(
        prepare("SELECT id, wall_time, meter_time, rtc, panel, channel, kind, bit, value, "
                "threshold FROM events"
                " WHERE id > ?1 ORDER BY id DESC LIMIT ?2"));
    sqlite3_bind_int64(s.get(), 1, after_id);
    sqlite3_bind_int64(s.get(), 2, static_cast<sqlite3_int64>(limit));
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
        StoredEvent e;
        e.id = sqlite3_column_int64(s.get(), 0);
        e.wall_time = sqlite3_column_int64(s.get(), 1);
        e.record.time = sqlite3_column_double(s.get(), 2);
        e.record.rtc = sqlite3_column_int64(s.get(), 3);
        e.record.panel = static_cast<uint8_t>(sqlite3_column_int(s.get(), 4));
        e.record.channel = static_cast<uint8_t>(sqlite3_column_int(s.get(), 5));
        const int kind = sqlite3_column_int(s.get(), 6);
        e.record.kind = static_cast<EventKind>(kind >= 0 && kind <= 3 ? kind : 0);
        e.record.bit = static_cast<uint16_t>(sqlite3_column_int(s.get(), 7));
        e.record.value = sqlite3_column_double(s.get(), 8);
        e.record.threshold = sqlite3_column_double(s.get(), 9);
        out.push_back(e);
    }
    return out;
}

void Store::clear_events() {
    transaction([&] { exec("DELETE FROM events"); });
}

std::optional<std::string> Store::load_text(const std::string& key) {
    Statement s(prepare("SELECT value FROM texts WHERE key = ?1"));
    bind_text(s.get(), 1, key);
    if (sqlite3_step(s.get()) == SQLITE_ROW) return column_text(s.get(), 0);
    return std::nullopt;
}

void Store::save_text(const std::string& key, const std::string& value) {
    transaction([&] {
        Statement s(
            prepare("INSERT INTO texts(key, value, crc) VALUES(?1, ?2, openbcpm_crc(?1, ?2))"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value, crc = excluded.crc"));
        bind_text(s.get(), 1, key);
        bind_text(s.get(), 2, value);
        if (sqlite3_step(s.get()) != SQLITE_DONE) fail_step("save text");
    });
}

void Store::delete_text(const std::string& key) {
    transaction([&] {
        Statement s(prepare("DELETE FROM texts WHERE key = ?1"));
        bind_text(s.get(), 1, key);
        if (sqlite3_step(s.get()) != SQLITE_DONE) fail_step("delete text");
    });
}

void Store::add_log(const std::string& kind, const std::string& text) {
    transaction([&] {
        Statement s(
            prepare("INSERT INTO device_log(wall_time, kind, text, crc)"
                    " VALUES(?1, ?2, ?3, openbcpm_crc(?1, ?2, ?3))"));
        sqlite3_bind_int64(s.get(), 1, wall_now());
        bind_text(s.get(), 2, kind);
        bind_text(s.get(), 3, text);
        if (sqlite3_step(s.get()) != SQLITE_DONE) fail_step("device log");
        exec("DELETE FROM device_log WHERE id <= (SELECT MAX(id) FROM device_log) - 1000");
    });
}

std::vector<LogEntry> Store::load_log(size_t limit) {
    std::vector<LogEntry> out;
    Statement s(
        prepare("SELECT id, wall_time, kind, text FROM device_log ORDER BY id DESC LIMIT ?1"));
    sqlite3_bind_int64(s.get(), 1, static_cast<sqlite3_int64>(limit));
    while (sqlite3_step(s.get()) == SQLITE_ROW) {
        out.push_back({sqlite3_column_int64(s.get(), 0), sqlite3_column_int64(s.get(), 1),
                       column_text(s.get(), 2), column_text(s.get(), 3)});
    }
    return out;
}

void Store::clear_all_but_settings() {
    nv_written_.clear();
    transaction([&] {
        exec(
            "DELETE FROM meter_nv; DELETE FROM counters; DELETE FROM events; DELETE FROM texts; "
            "DELETE FROM device_log");
    });
}

void Store::remove_backups() {
    for (int i = 0; i < kBackups; ++i)
        remove_database(dir_ / backup_name(i));
}

bool Store::backup() {
    const fs::path tmp = dir_ / (std::string(kFileName) + ".backup-tmp");
    std::string why;
    sqlite3* dst = nullptr;
    try {
        remove_database(tmp);
        create_private(tmp);
        if (sqlite3_open_v2(tmp.c_str(), &dst, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
            throw StoreError(dst ? sqlite3_errmsg(dst) : "out of memory");
        sqlite3_extended_result_codes(dst, 1);
        register_functions(dst);
        // One step copies a consistent snapshot (a read transaction on the source).
        sqlite3_backup* b = sqlite3_backup_init(dst, "main", db_, "main");
        if (!b) throw StoreError(sqlite3_errmsg(dst));
        const int rc = sqlite3_backup_step(b, -1);
        sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE) throw StoreError(sqlite3_errmsg(dst));
        // A copy in rollback-journal mode opens read-only without -wal/-shm files.
        if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr) != SQLITE_OK)
            throw StoreError(sqlite3_errmsg(dst));
        // Only a good copy may replace the last good one.
        if (std::string damage = check_connection(dst); !damage.empty())
            throw StoreError("the copy is not good: " + damage);
        sqlite3_close(dst);
        dst = nullptr;
        fsync_path(tmp, false);
        std::error_code ec;
        for (int i = kBackups - 1; i > 0; --i) {
            const fs::path newer = dir_ / backup_name(i - 1);
            if (fs::exists(newer, ec)) fs::rename(newer, dir_ / backup_name(i), ec);
            if (ec) throw StoreError("cannot rotate " + newer.string() + ": " + ec.message());
        }
        fs::rename(tmp, dir_ / backup_name(0), ec);
        if (ec) throw StoreError(ec.message());
        fsync_path(dir_, true);
    } catch (const StoreError& e) {
        why = e.what();
    }
    if (dst) sqlite3_close(dst);
    if (!why.empty()) {
        remove_database(tmp);
        if (health_.backup_error.empty())
            spdlog::error("storage: backup to {} failed: {}", (dir_ / backup_name(0)).string(),
                          why);
        health_.backup_error = why;
        return false;
    }
    if (!health_.backup_error.empty()) spdlog::info("storage: backups work again");
    health_.backup_error.clear();
    health_.last_backup = wall_now();
    return true;
}

Settings merge_settings(Store& store, const Settings& from_config,
                        const std::map<std::string, SettingValue>& explicit_settings,
                        std::vector<std::string>* warnings) {
    Settings s = from_config;
    // Start from factory values for everything the file did not set; then apply the
    // store; then the file where the file changed since the store last saw it.
    const auto stored = store.load_settings();
    for (const SettingDef& def : setting_defs()) {
        if (def.panel > s.model.panels) continue;
        auto st = stored.find(def.key);
        auto ex = explicit_settings.find(def.key);
        if (ex != explicit_settings.end()) {
            const std::string seed = to_string(ex->second);
            if (st != stored.end() && st->second.config_seed == seed) {
                // The file has not changed since: a later edit through a face wins.
                if (!write_setting(s, def, st->second.value).ok()) {
                    if (warnings)
                        warnings->push_back("stored " + def.key +
                                            " refused; using the config file's value");
                    def.set(s, ex->second);
                }
            } else {
                // New or edited in the file: the file wins and seeds the store
                // (again at the next start if storage fails now).
                try {
                    store.save_setting(def.key, ex->second, seed);
                } catch (const StoreError& e) {
                    if (warnings) warnings->push_back("seeding " + def.key + ": " + e.what());
                }
            }
            continue;
        }
        if (st == stored.end()) continue;
        if (st->second.config_seed && to_string(st->second.value) == *st->second.config_seed) {
            // Seeded by a file that no longer sets it, and never edited since: back to factory.
            try {
                store.delete_setting(def.key);
            } catch (const StoreError& e) {
                if (warnings) warnings->push_back("forgetting " + def.key + ": " + e.what());
            }
            continue;
        }
        const WriteResult r = write_setting(s, def, st->second.value);
        if (!r.ok() && warnings)
            warnings->push_back("stored " + def.key + " ignored: " + r.message);
    }
    return s;
}

WriteResult persist_setting(Store* store, Settings& settings, const SettingDef& def,
                            const SettingValue& value) {
    // Validated on a copy, stored, then applied: a write that cannot be stored changes nothing.
    Settings trial = settings;
    WriteResult r = write_setting(trial, def, value);
    if (!r.ok()) return r;
    if (store && def.nv) {
        try {
            store->update_setting(def.key, value);
        } catch (const StoreError& e) {
            return {WriteError::StorageFailed, not_stored_message(e)};
        }
    }
    settings = std::move(trial);
    return r;
}

void write_private_file(const std::filesystem::path& path, const std::string& text, unsigned mode) {
    const std::filesystem::path tmp = path.string() + ".tmp";
    ::unlink(tmp.c_str());
    const int fd =
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) throw std::runtime_error("cannot create " + tmp.string() + ": " + errno_text());
    size_t done = 0;
    bool ok = true;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = false;
            break;
        }
        done += static_cast<size_t>(n);
    }
    const std::string why = ok ? std::string() : errno_text();
    ok = ok && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string reason = why.empty() ? errno_text() : why;
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + path.string() + ": " + reason);
    }
    fsync_path(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path(), true);
}

}  // namespace openbcpm
