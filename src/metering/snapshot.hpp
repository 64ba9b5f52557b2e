// The meter's present state as the protocol faces see it: a plain value,
// copied whole after every metering window. Units: A, kW, kVA, kWh, V, Hz, degrees.
#pragma once

#include <array>
#include <cstdint>
#include <limits>

#include "core/device_model.hpp"
#include "events/event_state.hpp"

namespace openbcpm {

inline constexpr int kLogicalCircuits = kChannelsPerPanel;  // numbers 1..46
inline constexpr int kTwoPhaseMeters = 21;                  // legacy 2-phase map
inline constexpr int kThreePhaseMeters = 14;                // legacy 3-phase map

struct ChannelReadings {
    bool present = false;  // the model has this channel
    int phase = 0;         // effective voltage phase (0..2), -1 for aux 4
    double current = 0.0;  // A RMS
    double kw = 0.0;
    double kva = 0.0;
    double pf = 0.0;     // kW / kVA
    double angle = 0.0;  // degrees, against V1 or the channel's phase (62017 bit 1)
    bool has_angle = false;
    double kwh = 0.0;
    double kwh_snapshot = 0.0;  // kWh at the last demand update
    double current_demand = 0.0;
    double kw_demand = 0.0;
    double max_current = 0.0;
    double max_kw = 0.0;
    double max_current_demand = 0.0;
    double max_kw_demand = 0.0;
};

// A multi-channel meter: a logical circuit, a legacy 2- or 3-phase meter or the mains.
struct GroupReadings {
    bool valid = false;            // members exist and form a circuit
    int members = 0;               // 1..3
    std::array<int, 3> channel{};  // member channel numbers, phase order
    double kw = 0.0;               // total
    double kva = 0.0;              // total
    double pf = 0.0;               // total kW / total kVA
    double current = 0.0;          // average of members
    double kwh = 0.0;              // total
    double kwh_snapshot = 0.0;
    double kw_demand = 0.0;       // total
    double current_demand = 0.0;  // average
    double max_kw = 0.0;          // of the total
    double max_kw_demand = 0.0;   // of the total
    double max_current = 0.0;     // of the average
    double max_current_demand = 0.0;
};

// Device Health (register 532) bits.
namespace health_bits {
inline constexpr uint16_t kFrequencyOutOfRange = 1u << 1;
inline constexpr uint16_t kClippingA = 1u << 2;
inline constexpr uint16_t kClippingB = 1u << 3;
inline constexpr uint16_t kClippingC = 1u << 4;
inline constexpr uint16_t kCurrentClipping = 1u << 5;
inline constexpr uint16_t kStripConnectionError = 1u << 8;
// openbcpm: the non-volatile store refuses writes (reserved bit in the map).
inline constexpr uint16_t kStorageFailing = 1u << 9;
inline constexpr uint16_t kBranchPowerModelA = 1u << 15;
}  // namespace health_bits

struct PanelReadings {
    bool present = false;
    std::array<ChannelReadings, kChannelsPerPanel> channel{};
    std::array<GroupReadings, kLogicalCircuits> logical{};  // index = circuit number - 1
    std::array<GroupReadings, kTwoPhaseMeters> two_phase{};
    std::array<GroupReadings, kThreePhaseMeters> three_phase{};
    GroupReadings mains{};  // aux 1..3
    uint16_t health = 0;
    double subinterval_elapsed = 0.0;  // s into the present demand sub-interval
    uint32_t demand_updates = 0;       // sub-intervals completed since start
    PanelEvents events{};
};

struct VoltageReadings {
    std::array<double, 3> ln{};  // A-N, B-N, C-N
    double ln_average = 0.0;
    std::array<double, 3> ll{};  // A-B, B-C, C-A
    double ll_average = 0.0;
    std::array<double, 3> angle{};  // degrees against V1
    std::array<bool, 3> present{};
    double frequency = 0.0;
    bool frequency_valid = false;
};

struct MeterSnapshot {
    uint64_t sequence = 0;  // windows metered since start
    double time = 0.0;      // simulated seconds since start
    bool rtc_set = false;
    int64_t rtc = 946684800;  // seconds since 1970 UTC; 2000-01-01 until set
    VoltageReadings voltage{};
    std::array<PanelReadings, kMaxPanels> panel{};
};

}  // namespace openbcpm
