// Cycle-synchronous metering windows: RMS, real power, fundamental phasors and
// frequency of every input, over 12 cycles (60 Hz) or 10 cycles (50 Hz) of the
// measured frequency, integrated exactly over the window's real-valued span.
// Current inputs are integrated as their blocks arrive (each sample read once,
// where the source left it); the three voltages are also kept in a ring for the
// window's voltage sums and V1's zero crossings.
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
    // V1 history for its zero crossings: more than the longest window (12 cycles
    // at 40 Hz, 768 samples) plus a block.
    static constexpr size_t kRing = 2048;

    explicit WindowMeter(double nominal_frequency = 60.0);

    // Which voltage input (0..2) each channel's power is computed against; -1 = none.
    void set_channel_phase(int panel, int channel, int voltage_input);

    // Takes one block. Calls on_window(const WindowResult&) for every window the
    // block completes (at most one for 256-sample blocks).
    template <class OnWindow>
    void process(const SampleBlock& block, OnWindow&& on_window) {
        begin_block(block);
        while (integrate())
            on_window(static_cast<const WindowResult&>(result_));
        end_block(block.count);
    }

    double frequency_estimate() const { return f_est_; }

  private:
    // Every sampled input: V1..V3, then each panel's 46 current inputs.
    static constexpr size_t kInputs = kVoltageInputs + kMaxPanels * kChannelsPerPanel;
    static constexpr size_t kTail = 4;  // samples of each input kept from the previous block

    // The window being integrated: [a, a + length) in samples since the source
    // started; plain samples n0..n1 weigh 1, the edge samples n0-1, n0, n1,
    // n1+1 carry corrections (docs/metering.md).
    struct Window {
        double a = 0.0, length = 0.0;
        uint64_t n0 = 0, n1 = 0;
        double e_before = 0.0, e_first = 0.0, e_last = 0.0, e_after = 0.0;
        double step = 0.0;  // radians per sample of the reference, at f_est
        bool start_edges_done = false;
    };
    // Running sums of an input over the present window: x^2, x*y (y: the
    // voltage its power is against, or the next voltage for a voltage input),
    // and x against the reference's cos and sin.
    struct Sums {
        double xx = 0.0, xy = 0.0, xc = 0.0, xs = 0.0;
    };

    void begin_block(const SampleBlock& block);
    // Integrates the block's samples into the present window; when the block
    // completes it, closes it into result_, starts the next and returns true.
    bool integrate();
    void end_block(size_t count);
    void start_window(double a);
    void close_window();
    int cycles() const { return f_est_ >= 55.0 ? 12 : 10; }
    // Adds weight times the products of sample n (of this block or its tail) of every input.
    void add_sample(uint64_t n, double weight);
    // Adds the products of samples [from, to) of every input, weight 1.
    void add_run(uint64_t from, uint64_t to);

    double nominal_;
    double f_est_;
    Window w_{};
    uint64_t fed_ = 0;          // next sample of the present window's plain run
    uint64_t block_start_ = 0;  // sample number of the present block's first sample
    uint64_t written_ = 0;      // samples received
    double time_origin_ = 0.0;  // source time of sample 0
    bool have_prev_phase_ = false;
    double prev_phase_ = 0.0;  // V1 fundamental phase at the previous window's centre
    double prev_centre_ = 0.0;
    bool pending_voltage_clip_[kVoltageInputs] = {false, false, false};
    bool pending_current_clip_ = false;

    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> phase_of_{};
    std::array<int, kInputs> y_of_{};         // the input each one's x*y pairs it with
    std::array<const float*, kInputs> in_{};  // each input's samples in the present block
    std::array<Sums, kInputs> sums_{};
    // tail_[i][k]: sample block_start_ - kTail + k of input i.
    std::array<std::array<float, kTail>, kInputs> tail_{};
    alignas(64) std::array<float, kRing> v1_{};
    alignas(64) std::array<float, kBlockSamples> ref_cos_{};  // reference over the block
    alignas(64) std::array<float, kBlockSamples> ref_sin_{};
    WindowResult result_{};
};

}  // namespace openbcpm
