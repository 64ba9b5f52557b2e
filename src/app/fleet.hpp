// `openbcpm run` with [fleet]: the meters of a site (or of one shard of it) in
// one process: one acquisition pool, one or a few event loops, each meter with
// its own Device, state directory and faces on its own address (docs/fleet.md).
#pragma once

#include <filesystem>

#include "config/config.hpp"

namespace openbcpm {

// Runs meters k of the fleet with k mod shards == shard until SIGINT/SIGTERM;
// returns the exit code.
int run_fleet(const Config& fleet_template, const std::filesystem::path& state_dir, int shard,
              int shards);

// Where meter k keeps its state: <state_dir>/meters/NNNN.
std::filesystem::path fleet_meter_state_dir(const std::filesystem::path& state_dir, int k);

}  // namespace openbcpm
