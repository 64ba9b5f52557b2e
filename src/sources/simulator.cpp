#include "sources/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

#include "sources/noise_lanes.hpp"
#include "sources/simd.hpp"

namespace openbcpm {

namespace {
constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kSqrt2 = std::numbers::sqrt2;
constexpr double kDeg = std::numbers::pi / 180.0;
// Floor of every CT reading (amps RMS): what an idle channel shows before the 50 mA cut.
constexpr double kCurrentNoiseFloor = 0.005;
// Inputs saturate at 120 % of their range (the strips' 120 A momentary rating on 100 A CTs).
constexpr double kOverRange = 1.2;
constexpr double kVoltageRange = 300.0;  // V L-N

// The sample kernels: plain loops over a block the compiler vectorises.

// out = sum over the terms of a[t] cos_t + b[t] sin_t; n a multiple of 8.
// Four runs of eight at once (named, so they stay in registers), so the
// additions of a term do not wait on the previous term's.
OPENBCPM_SIMD_CLONES
void sum_terms(const float* const* cosines, const float* const* sines, const float* a,
               const float* b, size_t terms, size_t n, float* __restrict out) {
    using simd::F8;
    constexpr size_t L = simd::kLanes;
    size_t k = 0;
    for (; k + 4 * L <= n; k += 4 * L) {
        F8 acc0 = {}, acc1 = {}, acc2 = {}, acc3 = {}, c, s;
        for (size_t t = 0; t < terms; ++t) {
            const float* ct = cosines[t] + k;
            const float* st = sines[t] + k;
            simd::load(c, ct);
            simd::load(s, st);
            acc0 += a[t] * c + b[t] * s;
            simd::load(c, ct + L);
            simd::load(s, st + L);
            acc1 += a[t] * c + b[t] * s;
            simd::load(c, ct + 2 * L);
            simd::load(s, st + 2 * L);
            acc2 += a[t] * c + b[t] * s;
            simd::load(c, ct + 3 * L);
            simd::load(s, st + 3 * L);
            acc3 += a[t] * c + b[t] * s;
        }
        simd::store(out + k, acc0);
        simd::store(out + k + L, acc1);
        simd::store(out + k + 2 * L, acc2);
        simd::store(out + k + 3 * L, acc3);
    }
    for (; k < n; k += L) {
        F8 acc = {}, c, s;
        for (size_t t = 0; t < terms; ++t) {
            simd::load(c, cosines[t] + k);
            simd::load(s, sines[t] + k);
            acc += a[t] * c + b[t] * s;
        }
        simd::store(out + k, acc);
    }
}

// The envelope goes from e0 at the first sample to e1 at the last, in a straight line.
float slope_of(float e0, float e1, size_t n) {
    return n > 1 ? (e1 - e0) / static_cast<float>(n - 1) : 0.0f;
}

// main += shape * envelope.
OPENBCPM_SIMD_CLONES
void draw(const float* __restrict shape, float e0, float e1, size_t n, float* __restrict main) {
    const float slope = slope_of(e0, e1, n);
    // An int index: there is no vector conversion from 64-bit integers to float.
    for (int k = 0; k < static_cast<int>(n); ++k)
        main[k] += shape[k] * (e0 + slope * static_cast<float>(k));
}

// The sample numbers 0..7 of a run of eight, as floats (exact up to 2^24).
constexpr simd::F8 kFirstEight = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f};

// A branch CT over a block (n a multiple of 8): shape * envelope into its main,
// then plus noise, drawn as it goes, into out.
template <class ByteSums>
inline void branch_current_with(uint32_t* lanes, const float* __restrict shape, float e0, float e1,
                                float* __restrict main, float sigma, size_t n,
                                float* __restrict out) {
    using simd::F8;
    const float slope = slope_of(e0, e1, n);
    noise_lanes::State noise;
    noise_lanes::load(noise, lanes);
    F8 k = kFirstEight;
    for (size_t i = 0; i < n; i += simd::kLanes) {
        F8 u, m, g;
        simd::load(u, shape + i);
        const F8 x = u * (e0 + slope * k);
        simd::load(m, main + i);
        simd::store(main + i, m + x);
        noise_lanes::next<ByteSums>(noise, g);
        simd::store(out + i, x + sigma * g);
        k += static_cast<float>(simd::kLanes);
    }
    noise_lanes::save(lanes, noise);
}

// out = clean (or 0) + noise, over a block (n a multiple of 8).
template <class ByteSums>
inline void add_noise_with(uint32_t* lanes, const float* __restrict clean, float sigma, size_t n,
                           float* __restrict out) {
    using simd::F8;
    noise_lanes::State noise;
    noise_lanes::load(noise, lanes);
    for (size_t i = 0; i < n; i += simd::kLanes) {
        F8 x = {}, g;
        if (clean) simd::load(x, clean + i);
        noise_lanes::next<ByteSums>(noise, g);
        simd::store(out + i, x + sigma * g);
    }
    noise_lanes::save(lanes, noise);
}

// The two, in an AVX2 version and a portable one (the same samples to the bit).
#if OPENBCPM_AVX2_VERSIONS
OPENBCPM_AVX2_VERSION
void branch_current(uint32_t* lanes, const float* __restrict shape, float e0, float e1,
                    float* __restrict main, float sigma, size_t n, float* __restrict out) {
    branch_current_with<noise_lanes::MultipliedByteSums>(lanes, shape, e0, e1, main, sigma, n, out);
}
OPENBCPM_AVX2_VERSION
void add_noise(uint32_t* lanes, const float* __restrict clean, float sigma, size_t n,
               float* __restrict out) {
    add_noise_with<noise_lanes::MultipliedByteSums>(lanes, clean, sigma, n, out);
}
#endif
OPENBCPM_BASELINE_VERSION
void branch_current(uint32_t* lanes, const float* __restrict shape, float e0, float e1,
                    float* __restrict main, float sigma, size_t n, float* __restrict out) {
    branch_current_with<noise_lanes::ShiftedByteSums>(lanes, shape, e0, e1, main, sigma, n, out);
}
OPENBCPM_BASELINE_VERSION
void add_noise(uint32_t* lanes, const float* __restrict clean, float sigma, size_t n,
               float* __restrict out) {
    add_noise_with<noise_lanes::ShiftedByteSums>(lanes, clean, sigma, n, out);
}

// max |x| over x[0, n).
OPENBCPM_SIMD_CLONES
float largest_magnitude(const float* x, size_t n) {
    using simd::F8;
    F8 top = {};
    size_t k = 0;
    for (; k + simd::kLanes <= n; k += simd::kLanes) {
        F8 v;
        simd::load(v, x + k);
        v = v < 0.0f ? -v : v;
        top = v > top ? v : top;
    }
    float m = 0.0f;
    for (size_t l = 0; l < simd::kLanes; ++l)
        m = std::max(m, top[l]);
    for (; k < n; ++k)
        m = std::max(m, std::abs(x[k]));
    return m;
}

// Clamps out to +-limit, the input's range; true when a sample was outside.
// The samples are looked at only when they could be outside: when the bound of
// the clean signal (peak) plus the largest noise is near the limit.
bool limit_reached(float* out, size_t n, float peak, float sigma, float limit) {
    if (peak * 1.001f + sigma * NoiseGenerator::kBound < limit * 0.999f) return false;
    if (largest_magnitude(out, n) <= limit) return false;
    bool over = false;
    for (size_t k = 0; k < n; ++k) {
        if (std::abs(out[k]) > limit) {
            out[k] = std::copysign(limit, out[k]);
            over = true;
        }
    }
    return over;
}

OPENBCPM_SIMD_CLONES
void sum3(const float* __restrict a, const float* __restrict b, const float* __restrict c, size_t n,
          float* __restrict out) {
    for (size_t k = 0; k < n; ++k)
        out[k] = a[k] + b[k] + c[k];
}

// RMS noise of a CT reading `amps`: its relative noise and the floor, independent.
double ct_noise(double relative, double amps) {
    const double r = relative * amps;
    return std::sqrt(r * r + kCurrentNoiseFloor * kCurrentNoiseFloor);
}

uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
}  // namespace

Rng::Rng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& w : s_)
        w = splitmix(x);
}

uint64_t Rng::next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Rng::uniform() {
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double Rng::gaussian() {
    if (has_spare_) {
        has_spare_ = false;
        return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0)
        u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(kTwoPi * u2);
    has_spare_ = true;
    return r * std::cos(kTwoPi * u2);
}

Phase physical_phase(Wiring wiring, StripConfiguration cfg, int channel) {
    const auto p = static_cast<int>(default_phase(cfg, channel));
    switch (wiring) {
        case Wiring::SinglePhase2Wire:
            return Phase::A;
        case Wiring::SplitPhase3Wire: {
            // Breakers alternate A, B down a split-phase panel.
            const int k = cfg == StripConfiguration::Sequential ? channel - 1 : (channel - 1) / 2;
            return static_cast<Phase>(k % 2);
        }
        default:
            return static_cast<Phase>(p);
    }
}

PanelSimulator::PanelSimulator(
    const SimulationConfig& config, const ModelInfo& model,
    const std::array<std::array<int, kChannelsPerPanel>, kMaxPanels>& ct_sizes)
    : config_(config),
      model_(model),
      ct_sizes_(ct_sizes),
      rng_(config.seed),
      noise_(config.seed),
      frequency_(config.frequency) {
    basis_.use(1);
    for (const Harmonic& h : config_.voltage_harmonics)
        basis_.use(h.order);
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            ChannelLoad& l = loads_[static_cast<size_t>(panel - 1)][static_cast<size_t>(c - 1)];
            l.phase = physical_phase(
                config_.wiring, config_.panel_configuration[static_cast<size_t>(panel - 1)], c);
            if (auto aux = aux_phase(c)) l.phase = *aux;
            l.noise = config_.current_noise;
        }
    }
    for (const LoadSpec& spec : config_.loads) {
        if (spec.panel < 1 || spec.panel > kMaxPanels || spec.channel < 1 ||
            spec.channel > kChannelsPerPanel) {
            continue;
        }
        ChannelLoad& l =
            loads_[static_cast<size_t>(spec.panel - 1)][static_cast<size_t>(spec.channel - 1)];
        l.present = true;
        l.spec = spec;
        l.base_amps = spec.amps;
        l.pf = spec.pf;
        if (spec.noise) l.noise = *spec.noise;
        if (spec.phase) l.phase = *spec.phase;
        if (spec.schedule.kind == ScheduleKind::Inrush) l.switched_on_at = spec.schedule.inrush_at;
        for (const Harmonic& h : spec.harmonics)
            basis_.use(h.order);
        rebuild_unit_waveform(l);
    }
    events_ = config_.events;
    std::stable_sort(events_.begin(), events_.end(),
                     [](const ScenarioEvent& a, const ScenarioEvent& b) { return a.at < b.at; });
    rebuild_voltage_waveforms();
}

SourceInfo PanelSimulator::info() const {
    return SourceInfo{"simulator", model_.panels, config_.frequency};
}

void PanelSimulator::rebuild_voltage_waveforms() {
    const double v = config_.voltage_ln;
    std::array<double, 3> mag{};
    std::array<double, 3> angle{};  // degrees
    switch (config_.wiring) {
        case Wiring::Wye4Wire:
        case Wiring::Delta3Wire:
            mag = {v, v, v};
            angle = {0.0, -120.0, 120.0};
            break;
        case Wiring::SplitPhase3Wire:
            mag = {v, v, 0.0};
            angle = {0.0, 180.0, 0.0};
            break;
        case Wiring::SinglePhase2Wire:
            mag = {v, 0.0, 0.0};
            break;
        case Wiring::HighLegDelta:
            // A and C are the centre-tapped winding; B is the high leg, sqrt(3) V at -90 degrees.
            mag = {v, std::sqrt(3.0) * v, v};
            angle = {0.0, -90.0, 180.0};
            break;
    }
    for (size_t p = 0; p < 3; ++p) {
        Waveform& w = voltage_wave_[p];
        w = Waveform{};
        const double m = mag[p] * config_.imbalance[p] * voltage_mult_[p];
        if (m <= 0.0) continue;
        const double a = angle[p] * kDeg;
        w.add_term(1, m, a);
        for (const Harmonic& h : config_.voltage_harmonics) {
            w.add_term(h.order, m * h.fraction, h.order * a + h.phase_deg * kDeg);
        }
    }
    if (config_.wiring == Wiring::Delta3Wire) {
        // With no neutral, the meter's L-N inputs see the phases against their own
        // average (the derived virtual neutral): remove the common part.
        Waveform common;
        for (const Waveform& w : voltage_wave_) {
            for (size_t t = 0; t < static_cast<size_t>(w.terms); ++t) {
                common.accumulate(w.order[t], w.a[t] / 3.0f, w.b[t] / 3.0f);
            }
        }
        for (Waveform& w : voltage_wave_) {
            for (size_t u = 0; u < static_cast<size_t>(common.terms); ++u) {
                w.accumulate(common.order[u], -common.a[u], -common.b[u]);
            }
        }
    }
    for (size_t p = 0; p < 3; ++p)
        voltage_peak_[p] = voltage_wave_[p].peak();
    voltage_ready_ = false;
}

void PanelSimulator::Waveform::add_term(int h, double rms, double phase) {
    if (terms >= kMaxTerms) return;
    const auto i = static_cast<size_t>(terms++);
    order[i] = h;
    a[i] = static_cast<float>(kSqrt2 * rms * std::cos(phase));
    b[i] = static_cast<float>(-kSqrt2 * rms * std::sin(phase));
}

float PanelSimulator::Waveform::peak() const {
    float sum = 0.0f;
    for (size_t t = 0; t < static_cast<size_t>(terms); ++t)
        sum += std::hypot(a[t], b[t]);
    return sum;
}

void PanelSimulator::Waveform::accumulate(int h, float ca, float cb) {
    size_t slot = 0;
    while (slot < static_cast<size_t>(terms) && order[slot] != h)
        ++slot;
    if (slot == static_cast<size_t>(terms)) {
        if (terms >= kMaxTerms) return;
        order[static_cast<size_t>(terms++)] = h;
    }
    a[slot] += ca;
    b[slot] += cb;
}

int PanelSimulator::take_shape(const Waveform& w) {
    int free = -1;
    for (size_t i = 0; i < kMaxShapes; ++i) {
        if (shape_users_[i] > 0 && shapes_[i] == w) {
            ++shape_users_[i];
            return static_cast<int>(i);
        }
        if (shape_users_[i] == 0 && free < 0) free = static_cast<int>(i);
    }
    // There is always a free one: at most one shape per channel, plus the spare.
    shapes_[static_cast<size_t>(free)] = w;
    shape_ready_[static_cast<size_t>(free)] = false;
    shape_peak_[static_cast<size_t>(free)] = w.peak();
    shape_users_[static_cast<size_t>(free)] = 1;
    return free;
}

void PanelSimulator::let_go_shape(int index) {
    if (index >= 0) --shape_users_[static_cast<size_t>(index)];
}

void PanelSimulator::rebuild_unit_waveform(ChannelLoad& l) {
    Waveform w;
    double harmonic_power = 0.0;
    for (const Harmonic& h : l.spec.harmonics)
        harmonic_power += h.fraction * h.fraction;
    const double i1 = 1.0 / std::sqrt(1.0 + harmonic_power);
    double voltage_angle = 0.0;
    switch (config_.wiring) {
        case Wiring::SplitPhase3Wire:
            voltage_angle = l.phase == Phase::B ? 180.0 : 0.0;
            break;
        case Wiring::HighLegDelta: {
            constexpr std::array<double, 3> a{0.0, -90.0, 180.0};
            voltage_angle = a[static_cast<size_t>(l.phase)];
            break;
        }
        default: {
            constexpr std::array<double, 3> a{0.0, -120.0, 120.0};
            voltage_angle = a[static_cast<size_t>(l.phase)];
        }
    }
    const double pf = std::clamp(std::abs(l.pf), 0.0, 1.0);
    const double phi = std::acos(pf) * (l.pf < 0 ? -1.0 : 1.0);  // lagging: current behind voltage
    const double ia = voltage_angle * kDeg - phi;
    w.add_term(1, i1, ia);
    for (const Harmonic& h : l.spec.harmonics)
        w.add_term(h.order, i1 * h.fraction, h.order * ia + h.phase_deg * kDeg);
    const int shape = take_shape(w);
    let_go_shape(l.shape);
    l.shape = shape;
}

double PanelSimulator::envelope(ChannelLoad& l, double t, bool advance_walk, double dt) {
    if (l.tripped) return 0.0;
    double amps = l.base_amps;
    const LoadSchedule& s = l.spec.schedule;
    if (l.ramp_end >= 0.0) {
        if (t >= l.ramp_end) {
            amps = l.ramp_to;
        } else if (t >= l.ramp_start) {
            const double f = (t - l.ramp_start) / (l.ramp_end - l.ramp_start);
            amps = l.ramp_from + f * (l.ramp_to - l.ramp_from);
        } else {
            amps = l.ramp_from;
        }
    }
    switch (s.kind) {
        case ScheduleKind::Constant:
            break;
        case ScheduleKind::Daily: {
            if (s.daily.empty()) break;
            const double hours = std::fmod(config_.start_time_of_day + t / 3600.0, 24.0);
            const double pos = hours / 24.0 * static_cast<double>(s.daily.size());
            const auto i0 = static_cast<size_t>(pos) % s.daily.size();
            const size_t i1 = (i0 + 1) % s.daily.size();
            const double f = pos - std::floor(pos);
            amps *= s.daily[i0] + f * (s.daily[i1] - s.daily[i0]);
            break;
        }
        case ScheduleKind::Steps: {
            for (const auto& [at, a] : s.steps) {
                if (at <= t) amps = a;
            }
            break;
        }
        case ScheduleKind::RandomWalk: {
            if (advance_walk && dt > 0.0) {
                l.walk *= std::exp(s.walk_sigma * std::sqrt(dt) * rng_.gaussian());
                l.walk = std::clamp(l.walk, s.walk_min, s.walk_max);
            }
            amps *= l.walk;
            break;
        }
        case ScheduleKind::Inrush: {
            if (t < l.switched_on_at) return 0.0;
            amps *= 1.0 +
                    (s.inrush_multiplier - 1.0) * std::exp(-(t - l.switched_on_at) / s.inrush_tau);
            break;
        }
    }
    return std::max(amps, 0.0);
}

void PanelSimulator::apply_due_events(double t) {
    while (next_event_ < events_.size() && events_[next_event_].at <= t + 1e-9) {
        const ScenarioEvent& e = events_[next_event_++];
        switch (e.action) {
            case ScenarioAction::SetLoad:
                set_load(e.panel, e.channel, e.amps, e.pf);
                break;
            case ScenarioAction::Trip:
                trip(e.panel, e.channel);
                break;
            case ScenarioAction::Restore:
                restore(e.panel, e.channel);
                break;
            case ScenarioAction::Ramp:
                ramp(e.panel, e.channel, e.amps, e.duration);
                break;
            case ScenarioAction::Sag:
            case ScenarioAction::Swell:
                voltage_event(e.phase_mask, e.magnitude, e.duration);
                break;
            case ScenarioAction::SetFrequency:
                set_frequency(e.frequency);
                break;
        }
    }
    bool changed = false;
    for (size_t p = 0; p < 3; ++p) {
        if (voltage_event_end_[p] >= 0.0 && t >= voltage_event_end_[p]) {
            ++state_version_;
            voltage_mult_[p] = 1.0;
            voltage_event_end_[p] = -1.0;
            changed = true;
        }
    }
    if (changed) rebuild_voltage_waveforms();
}

void PanelSimulator::render(const Waveform& w, size_t count, float* out) const {
    if (w.terms == 0) {
        std::fill(out, out + count, 0.0f);
        return;
    }
    // All terms in one pass, in registers.
    std::array<const float*, kMaxTerms> cosines{}, sines{};
    const auto terms = static_cast<size_t>(w.terms);
    for (size_t t = 0; t < terms; ++t) {
        cosines[t] = basis_.cos(w.order[t]);
        sines[t] = basis_.sin(w.order[t]);
    }
    const size_t whole = count / simd::kLanes * simd::kLanes;
    sum_terms(cosines.data(), sines.data(), w.a.data(), w.b.data(), terms, whole, out);
    for (size_t k = whole; k < count; ++k) {
        float x = 0.0f;
        for (size_t t = 0; t < terms; ++t)
            x += w.a[t] * cosines[t][k] + w.b[t] * sines[t][k];
        out[k] = x;
    }
}

bool PanelSimulator::read(SampleBlock& block) {
    const size_t n = kBlockSamples;
    static_assert(kBlockSamples % simd::kLanes == 0, "the kernels take whole runs of eight");
    const double t0 = time();
    const double dt = static_cast<double>(n) / kSampleRate;
    // The envelope is taken at the first and the last sample of the block, so a
    // step on a block boundary lands whole on one side of it.
    const double t_last = t0 + static_cast<double>(n - 1) / kSampleRate;
    apply_due_events(t0);
    if (basis_.next_block(frequency_, n)) {
        shape_ready_.fill(false);
        voltage_ready_ = false;
    }
    block.start_time = t0;
    block.count = n;
    block.current_clipped = false;

    // Voltages.
    const auto vlimit = static_cast<float>(kOverRange * kVoltageRange * kSqrt2);
    const auto vsigma = static_cast<float>(config_.voltage_ln * config_.voltage_noise);
    if (!voltage_ready_) {
        for (size_t p = 0; p < kVoltageInputs; ++p)
            render(voltage_wave_[p], n, voltage_samples_[p].data());
        voltage_ready_ = true;
    }
    for (size_t p = 0; p < kVoltageInputs; ++p) {
        float* out = block.voltage[p].data();
        const float* clean = voltage_samples_[p].data();
        if (vsigma > 0.0f) {
            add_noise(noise_.lanes(), clean, vsigma, n, out);
        } else {
            std::copy_n(clean, n, out);
        }
        block.voltage_clipped[p] =
            limit_reached(out, n, voltage_peak_[p], std::max(vsigma, 0.0f), vlimit);
    }

    // Envelopes of every load, and which shapes carry current in this block.
    shape_needed_.fill(false);
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        if (!model_.has_panel(panel)) continue;
        const auto pi = static_cast<size_t>(panel - 1);
        for (int c = 1; c <= kChannelsPerPanel; ++c) {
            ChannelLoad& l = loads_[pi][static_cast<size_t>(c - 1)];
            const bool exists = model_.has_channel(c) && c != kNeutralAuxChannel;
            if (!exists || !l.present) {
                l.envelope_start = l.envelope_end = 0.0;
                continue;
            }
            l.envelope_start = envelope(l, t0, false, 0.0);
            l.envelope_end = envelope(l, t_last, true, dt);
            if (l.envelope_start != 0.0 || l.envelope_end != 0.0) {
                shape_needed_[static_cast<size_t>(l.shape)] = true;
            }
        }
    }
    for (size_t i = 0; i < kMaxShapes; ++i) {
        if (shape_needed_[i] && !shape_ready_[i]) {
            render(shapes_[i], n, shape_samples_[i].data());
            shape_ready_[i] = true;
        }
    }

    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        const auto pi = static_cast<size_t>(panel - 1);
        if (!model_.has_panel(panel)) {
            for (auto& ch : block.current[pi])
                std::fill(ch.begin(), ch.begin() + static_cast<long>(n), 0.0f);
            continue;
        }
        currents(pi, n, block);
    }
    sample_index_ += n;
    return true;
}

void PanelSimulator::currents(size_t pi, size_t n, SampleBlock& block) {
    auto& out = block.current[pi];
    for (auto& m : mains_)
        std::fill(m.begin(), m.begin() + static_cast<long>(n), 0.0f);
    std::array<double, 3> mains_rms{};
    std::array<float, 3> mains_peak{};  // bounds of |mains_| over the block
    bool clipped = false;
    auto limit_of = [&](size_t ci) {
        return static_cast<float>(kOverRange * kSqrt2 * ct_sizes_[pi][ci]);
    };
    // Branch channels (and loads on aux 1..3, which only add to their main).
    for (int c = 1; c < kNeutralAuxChannel; ++c) {
        const auto ci = static_cast<size_t>(c - 1);
        const ChannelLoad& l = loads_[pi][ci];
        const bool aux = is_aux_channel(c);
        if (!model_.has_channel(c)) {
            std::fill(out[ci].begin(), out[ci].begin() + static_cast<long>(n), 0.0f);
            continue;
        }
        const bool drawing = l.present && (l.envelope_start != 0.0 || l.envelope_end != 0.0);
        const auto ph = static_cast<size_t>(l.phase);
        const auto e0 = static_cast<float>(l.envelope_start);
        const auto e1 = static_cast<float>(l.envelope_end);
        const float* shape =
            drawing ? shape_samples_[static_cast<size_t>(l.shape)].data() : nullptr;
        const float peak =
            drawing ? std::max(e0, e1) * shape_peak_[static_cast<size_t>(l.shape)] : 0.0f;
        if (drawing) {
            mains_rms[ph] += l.envelope_end;
            mains_peak[ph] += peak;
        }
        if (aux) {
            if (drawing) draw(shape, e0, e1, n, mains_[ph].data());
            continue;
        }
        const auto sigma = static_cast<float>(ct_noise(l.noise, l.envelope_end));
        if (drawing) {
            branch_current(noise_.lanes(), shape, e0, e1, mains_[ph].data(), sigma, n,
                           out[ci].data());
        } else {
            add_noise(noise_.lanes(), nullptr, sigma, n, out[ci].data());
        }
        clipped |= limit_reached(out[ci].data(), n, peak, sigma, limit_of(ci));
    }
    // Aux CTs on the mains see the sum of the currents of their phase; aux 4 sees
    // the neutral, the sum of all three (none in a 3-wire delta).
    for (size_t p = 0; p < 3; ++p) {
        const size_t ci = static_cast<size_t>(kFirstAuxChannel - 1) + p;
        const ChannelLoad& l = loads_[pi][ci];
        const auto sigma = static_cast<float>(ct_noise(l.noise, mains_rms[p]));
        add_noise(noise_.lanes(), mains_[p].data(), sigma, n, out[ci].data());
        clipped |= limit_reached(out[ci].data(), n, mains_peak[p], sigma, limit_of(ci));
    }
    const auto ni = static_cast<size_t>(kNeutralAuxChannel - 1);
    const bool delta = config_.wiring == Wiring::Delta3Wire;
    if (!delta) sum3(mains_[0].data(), mains_[1].data(), mains_[2].data(), n, scratch_.data());
    const auto sigma = static_cast<float>(
        ct_noise(loads_[pi][ni].noise, mains_rms[0] + mains_rms[1] + mains_rms[2]));
    add_noise(noise_.lanes(), delta ? nullptr : scratch_.data(), sigma, n, out[ni].data());
    const float neutral_peak = delta ? 0.0f : mains_peak[0] + mains_peak[1] + mains_peak[2];
    clipped |= limit_reached(out[ni].data(), n, neutral_peak, sigma, limit_of(ni));
    block.current_clipped = block.current_clipped || clipped;
}

void PanelSimulator::set_load(int panel, int channel, double amps, std::optional<double> pf) {
    if (panel < 1 || panel > kMaxPanels || channel < 1 || channel > kChannelsPerPanel) return;
    ChannelLoad& l = loads_[static_cast<size_t>(panel - 1)][static_cast<size_t>(channel - 1)];
    l.present = true;
    l.overridden = true;
    ++state_version_;
    l.base_amps = std::max(0.0, amps);
    l.spec.amps = l.base_amps;
    // A user-set load replaces the schedule: it is what they asked for.
    l.spec.schedule.kind = ScheduleKind::Constant;
    l.ramp_end = -1.0;
    if (pf) {
        l.pf = *pf;
        l.spec.pf = *pf;
        l.override_pf = true;
    }
    rebuild_unit_waveform(l);
}

void PanelSimulator::trip(int panel, int channel) {
    if (panel < 1 || panel > kMaxPanels || channel < 1 || channel > kChannelsPerPanel) return;
    loads_[static_cast<size_t>(panel - 1)][static_cast<size_t>(channel - 1)].tripped = true;
    ++state_version_;
}

void PanelSimulator::restore(int panel, int channel) {
    if (panel < 1 || panel > kMaxPanels || channel < 1 || channel > kChannelsPerPanel) return;
    ChannelLoad& l = loads_[static_cast<size_t>(panel - 1)][static_cast<size_t>(channel - 1)];
    if (l.tripped) l.switched_on_at = time();
    l.tripped = false;
    ++state_version_;
}

void PanelSimulator::ramp(int panel, int channel, double to_amps, double seconds) {
    if (panel < 1 || panel > kMaxPanels || channel < 1 || channel > kChannelsPerPanel) return;
    ChannelLoad& l = loads_[static_cast<size_t>(panel - 1)][static_cast<size_t>(channel - 1)];
    const double now = time();
    l.ramp_from = envelope(l, now, false, 0.0);
    l.spec.schedule.kind = ScheduleKind::Constant;
    l.present = true;
    l.overridden = true;
    ++state_version_;
    l.ramp_to = std::max(0.0, to_amps);
    l.ramp_start = now;
    l.ramp_end = now + std::max(seconds, 0.0);
    l.base_amps = l.ramp_to;
    l.spec.amps = l.ramp_to;
}

void PanelSimulator::voltage_event(int phase_mask, double magnitude, double seconds) {
    for (size_t p = 0; p < 3; ++p) {
        if ((phase_mask & (1 << p)) == 0) continue;
        voltage_mult_[p] = std::max(0.0, magnitude);
        voltage_event_end_[p] = seconds > 0.0 ? time() + seconds : -1.0;
    }
    ++state_version_;
    rebuild_voltage_waveforms();
}

void PanelSimulator::set_frequency(double hz) {
    frequency_ = std::clamp(hz, 40.0, 70.0);
    ++state_version_;
}

void PanelSimulator::set_scenario_name(std::string_view name) {
    scenario_name_.fill('\0');
    // An empty view's data() may be null, which memcpy must not be given.
    if (!name.empty())
        std::memcpy(scenario_name_.data(), name.data(),
                    std::min(name.size(), scenario_name_.size() - 1));
    ++state_version_;
}

void PanelSimulator::start_scenario(std::vector<ScenarioEvent>& events, std::string_view name) {
    const double now = time();
    for (ScenarioEvent& e : events)
        e.at += now;
    events_.swap(events);
    next_event_ = 0;
    scenario_started_ = now;
    set_scenario_name(events_.empty() ? std::string_view() : name);
}

void PanelSimulator::copy_state(SimulatorState& out) const {
    out.time = time();
    out.frequency = frequency_;
    out.nominal_frequency = config_.frequency;
    for (size_t p = 0; p < loads_.size(); ++p) {
        for (size_t c = 0; c < loads_[p].size(); ++c) {
            const ChannelLoad& l = loads_[p][c];
            SimulatorState::Channel& o = out.channels[p][c];
            o.overridden = l.overridden;
            o.tripped = l.tripped;
            o.has_pf = l.override_pf;
            o.amps = l.base_amps;
            o.pf = l.pf;
            o.ramp_end = l.ramp_end > time() ? l.ramp_end : -1.0;
        }
    }
    for (size_t p = 0; p < out.voltage.size(); ++p)
        out.voltage[p] = {voltage_mult_[p], voltage_event_end_[p]};
    out.scenario_name = scenario_name_;
    out.scenario_events = static_cast<uint32_t>(events_.size());
    out.scenario_done = static_cast<uint32_t>(next_event_);
    out.scenario_started = scenario_started_;
    out.scenario_next_at = next_event_ < events_.size() ? events_[next_event_].at : -1.0;
    out.version = state_version_;
}

void PanelSimulator::set_ct_size(int panel, int channel, int amps) {
    if (panel < 1 || panel > kMaxPanels || channel < 1 || channel > kChannelsPerPanel) return;
    ct_sizes_[static_cast<size_t>(panel - 1)][static_cast<size_t>(channel - 1)] = amps;
}

double PanelSimulator::load_amps(int panel, int channel) const {
    const ChannelLoad& l =
        loads_.at(static_cast<size_t>(panel - 1)).at(static_cast<size_t>(channel - 1));
    return l.tripped ? 0.0 : l.envelope_end;
}

double PanelSimulator::load_pf(int panel, int channel) const {
    return loads_.at(static_cast<size_t>(panel - 1)).at(static_cast<size_t>(channel - 1)).pf;
}

bool PanelSimulator::tripped(int panel, int channel) const {
    return loads_.at(static_cast<size_t>(panel - 1)).at(static_cast<size_t>(channel - 1)).tripped;
}

double PanelSimulator::voltage_multiplier(int phase) const {
    return voltage_mult_.at(static_cast<size_t>(phase));
}

}  // namespace openbcpm
