// `openbcpm site`: the table of a site's meters from its state directory.
#pragma once

#include <string>

namespace openbcpm {

struct SiteOptions {
    std::string state_dir;    // the site's: its meters under meters/NNNN/
    std::string config_file;  // the site's configuration: serial numbers and models
    double interval = 2.5;    // seconds between the two reads (0: one read, no kW or state)
    bool json = false;
};

// 0 when every store was read, 3 when one is damaged (listed as such), 1 when
// DIR is not there or not a fleet state directory; a refused -c file throws
// ConfigError (exit 2).
int site_command(const SiteOptions& options);

}  // namespace openbcpm
