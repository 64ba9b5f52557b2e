// The seam between acquisition and metering: a source fills blocks of sampled
// waveforms for every voltage and current input of the meter.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/device_model.hpp"

namespace openbcpm {

inline constexpr double kSampleRate = 2560.0;  // Hz, every input
inline constexpr size_t kBlockSamples = 256;   // 100 ms per block

// One block of simultaneous samples, channel-major so that metering reads
// each input as one contiguous run. Volts and amps, instantaneous.
struct SampleBlock {
    double start_time = 0.0;  // simulated seconds of the first sample since the source started
    size_t count = 0;         // valid samples in every input (<= kBlockSamples)
    // Voltage taps V1..V3 measured against the neutral terminal.
    std::array<std::array<float, kBlockSamples>, kVoltageInputs> voltage{};
    // Current of each channel (1..46 at index 0..45) of each panel.
    std::array<std::array<std::array<float, kBlockSamples>, kChannelsPerPanel>, kMaxPanels>
        current{};
    // Inputs the source saw saturate in this block (the CT or ADC range).
    std::array<bool, kVoltageInputs> voltage_clipped{};
    bool current_clipped = false;
};

struct SourceInfo {
    std::string kind;  // "simulator", "replay"
    int panels = 2;
    double nominal_frequency = 60.0;
};

class SampleSource {
  public:
    virtual ~SampleSource() = default;
    // Fills the next block. Returns false at the end of a finite source.
    virtual bool read(SampleBlock& block) = 0;
    virtual SourceInfo info() const = 0;
};

}  // namespace openbcpm
