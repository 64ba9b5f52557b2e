// Cycle-synchronous metering windows: RMS, real power, fundamental phasors and
// frequency of every input, over 12 cycles (60 Hz) or 10 cycles (50 Hz) of the
// measured frequency, integrated exactly over the window's real-valued span.
#pragma once

#include <array>
#include <cstdint>

#include "core/device_model.hpp"
#include "sources/sample_source.hpp"

namespace openbcpm {

inline constexpr double kCurrentFloor = 0.050;  // A: at or below this a channel reads 0

struct ChannelWindow {
    double current = 0.0;    // A RMS (0 at or below the 50 mA floor)
    double power = 0.0;      // W, against the channel's assigned phase
    double apparent = 0.0;   // VA
    double angle = 0.0;      // degrees of the fundamental against V1, (-180, 180]
    bool has_angle = false;  // false when the current is under the floor
};

struct WindowResult {
    double start_time = 0.0;  // simulated seconds (sample index / 2560)
    double duration = 0.0;    // seconds
    double frequency = 0.0;   // Hz, measured on V1
    bool frequency_valid = false;
    std::array<double, kVoltageInputs> voltage{};        // V L-N RMS
    std::array<double, kVoltageInputs> voltage_angle{};  // degrees against V1
    std::array<bool, kVoltageInputs> voltage_present{};
    std::array<double, kVoltageInputs> voltage_ll{};  // A-B, B-C, C-A RMS
    std::array<bool, kVoltageInputs> voltage_clipped{};
    bool current_clipped = false;
    std::array<std::array<ChannelWindow, kChannelsPerPanel>, kMaxPanels> channel{};
};

class WindowMeter {
  public:
    static constexpr size_t kRing = 2048;  // > the longest window (12 cycles at 40 Hz) twice

    explicit WindowMeter(double nominal_frequency = 60.0);

    // Which voltage input (0..2) each channel's power is computed against; -1 = none.
    void set_channel_phase(int panel, int channel, int voltage_input);

    // Takes one block. Calls on_window(const WindowResult&) for every window the
    // block completes (at most one for 256-sample blocks).
    template <class OnWindow>
    void process(const SampleBlock& block, OnWindow&& on_window) {
        push(block);
        while (window_ready()) {
            close_window();
            on_window(static_cast<const WindowResult&>(result_));
        }
    }

    double frequency_estimate() const { return f_est_; }

  private:
    void push(const SampleBlock& block);
    bool window_ready() const;
    void close_window();
    int cycles() const { return f_est_ >= 55.0 ? 12 : 10; }

    double nominal_;
    double f_est_;
    double a_ = 0.0;            // window start, in samples since the source started
    uint64_t written_ = 0;      // samples received
    double time_origin_ = 0.0;  // source time of sample 0
    bool have_prev_phase_ = false;
    double prev_phase_ = 0.0;  // V1 fundamental phase at the previous window's centre
    double prev_centre_ = 0.0;
    bool pending_voltage_clip_[kVoltageInputs] = {false, false, false};
    bool pending_current_clip_ = false;

    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> phase_of_{};
    alignas(64) std::array<std::array<float, kRing>, kVoltageInputs> v_{};
    alignas(
        64) std::array<std::array<std::array<float, kRing>, kChannelsPerPanel>, kMaxPanels> i_{};
    alignas(64) std::array<float, kRing> ref_cos_{};
    alignas(64) std::array<float, kRing> ref_sin_{};
    WindowResult result_{};
};

}  // namespace openbcpm
