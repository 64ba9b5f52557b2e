// The subcommands of the openbcpm executable.
#pragma once

#include <boost/asio/io_context.hpp>
#include <string>

#include "config/config.hpp"

namespace openbcpm {

struct CommonOptions {
    std::string config_file;  // empty = embedded default
    std::string state_dir;
    std::string shard;  // run --shard K/N (a [fleet] configuration only)
};

struct SimulateOptions {
    double seconds = 0.0;
    bool json = false;
    std::string state_dir;
};

struct RecordOptions {
    double seconds = 0.0;
    std::string out;
};

struct EventsOptions {
    std::string state_dir;
    size_t limit = 100;
    bool json = false;
};

Config load_config(const CommonOptions& common);
// Runs `io` until it stops; a StoreError escaping a handler is logged, not fatal.
void run_loop(boost::asio::io_context& io);
int run_command(const CommonOptions& common);
int simulate_command(const CommonOptions& common, const SimulateOptions& options);
int record_command(const CommonOptions& common, const RecordOptions& options);
int events_command(const EventsOptions& options);
int factory_reset_command(const std::string& state_dir, bool all);

}  // namespace openbcpm
