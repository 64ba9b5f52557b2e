// The meter's state as JSON: `openbcpm simulate --json`, the web API, tests.
#pragma once

#include <nlohmann/json.hpp>

#include "core/settings.hpp"
#include "events/event_engine.hpp"
#include "metering/snapshot.hpp"

namespace openbcpm {

// Built from the catalogue's quantities (points::quantities), so it is
// defined in src/points/snapshot_json.cpp; the event texts below in core.
nlohmann::json snapshot_json(const MeterSnapshot& snapshot, const Settings& settings);
nlohmann::json event_json(const EventRecord& record);
std::string_view event_kind_name(EventKind kind);
std::string event_bit_name(uint8_t channel, uint16_t bit);

}  // namespace openbcpm
