// The subcommands of the openbcpm executable.
#pragma once

#include <string>

#include "config/config.hpp"

namespace openbcpm {

struct CommonOptions {
    std::string config_file;  // empty = embedded default
    std::string state_dir;
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
int run_command(const CommonOptions& common);
int simulate_command(const CommonOptions& common, const SimulateOptions& options);
int record_command(const CommonOptions& common, const RecordOptions& options);
int events_command(const EventsOptions& options);
int factory_reset_command(const std::string& state_dir, bool all);

}  // namespace openbcpm
