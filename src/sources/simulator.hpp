// The panel simulator: sampled voltage and current waveforms at 2560 Hz for a
// whole BCPME, built from per-channel loads, a voltage supply and a scenario
// timeline. Deterministic for a seed.
//
// Per block: one shared basis of harmonics (HarmonicBasis), one waveform per
// distinct load shape (channels with the same shape share it; kept from the
// previous block while the basis repeats, as it does at 50 and 60 Hz), then
// per channel its envelope, noise and saturation in one pass (docs/simulator.md).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sources/harmonic_basis.hpp"
#include "sources/noise.hpp"
#include "sources/sample_source.hpp"
#include "sources/simulation_config.hpp"
#include "sources/simulator_state.hpp"

namespace openbcpm {

// A small, fast, seedable generator (xoshiro256**) with a Gaussian helper.
class Rng {
  public:
    explicit Rng(uint64_t seed);
    uint64_t next();
    double uniform();   // [0, 1)
    double gaussian();  // N(0, 1)

  private:
    std::array<uint64_t, 4> s_{};
    bool has_spare_ = false;
    double spare_ = 0.0;
};

class PanelSimulator final : public SampleSource {
  public:
    // ct_sizes: the CT size (A) of each channel of each panel, for CT saturation.
    PanelSimulator(const SimulationConfig& config, const ModelInfo& model,
                   const std::array<std::array<int, kChannelsPerPanel>, kMaxPanels>& ct_sizes);

    bool read(SampleBlock& block) override;
    SourceInfo info() const override;

    // Runtime control, applied from the next block on.
    void set_load(int panel, int channel, double amps, std::optional<double> pf);
    void trip(int panel, int channel);
    void restore(int panel, int channel);
    void ramp(int panel, int channel, double to_amps, double seconds);
    // Multiplies the magnitude of the phases in `phase_mask` for `seconds` (0 = until changed).
    void voltage_event(int phase_mask, double magnitude, double seconds);
    void set_frequency(double hz);
    void set_ct_size(int panel, int channel, int amps);
    // Replaces the scenario by `events` (their times in seconds from now on),
    // swapped with the running one: `events` holds the old events after, so
    // the caller frees them (no allocation here). Empty events stop it.
    void start_scenario(std::vector<ScenarioEvent>& events, std::string_view name);
    void set_scenario_name(std::string_view name);

    // Its state (runtime loads, trips, sags, scenario), copied without allocating.
    void copy_state(SimulatorState& out) const;
    // Changes with every change of what copy_state gives but the time.
    uint64_t state_version() const { return state_version_; }

    double time() const { return static_cast<double>(sample_index_) / kSampleRate; }
    // The RMS amps a channel's load draws now (0 when tripped), before noise.
    double load_amps(int panel, int channel) const;
    double load_pf(int panel, int channel) const;
    bool tripped(int panel, int channel) const;
    // Present magnitude multiplier of a voltage phase (sags, swells).
    double voltage_multiplier(int phase) const;
    double frequency() const { return frequency_; }
    const SimulationConfig& config() const { return config_; }

  private:
    static constexpr int kMaxTerms = 8;
    // Every channel of both panels with a shape of its own, and one spare for a
    // change of shape (the new one is taken before the old one is let go).
    static constexpr size_t kMaxShapes = kMaxPanels * kChannelsPerPanel + 1;

    // A signal as a sum of harmonics of the fundamental: sum a*cos(h t) + b*sin(h t).
    struct Waveform {
        int terms = 0;
        std::array<int, kMaxTerms> order{};
        std::array<float, kMaxTerms> a{};
        std::array<float, kMaxTerms> b{};
        // Adds sqrt(2) * rms * cos(order * theta + phase) to the waveform.
        void add_term(int h, double rms, double phase);
        // Adds a*cos + b*sin to the term of this order (creating it).
        void accumulate(int h, float ca, float cb);
        // A bound of its absolute value: the sum of the terms' amplitudes.
        float peak() const;
        bool operator==(const Waveform&) const = default;
    };

    struct ChannelLoad {
        bool present = false;  // a load spec exists for the channel
        LoadSpec spec;
        double base_amps = 0.0;  // amps before the schedule multiplier
        double pf = 1.0;
        bool tripped = false;
        bool overridden = false;  // set or ramped at run time
        bool override_pf = false;
        double walk = 1.0;  // random-walk multiplier
        double ramp_from = 0.0, ramp_to = 0.0, ramp_start = 0.0, ramp_end = -1.0;
        double switched_on_at = 0.0;  // for inrush
        double noise = 0.0;           // relative
        Phase phase = Phase::A;       // physical phase
        int shape = -1;               // index of its waveform for 1 A RMS total in shapes_
        double envelope_start = 0.0, envelope_end = 0.0;  // amps over the present block
    };

    void rebuild_voltage_waveforms();
    void rebuild_unit_waveform(ChannelLoad& load);
    // The index of a shape equal to w (shared) or of a new one; let_go undoes it.
    int take_shape(const Waveform& w);
    void let_go_shape(int index);
    double envelope(ChannelLoad& load, double t, bool advance_walk, double dt);
    void apply_due_events(double t);
    void render(const Waveform& w, size_t count, float* out) const;
    void currents(size_t panel, size_t count, SampleBlock& block);

    SimulationConfig config_;
    ModelInfo model_;
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct_sizes_{};
    Rng rng_;  // random walks
    NoiseGenerator noise_;
    uint64_t sample_index_ = 0;
    double frequency_ = 60.0;
    std::array<std::array<ChannelLoad, kChannelsPerPanel>, kMaxPanels> loads_{};
    std::array<Waveform, kVoltageInputs> voltage_wave_{};
    std::array<float, kVoltageInputs> voltage_peak_{};  // Waveform::peak of each
    std::array<double, kVoltageInputs> voltage_mult_{1.0, 1.0, 1.0};
    std::array<double, kVoltageInputs> voltage_event_end_{-1.0, -1.0, -1.0};
    HarmonicBasis basis_;
    // Distinct load shapes, how many channels use each, and this block's samples
    // of those some channel draws current through.
    std::array<Waveform, kMaxShapes> shapes_{};
    std::array<float, kMaxShapes> shape_peak_{};
    std::array<int, kMaxShapes> shape_users_{};
    std::array<bool, kMaxShapes> shape_needed_{};
    // shape_samples_[i] is shapes_[i] on the basis's present block: kept from
    // block to block while both stay the same (a steady 50 or 60 Hz supply).
    std::array<bool, kMaxShapes> shape_ready_{};
    alignas(64) std::array<std::array<float, kBlockSamples>, kMaxShapes> shape_samples_{};
    // The voltages before noise, kept alike.
    bool voltage_ready_ = false;
    alignas(64) std::array<std::array<float, kBlockSamples>, kVoltageInputs> voltage_samples_{};
    alignas(64) std::array<std::array<float, kBlockSamples>, 3> mains_{};  // per phase, no noise
    alignas(64) std::array<float, kBlockSamples> scratch_{};
    size_t next_event_ = 0;
    std::vector<ScenarioEvent> events_;
    std::array<char, 64> scenario_name_{};
    double scenario_started_ = 0.0;
    uint64_t state_version_ = 0;
};

}  // namespace openbcpm
