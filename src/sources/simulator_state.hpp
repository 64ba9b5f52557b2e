// What the panel simulator is doing now, as a fixed-size copy (no allocation):
// the loads set at run time, the tripped breakers, the sags and swells, the
// frequency and the scenario's progress. Taken by the acquisition thread,
// which owns the simulator, and handed to the event loop (Device::sim_state).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/device_model.hpp"

namespace openbcpm {

struct SimulatorState {
    struct Channel {
        bool overridden = false;  // its load was set or ramped at run time (web or scenario)
        bool tripped = false;
        bool has_pf = false;  // the override set a power factor
        double amps = 0.0;    // the load it was set to (the ramp's target)
        double pf = 1.0;
        double ramp_end = -1.0;  // simulated second a ramp ends, -1 for none
    };
    struct Voltage {
        double magnitude = 1.0;  // x nominal; 1 = none
        double end = -1.0;       // simulated second it ends, -1 = until changed
    };
    double time = 0.0;  // simulated seconds since start
    double frequency = 60.0;
    double nominal_frequency = 60.0;
    std::array<std::array<Channel, kChannelsPerPanel>, kMaxPanels> channels{};
    std::array<Voltage, kVoltageInputs> voltage{};
    // The scenario: its name (the configuration's, or an uploaded file's), how
    // many events it has, how many have run and when the next one is due.
    std::array<char, 64> scenario_name{};
    uint32_t scenario_events = 0;
    uint32_t scenario_done = 0;
    double scenario_started = 0.0;   // simulated second its times count from
    double scenario_next_at = -1.0;  // simulated second of the next event, -1 = none left
    uint64_t version = 0;            // changes with every change of the above but time
};

// A load an operator keeps across restarts (device/kept_loads.hpp).
struct KeptLoad {
    int panel = 1;
    int channel = 1;
    double amps = 0.0;
    std::optional<double> pf;
    bool operator==(const KeptLoad&) const = default;
};

}  // namespace openbcpm
