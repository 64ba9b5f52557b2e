// Non-volatile storage: one SQLite database (WAL) in the state directory.
// Settings are written transactionally on change; energy, maxima and NV
// counters are checkpointed by the caller at least once a second.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
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

struct StoredSetting {
    SettingValue value;
    std::optional<std::string> config_seed;  // config-file value this row was seeded from
};

struct StoredEvent {
    int64_t id = 0;
    int64_t wall_time = 0;  // seconds since 1970 (host clock) when recorded
    EventRecord record;
};

class Store {
  public:
    // Opens (creating if needed) <dir>/openbcpm.db. Throws StoreError.
    explicit Store(const std::filesystem::path& dir);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::filesystem::path& dir() const { return dir_; }

    // Settings.
    std::map<std::string, StoredSetting> load_settings();
    void save_setting(const std::string& key, const SettingValue& value,
                      const std::optional<std::string>& config_seed);
    // A write through a face: keeps the row's config seed.
    void update_setting(const std::string& key, const SettingValue& value);
    void delete_setting(const std::string& key);
    void clear_settings();

    // Meter NV values (energy, maxima, latched events, NV counters).
    // Returns false when nothing was stored yet.
    bool load_meter_state(MeterSnapshot& into);
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

    // Factory reset of everything but the settings (energy, maxima, counters, events, texts).
    void clear_all_but_settings();

  private:
    void exec(const char* sql);
    sqlite3_stmt* prepare(const char* sql);

    std::filesystem::path dir_;
    sqlite3* db_ = nullptr;
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

}  // namespace openbcpm
