// Engineering data of the meter's BACnet devices, generated from the object
// table (meter_objects.hpp): the EDE files integrators import (B.I.G.-EU
// Engineering Data Exchange, layout 2.3: the data file, state texts, units
// and object types) and the object list document (docs/bacnet-objects.md).
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "core/settings.hpp"
#include "protocols/bacnet/face.hpp"

namespace openbcpm::bacnet {

struct EdeFiles {
    std::string project;  // file name prefix: <project>_EDE.csv, ...
    std::string ede;
    std::string state_texts;
    std::string units;
    std::string object_types;
};

// The EDE files of a meter with these settings and written identities;
// `date` goes to TIMESTAMP_OF_LAST_CHANGE.
EdeFiles ede_files(const Settings& s,
                   const std::array<DeviceIdentityOverride, 1 + kMaxPanels>& overrides,
                   const std::string& date);
// Writes the four files into `dir` (created if needed); returns their paths.
std::vector<std::filesystem::path> write_ede(const std::filesystem::path& dir, const EdeFiles& f);

// `openbcpm export ede`: the settings and identities of a meter as `run`
// would start it (the config file or the embedded default, and the state
// directory's store when it has one), files into `dir`. Throws on errors.
std::vector<std::filesystem::path> export_ede(const std::filesystem::path& dir,
                                              const std::string& config_file,
                                              const std::string& state_dir);

// docs/bacnet-objects.md: every object of a panel device, consecutive
// objects of one kind (channel 1..42 of a quantity) on one line.
std::string objects_markdown();

}  // namespace openbcpm::bacnet
