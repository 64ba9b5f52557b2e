// The reset registers' commands, one meaning for every face: which codes a
// reset point takes, and the ResetCommand a write of one of them gives.
#pragma once

#include <cstdint>
#include <optional>

#include "metering/meter.hpp"
#include "points/catalogue.hpp"

namespace openbcpm::points {

// Global resets (registers 294/295) take every code; the per-channel and
// per-circuit ones only clear energy and maxima, as the point map says.
bool reset_code_allowed(ResetScope scope, int64_t code);

// The command a write of `code` to reset point `p` of `panel` gives, or none
// when the code is not one the point takes or its circuit has no channels now
// (a logical circuit's members come from the present readings).
std::optional<ResetCommand> reset_command(const Point& p, int panel, int64_t code,
                                          const PanelReadings& readings);

}  // namespace openbcpm::points
