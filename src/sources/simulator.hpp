// The panel simulator: sampled voltage and current waveforms at 2560 Hz for a
// whole BCPME, built from per-channel loads, a voltage supply and a scenario
// timeline. Deterministic for a seed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "sources/sample_source.hpp"
#include "sources/simulation_config.hpp"

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
    static constexpr int kMaxOrder = 25;
    static constexpr int kMaxTerms = 8;

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
    };

    struct ChannelLoad {
        bool present = false;  // a load spec exists for the channel
        LoadSpec spec;
        double base_amps = 0.0;  // amps before the schedule multiplier
        double pf = 1.0;
        bool tripped = false;
        double walk = 1.0;  // random-walk multiplier
        double ramp_from = 0.0, ramp_to = 0.0, ramp_start = 0.0, ramp_end = -1.0;
        double switched_on_at = 0.0;                      // for inrush
        double noise = 0.0;                               // relative
        Phase phase = Phase::A;                           // physical phase
        Waveform unit;                                    // waveform for 1 A RMS total
        double envelope_start = 0.0, envelope_end = 0.0;  // amps over the present block
    };

    void rebuild_voltage_waveforms();
    void rebuild_unit_waveform(ChannelLoad& load);
    double envelope(ChannelLoad& load, double t, bool advance_walk, double dt);
    void apply_due_events(double t);
    void fill_basis(size_t count);
    void render(const Waveform& w, float env0, float env1, size_t count, float* out) const;

    SimulationConfig config_;
    ModelInfo model_;
    std::array<std::array<int, kChannelsPerPanel>, kMaxPanels> ct_sizes_{};
    Rng rng_;
    uint64_t sample_index_ = 0;
    double theta_ = 0.0;  // phase of the fundamental at the next sample, radians in [0, 2 pi)
    double frequency_ = 60.0;
    std::array<std::array<ChannelLoad, kChannelsPerPanel>, kMaxPanels> loads_{};
    std::array<Waveform, kVoltageInputs> voltage_wave_{};
    std::array<double, kVoltageInputs> voltage_mult_{1.0, 1.0, 1.0};
    std::array<double, kVoltageInputs> voltage_event_end_{-1.0, -1.0, -1.0};
    std::array<bool, kMaxOrder + 1> order_used_{};
    // basis_[h][k] = cos(h theta_k), sin(h theta_k) for the block being built.
    std::array<std::array<float, kBlockSamples>, kMaxOrder + 1> basis_cos_{};
    std::array<std::array<float, kBlockSamples>, kMaxOrder + 1> basis_sin_{};
    size_t next_event_ = 0;
    std::vector<ScenarioEvent> events_;
};

}  // namespace openbcpm
