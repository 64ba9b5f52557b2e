// Non-volatile storage: one SQLite database (WAL) in the state directory.
// Settings are written transactionally on change; energy, maxima and NV
// counters are checkpointed by the caller at least once a second.
//
// Opening checks the database (integrity_check and each row's checksum) and
// never takes damage silently: it restores the newest good backup beside it,
// or refuses (StoreDamaged). A failed write throws StoreError and is noted in
// health() until writes have succeeded for kRecoveredAfter with none failing
// (docs/storage.md).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/settings.hpp"
#include "events/event_engine.hpp"
#include "metering/snapshot.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace openbcpm {

class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// What a write that could not be stored answers (each face adds its own
// error code; the web's 503 body says exactly this).
inline std::string not_stored_message(const StoreError& e) {
    return std::string("Storage is failing, nothing was changed: ") + e.what();
}

// The database is damaged and no good backup could replace it.
class StoreDamaged : public StoreError {
  public:
    StoreDamaged(std::filesystem::path file, std::string reason);
    const std::filesystem::path& file() const { return file_; }
    const std::string& reason() const { return reason_; }

  private:
    std::filesystem::path file_;
    std::string reason_;
};

struct StoredSetting {
    SettingValue value;
    std::optional<std::string> config_seed;  // config-file value this row was seeded from
};

struct StoredEvent {
    int64_t id = 0;
    int64_t wall_time = 0;  // seconds since 1970 (host clock) when recorded
    EventRecord record;
};

// A line of the device log: what happened to the meter itself (a restore, a
// storage failure and its end), beside the over-threshold event history.
struct LogEntry {
    int64_t id = 0;
    int64_t wall_time = 0;
    std::string kind;  // "storage"
    std::string text;
};

// Whether writes reach the disk now.
struct StoreHealth {
    bool failing = false;
    std::string error;        // the last failure
    int64_t since = 0;        // wall seconds when this failure began
    uint64_t failed = 0;      // writes refused since it began
    uint64_t episodes = 0;    // failures since the store was opened
    int64_t last_backup = 0;  // wall seconds of the newest good backup (0 none)
    std::string backup_error;
};

// What opening found and did about it.
struct StoreRecovery {
    std::string damage;                   // what the check found ("" = nothing)
    std::filesystem::path restored_from;  // the backup used
    int64_t backup_age_seconds = 0;
    std::filesystem::path damaged_copy;  // where the damaged file was put
    std::string note() const;            // one sentence for logs and the GUI
};

class Store {
  public:
    enum class OnDamage : uint8_t {
        Restore,  // the meter: restore the newest good backup, else throw StoreDamaged
        Refuse,   // readers (events, export): throw StoreDamaged, change nothing
        Discard,  // factory-reset --all: put the damaged file aside and start afresh
        // `openbcpm site` beside a running meter: opens read-only (a WAL
        // reader), creates, removes and repairs nothing; throws StoreError
        // when there is no database, StoreDamaged when it is damaged.
        ReadOnly,
    };
    static constexpr const char* kFileName = "openbcpm.db";
    static constexpr int kBackups = 2;  // openbcpm.db.backup (newest), openbcpm.db.backup.1
    // The WAL is copied into the database at this many pages (4 KiB each) and
    // cut back to this size when it restarts: what the meter's writes can take
    // of a disk beyond the database itself.
    static constexpr int kWalPages = 128;

    // Opens <dir>/openbcpm.db, creating the directory (0700) and a new database
    // (0600) when the directory has none. Throws StoreError, StoreDamaged.
    explicit Store(const std::filesystem::path& dir, OnDamage on_damage = OnDamage::Restore);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path file() const { return dir_ / kFileName; }
    const StoreRecovery& recovery() const { return recovery_; }
    const StoreHealth& health() const { return health_; }
    bool created() const { return created_; }  // a new database this start
    // How long writes must succeed with none failing before a failure is
    // over. A disk with a few blocks left takes one write and refuses the
    // next: without this the state (log, device log, health bit) would flap.
    static constexpr std::chrono::milliseconds kRecoveredAfter{5000};
    void set_recovered_after(std::chrono::milliseconds quiet) { recovered_after_ = quiet; }

    // Settings.
    std::map<std::string, StoredSetting> load_settings();
    void save_setting(const std::string& key, const SettingValue& value,
                      const std::optional<std::string>& config_seed);
    // A write through a face: keeps the row's config seed.
    void update_setting(const std::string& key, const SettingValue& value);
    // A batch of writes through a face, in one transaction: all or nothing.
    void update_settings(const std::vector<std::pair<std::string, SettingValue>>& values);
    // Settings and counters of one write, in one transaction: all or nothing.
    void update_settings_and_counters(
        const std::vector<std::pair<std::string, SettingValue>>& values,
        const std::vector<std::pair<std::string, int64_t>>& counters);
    void delete_setting(const std::string& key);
    void clear_settings();

    // Meter NV values (energy, maxima, latched events, NV counters).
    // Returns false when nothing was stored yet.
    bool load_meter_state(MeterSnapshot& into);
    // Metered seconds since its start at the last checkpoint (not restored:
    // a reader tells whether the meter runs, and its power, from two reads).
    std::optional<double> load_checkpoint_time();
    void checkpoint(const MeterSnapshot& snapshot);
    void clear_meter_state();

    // Small named NV integers (power-up counter, ...).
    std::optional<int64_t> load_counter(const std::string& key);
    void save_counter(const std::string& key, int64_t value);

    // Event history, bounded to `keep` rows (oldest dropped).
    void append_events(const EventRecord* records, size_t count, int64_t wall_time, size_t keep);
    std::vector<StoredEvent> load_events(size_t limit, int64_t after_id = 0);
    void clear_events();

    // Free-form NV blobs of the faces (BACnet device overrides, web users, ...).
    std::optional<std::string> load_text(const std::string& key);
    void save_text(const std::string& key, const std::string& value);
    void delete_text(const std::string& key);

    // The device log (bounded to 1000 lines), newest first.
    void add_log(const std::string& kind, const std::string& text);
    std::vector<LogEntry> load_log(size_t limit);

    // Factory reset of everything but the settings (energy, maxima, counters, events, texts).
    void clear_all_but_settings();
    // Removes the backups (factory-reset --all: nothing of the old state may come back).
    void remove_backups();

    // Copies the database to <file>.backup (the previous one becomes .backup.1)
    // with SQLite's online backup, after checking the copy. Returns false
    // (and notes why in health().backup_error) when it could not.
    bool backup();

    // Checks a database file as opening does; "" when good, else what is wrong.
    static std::string check_file(const std::filesystem::path& file);

  private:
    void open_checked(OnDamage on_damage);
    void open_connection(const std::filesystem::path& path, bool read_only = false);
    void close_connection();
    void create_new();
    void prepare_schema();
    std::string check_open_database();
    void exec(const char* sql);
    sqlite3_stmt* prepare(const char* sql);
    // Runs `body` in one write transaction; a failure rolls back, is noted in
    // health() and rethrown as StoreError.
    template <class F>
    void transaction(F&& body);
    [[noreturn]] void fail_step(const char* what);
    void note_failure(const std::string& why);
    void note_success();

    std::filesystem::path dir_;
    sqlite3* db_ = nullptr;
    StoreRecovery recovery_;
    StoreHealth health_;
    bool created_ = false;
    bool in_transaction_ = false;
    std::chrono::milliseconds recovered_after_ = kRecoveredAfter;
    std::chrono::steady_clock::time_point last_failure_{};
    // The NV values as this connection last committed them, in the walk's
    // order (a checkpoint writes only the others), and a checkpoint's changes.
    std::vector<double> nv_written_;
    std::vector<std::pair<size_t, double>> nv_changed_;
};

// Reads a settings map from the store and merges it with the config file's values
// ("last edit wins", docs/storage.md): returns the settings to run with and
// writes back what changed.
Settings merge_settings(Store& store, const Settings& from_config,
                        const std::map<std::string, SettingValue>& explicit_settings,
                        std::vector<std::string>* warnings);

// Writes one setting through validation and, when NV, to the store.
WriteResult persist_setting(Store* store, Settings& settings, const SettingDef& def,
                            const SettingValue& value);

// Creates (or replaces) a file whose bytes are `text` with `mode` from the
// start: written to a temporary file opened with that mode, synced, renamed.
// Throws std::runtime_error.
void write_private_file(const std::filesystem::path& path, const std::string& text,
                        unsigned mode = 0600);

}  // namespace openbcpm
