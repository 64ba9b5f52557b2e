// What the panel simulator is asked to produce: the voltage supply, the load on
// every channel and a timeline of scenario events.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/device_model.hpp"

namespace openbcpm {

struct Harmonic {
    int order = 3;           // 2..25
    double fraction = 0.0;   // RMS of this harmonic over the RMS of the fundamental
    double phase_deg = 0.0;  // phase of the harmonic against the fundamental
};

enum class ScheduleKind : uint8_t { Constant, Daily, Steps, RandomWalk, Inrush };

struct LoadSchedule {
    ScheduleKind kind = ScheduleKind::Constant;
    std::vector<double> daily;                     // 24 hourly multipliers, interpolated
    std::vector<std::pair<double, double>> steps;  // (simulated s, amps), held until the next
    double walk_sigma = 0.02;                      // random walk: relative change per sqrt(second)
    double walk_min = 0.0;                         // random walk bounds, as multipliers of amps
    double walk_max = 2.0;
    double inrush_multiplier = 6.0;  // inrush: peak multiplier at switch-on
    double inrush_tau = 0.3;         // seconds, exponential decay
    double inrush_at = 0.0;          // simulated second of switch-on
};

struct LoadSpec {
    int panel = 1;
    int channel = 1;    // 1..42 branch; 43..46 adds unmetered current on a main
    double amps = 0.0;  // total RMS current (harmonics included, noise excluded)
    double pf = 1.0;    // displacement power factor; negative = leading
    std::vector<Harmonic> harmonics;
    std::optional<double> noise;  // relative RMS noise of the CT reading
    std::optional<Phase> phase;   // physical phase; default follows the panel wiring
    LoadSchedule schedule;
};

enum class ScenarioAction : uint8_t { SetLoad, Trip, Restore, Ramp, Sag, Swell, SetFrequency };

struct ScenarioEvent {
    double at = 0.0;  // simulated seconds since start
    ScenarioAction action = ScenarioAction::SetLoad;
    int panel = 1;
    int channel = 0;
    double amps = 0.0;         // set-load / ramp target
    std::optional<double> pf;  // set-load
    double duration = 0.0;     // ramp length, sag/swell length (0 = until changed)
    double magnitude = 1.0;    // sag/swell: voltage multiplier (0.7 = 70 %)
    int phase_mask = 0b111;    // sag/swell: which phases (bit 0 = A)
    double frequency = 60.0;   // set-frequency
};

struct SimulationConfig {
    uint64_t seed = 1;
    double speed = 1.0;  // simulated seconds per real second
    Wiring wiring = Wiring::Wye4Wire;
    double voltage_ln = 120.0;  // nominal line-to-neutral RMS
    double frequency = 60.0;
    std::array<double, 3> imbalance{1.0, 1.0, 1.0};  // per-phase magnitude multipliers
    std::vector<Harmonic> voltage_harmonics;
    double voltage_noise = 0.0005;   // relative RMS
    double current_noise = 0.001;    // relative RMS, default for loads
    double start_time_of_day = 0.0;  // hour of day the simulation starts at (daily schedules)
    // Physical configuration of the strips the loads are wired through, per panel
    // (decides the default physical phase of each channel).
    std::array<StripConfiguration, kMaxPanels> panel_configuration{StripConfiguration::TopFeed,
                                                                   StripConfiguration::TopFeed};
    std::vector<LoadSpec> loads;
    std::vector<ScenarioEvent> events;
};

// The physical phase a channel's conductor is on, by panel wiring and strip layout.
Phase physical_phase(Wiring wiring, StripConfiguration cfg, int channel);

}  // namespace openbcpm
