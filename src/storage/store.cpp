#include "storage/store.hpp"

#include <sqlite3.h>

#include <cmath>
#include <cstring>
#include <functional>

namespace openbcpm {

namespace {

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

// Visits every NV value of a snapshot with a stable key; the same walk loads and saves.
template <class Snapshot, class F>
void for_each_nv(Snapshot& s, F&& f) {
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        auto& p = s.panel[static_cast<size_t>(panel - 1)];
        const std::string pk = "p" + std::to_string(panel) + ".";
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            auto& r = p.channel[static_cast<size_t>(c - 1)];
            const std::string ck = pk + "c" + std::to_string(c) + ".";
            f(ck + "kwh", r.kwh);
            f(ck + "kwh_snapshot", r.kwh_snapshot);
            f(ck + "max_current", r.max_current);
            f(ck + "max_kw", r.max_kw);
            f(ck + "max_current_demand", r.max_current_demand);
            f(ck + "max_kw_demand", r.max_kw_demand);
        }
        auto group = [&](const std::string& gk, auto& g) {
            f(gk + "max_kw", g.max_kw);
            f(gk + "max_kw_demand", g.max_kw_demand);
            f(gk + "max_current", g.max_current);
            f(gk + "max_current_demand", g.max_current_demand);
        };
        for (size_t i = 0; i < p.logical.size(); ++i)
            group(pk + "lc" + std::to_string(i + 1) + ".", p.logical[i]);
        for (size_t i = 0; i < p.two_phase.size(); ++i)
            group(pk + "2ph" + std::to_string(i + 1) + ".", p.two_phase[i]);
        for (size_t i = 0; i < p.three_phase.size(); ++i) {
            group(pk + "3ph" + std::to_string(i + 1) + ".", p.three_phase[i]);
        }
        group(pk + "mains.", p.mains);
    }
}

template <class Snapshot, class F>
void for_each_nv_event(Snapshot& s, F&& f) {
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        auto& e = s.panel[static_cast<size_t>(panel - 1)].events;
        const std::string pk = "p" + std::to_string(panel) + ".";
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            f(pk + "c" + std::to_string(c) + ".event_status", e.status[static_cast<size_t>(c - 1)]);
        }
        for (size_t v = 0; v < 3; ++v)
            f(pk + "v" + std::to_string(v + 1) + ".event_status", e.voltage_status[v]);
        for (size_t l = 0; l < e.global_counter.size(); ++l) {
            f(pk + "global_counter." + std::to_string(l), e.global_counter[l]);
        }
        f(pk + "recent_latching_channel", e.recent_latching_channel);
        f(pk + "recent_non_latching_channel", e.recent_non_latching_channel);
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

Store::Store(const std::filesystem::path& dir) : dir_(dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec)
        throw StoreError("cannot create state directory " + dir_.string() + ": " + ec.message());
    const std::string path = (dir_ / "openbcpm.db").string();
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError("cannot open " + path + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
    try {
        // WAL survives a killed process without losing committed transactions;
        // NORMAL sync is enough for that (power loss may drop the last commit).
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=NORMAL");
        exec("PRAGMA foreign_keys=ON");
        exec(
            "CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL, "
            "config_seed TEXT)");
        exec("CREATE TABLE IF NOT EXISTS meter_nv(key TEXT PRIMARY KEY, value REAL NOT NULL)");
        exec("CREATE TABLE IF NOT EXISTS counters(key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
        exec("CREATE TABLE IF NOT EXISTS texts(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        exec(
            "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY AUTOINCREMENT, wall_time "
            "INTEGER NOT NULL,"
            " meter_time REAL NOT NULL, rtc INTEGER NOT NULL, panel INTEGER NOT NULL, channel "
            "INTEGER NOT NULL,"
            " kind INTEGER NOT NULL, bit INTEGER NOT NULL, value REAL NOT NULL, threshold REAL NOT "
            "NULL)");
        exec("PRAGMA integrity_check");
    } catch (const StoreError&) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

Store::~Store() {
    if (db_) sqlite3_close(db_);
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
        throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_) + " (" + sql + ")");
    }
    return s;
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
    Statement s(
        prepare("INSERT INTO settings(key, value, config_seed) VALUES(?1, ?2, ?3)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value, config_seed = "
                "excluded.config_seed"));
    bind_text(s.get(), 1, key);
    bind_text(s.get(), 2, to_string(value));
    if (config_seed) bind_text(s.get(), 3, *config_seed);
    if (sqlite3_step(s.get()) != SQLITE_DONE)
        throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_));
}

void Store::update_setting(const std::string& key, const SettingValue& value) {
    // Keeps the row's config seed: the file's value is still what it was.
    Statement s(
        prepare("INSERT INTO settings(key, value) VALUES(?1, ?2)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    bind_text(s.get(), 1, key);
    bind_text(s.get(), 2, to_string(value));
    if (sqlite3_step(s.get()) != SQLITE_DONE)
        throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_));
}

void Store::delete_setting(const std::string& key) {
    Statement s(prepare("DELETE FROM settings WHERE key = ?1"));
    bind_text(s.get(), 1, key);
    if (sqlite3_step(s.get()) != SQLITE_DONE)
        throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_));
}

void Store::clear_settings() {
    exec("DELETE FROM settings");
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
    for_each_nv(into, [&](const std::string& key, double& v) {
        auto it = values.find(key);
        if (it != values.end() && std::isfinite(it->second) && it->second >= 0.0) v = it->second;
    });
    for_each_nv_event(into, [&](const std::string& key, uint16_t& v) {
        auto it = values.find(key);
        if (it != values.end() && it->second >= 0.0 && it->second <= 65535.0)
            v = static_cast<uint16_t>(it->second);
    });
    return true;
}

void Store::checkpoint(const MeterSnapshot& snapshot) {
    exec("BEGIN IMMEDIATE");
    try {
        Statement s(
            prepare("INSERT INTO meter_nv(key, value) VALUES(?1, ?2)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE value != "
                    "excluded.value"));
        auto put = [&](const std::string& key, double v) {
            bind_text(s.get(), 1, key);
            sqlite3_bind_double(s.get(), 2, v);
            if (sqlite3_step(s.get()) != SQLITE_DONE)
                throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_));
            s.reset();
        };
        for_each_nv(snapshot, [&](const std::string& key, const double& v) { put(key, v); });
        for_each_nv_event(snapshot,
                          [&](const std::string& key, const uint16_t& v) { put(key, v); });
        // Metered seconds since this start: tells how recent the checkpoint is (not restored).
        put("meter_time", snapshot.time);
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void Store::clear_meter_state() {
    exec("DELETE FROM meter_nv");
}

std::optional<int64_t> Store::load_counter(const std::string& key) {
    Statement s(prepare("SELECT value FROM counters WHERE key = ?1"));
    bind_text(s.get(), 1, key);
    if (sqlite3_step(s.get()) == SQLITE_ROW) return sqlite3_column_int64(s.get(), 0);
    return std::nullopt;
}

void Store::save_counter(const std::string& key, int64_t value) {
    Statement s(
        prepare("INSERT INTO counters(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET "
                "value = excluded.value"));
    bind_text(s.get(), 1, key);
    sqlite3_bind_int64(s.get(), 2, value);
    if (sqlite3_step(s.get()) != SQLITE_DONE)
        throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_));
}

void Store::append_events(const EventRecord* records, size_t count, int64_t wall_time,
                          size_t keep) {
    if (count == 0) return;
    exec("BEGIN IMMEDIATE");
    try {
        Statement s(
            prepare("INSERT INTO events(wall_time, meter_time, rtc, panel, channel, kind, bit, "
                    "value, threshold)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
        for (size_t i = 0; i < count; ++i) {
            const EventRecord& r = records[i];
            sqlite3_bind_int64(s.get(), 1, wall_time);
            sqlite3_bind_double(s.get(), 2, r.time);
            sqlite3_bind_int64(s.get(), 3, r.rtc);
            sqlite3_bind_int(s.get(), 4, r.panel);
            sqlite3_bind_int(s.get(), 5, r.channel);
            sqlite3_bind_int(s.get(), 6, static_cast<int>(r.kind));
            sqlite3_bind_int(s.get(), 7, r.bit);
            sqlite3_bind_double(s.get(), 8, r.value);
            sqlite3_bind_double(s.get(), 9, r.threshold);
            if (sqlite3_step(s.get()) != SQLITE_DONE)
                throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_));
            s.reset();
        }
        Statement trim(prepare("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?1"));
        sqlite3_bind_int64(trim.get(), 1, static_cast<sqlite3_int64>(keep));
        if (sqlite3_step(trim.get()) != SQLITE_DONE)
            throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_));
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
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
    exec("DELETE FROM events");
}

std::optional<std::string> Store::load_text(const std::string& key) {
    Statement s(prepare("SELECT value FROM texts WHERE key = ?1"));
    bind_text(s.get(), 1, key);
    if (sqlite3_step(s.get()) == SQLITE_ROW) return column_text(s.get(), 0);
    return std::nullopt;
}

void Store::save_text(const std::string& key, const std::string& value) {
    Statement s(
        prepare("INSERT INTO texts(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value "
                "= excluded.value"));
    bind_text(s.get(), 1, key);
    bind_text(s.get(), 2, value);
    if (sqlite3_step(s.get()) != SQLITE_DONE)
        throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_));
}

void Store::delete_text(const std::string& key) {
    Statement s(prepare("DELETE FROM texts WHERE key = ?1"));
    bind_text(s.get(), 1, key);
    if (sqlite3_step(s.get()) != SQLITE_DONE)
        throw StoreError(std::string("storage: ") + sqlite3_errmsg(db_));
}

void Store::clear_all_but_settings() {
    exec("BEGIN IMMEDIATE");
    exec("DELETE FROM meter_nv; DELETE FROM counters; DELETE FROM events; DELETE FROM texts");
    exec("COMMIT");
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
                // New or edited in the file: the file wins and seeds the store.
                store.save_setting(def.key, ex->second, seed);
            }
            continue;
        }
        if (st == stored.end()) continue;
        if (st->second.config_seed && to_string(st->second.value) == *st->second.config_seed) {
            // Seeded by a file that no longer sets it, and never edited since: back to factory.
            store.delete_setting(def.key);
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
    WriteResult r = write_setting(settings, def, value);
    if (!r.ok() || !store || !def.nv) return r;
    store->update_setting(def.key, value);
    return r;
}

}  // namespace openbcpm
