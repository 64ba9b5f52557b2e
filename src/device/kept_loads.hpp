// Simulator loads an operator chose to keep across restarts: a small JSON file
// in the meter's state directory (sim-overrides.json), applied when the meter
// starts (process start or System Restart). Written whole, synced and renamed
// into place, so a kill -9 leaves the old file or the new one; a file that
// does not read back is set aside (renamed with .damaged) and none are kept.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sources/simulator_state.hpp"

namespace openbcpm {

inline constexpr const char* kKeptLoadsFile = "sim-overrides.json";

// The kept loads in `dir`: none when there is no file. A damaged file (not
// JSON, wrong shape, a value out of range) is renamed to
// sim-overrides.json.damaged with a log line and none are returned;
// `damaged`, when given, says why.
std::vector<KeptLoad> load_kept_loads(const std::filesystem::path& dir,
                                      std::string* damaged = nullptr);
// Replaces the file (removes it when `loads` is empty). Throws std::runtime_error.
void save_kept_loads(const std::filesystem::path& dir, const std::vector<KeptLoad>& loads);

}  // namespace openbcpm
