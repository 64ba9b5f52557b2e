// The TOML configuration file: the device, its settings and the simulation.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/settings.hpp"
#include "sources/simulation_config.hpp"

namespace openbcpm {

// A refused configuration: where and why. what() reads "FILE:LINE: KEY: REASON".
class ConfigError : public std::runtime_error {
  public:
    ConfigError(std::string file, int line, std::string key, std::string reason);
    const std::string& file() const { return file_; }
    int line() const { return line_; }
    const std::string& key() const { return key_; }
    const std::string& reason() const { return reason_; }

  private:
    std::string file_;
    int line_;
    std::string key_;
    std::string reason_;
};

struct SourceConfig {
    std::string kind = "simulator";  // "simulator" | "replay"
    std::string replay_file;         // for "replay"
    bool replay_loop = true;
};

struct StorageConfig {
    int checkpoint_ms = 1000;   // energy/maxima checkpoint period
    int event_history = 10000;  // events kept in the history
    int backup_minutes = 5;     // last-good copy of the database, and at a clean stop
};

struct ModbusConfig {
    int max_connections = 64;  // at the cap a newcomer replaces the longest-idle connection
    int idle_timeout_s = 0;    // 0: idle connections stay (until the cap needs their slot)
};

// [web] beyond the port: the names the GUI is reached by and its connection caps.
struct WebConfig {
    // Host names (or addresses) besides N1_IP_Address that browsers use to reach
    // the meter: redirects and the Origin check accept only these and the meter's
    // own addresses, never whatever Host header a request brings.
    std::vector<std::string> host_names;
    int max_connections = 128;
    int max_connections_per_address = 32;  // so one client address cannot take every slot
    // Offer plain HTTP (the password in clear) besides the protected HTTP mode;
    // off by default, and warned about in the log and on the security page.
    bool allow_plain_http = false;
};

// [trends]: the GUI's history (docs/trends.md). The windows of the last
// memory_minutes stay in memory (about 240 KB a minute for the embedded default);
// absent, an hour for a single meter and 5 minutes for a meter of a [fleet],
// whose older minutes come from the minute rows on disk.
struct TrendsConfig {
    std::optional<int> memory_minutes;
    int keep_days = 30;  // minute rows older than this are pruned
    int max_mb = 128;    // and the file of minute rows stays within this
};

// [faces]: switch faces on or off regardless of Protocol_Mode (absent = as the mode says).
struct FacesConfig {
    std::optional<bool> modbus_tcp, modbus_rtu, bacnet_ip, bacnet_mstp, snmp, web;
};

// [fleet]: the file is the template of a site of `count` meters (docs/fleet.md).
// [[fleet.event]]: a site-level scenario event, a [[simulation.event]] that the
// meters of `meters` each get (a sag on a feeder several panels see, a trip storm);
// with `stagger` the i-th of them gets it stagger * i seconds later.
struct FleetEvent {
    std::vector<int> meters;  // sorted, unique
    double stagger = 0.0;
    int line = 0;
};

struct FleetConfig {
    int count = 1;                // 1..10000 meters, k = 0..count-1
    uint32_t first_address = 0;   // meter k binds every face to first_address + k (host order)
    int acquisition_threads = 0;  // 0: the number of cores - 1, at least 1
    int event_loops = 1;
    int line = 0;                  // of [fleet] (or its count) in the file, for refusals
    std::map<int, int> overrides;  // index -> line of its [[fleet.meter]]
    std::vector<FleetEvent> events;
    std::string text;  // the file: a meter with an override is parsed from it
};

struct Config {
    Settings settings;                                      // factory defaults + what the file says
    std::map<std::string, SettingValue> explicit_settings;  // setting key -> value the file gave
    SimulationConfig simulation;
    SourceConfig source;
    StorageConfig storage;
    ModbusConfig modbus;
    WebConfig web;
    FacesConfig faces;
    TrendsConfig trends;
    std::string origin = "<embedded default>";
    // Set when the file has [fleet]: this Config is then the template; each
    // meter's own comes from fleet_meter(). fleet_index is k in such a one.
    std::shared_ptr<const FleetConfig> fleet;
    int fleet_index = -1;
};

// Parses TOML text; `origin` names it in error messages. Throws ConfigError.
Config parse_config(std::string_view text, const std::string& origin);
Config load_config_file(const std::string& path);
// The embedded default: a two-panel, 84-channel data-centre panel.
std::string_view default_config_text();
Config default_config();

// Meter k of a fleet: the template with [[fleet.meter]] index = k merged in
// (tables key by key, anything else replaced), then what k derives (serial
// + k, device_id_offset + 10 k, seed + k, location " #k", address first + k)
// for every key the override does not set. Throws ConfigError.
Config fleet_meter(const Config& fleet_template, int k);
// Every meter (one: the config itself, when it has no [fleet]).
std::vector<Config> expand_fleet(const Config& config);
// The meters of shard K of N: k with k mod N == K.
std::vector<int> shard_meters(int count, int shard, int shards);
// "K/N" with 0 <= K < N <= 10000; throws std::invalid_argument with the reason.
std::pair<int, int> parse_shard(std::string_view text);
// The IPv4 address in dotted form.
std::string ipv4_text(uint32_t address);

}  // namespace openbcpm
