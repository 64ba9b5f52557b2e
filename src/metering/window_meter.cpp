#include "metering/window_meter.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace openbcpm {

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kRad = 180.0 / std::numbers::pi;
constexpr double kMinVoltage = 10.0;  // V RMS: below this a phase is absent
constexpr size_t kLanes = 8;

// Widening for accumulation, spelled out (the build warns on implicit float promotion).
inline double dbl(float f) {
    return static_cast<double>(f);
}

// Products accumulated for a current channel over a run of samples.
struct CurrentSums {
    double ii = 0, iv = 0, ic = 0, is = 0;
};

// The hot loop: four dot products over one contiguous run. Separate lanes let
// the compiler keep the additions in vector registers without reassociating.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
CurrentSums
current_kernel(const float* __restrict x, const float* __restrict v, const float* __restrict c,
               const float* __restrict s, size_t n) {
    float ii[kLanes] = {}, iv[kLanes] = {}, ic[kLanes] = {}, is[kLanes] = {};
    size_t k = 0;
    for (; k + kLanes <= n; k += kLanes) {
        for (size_t l = 0; l < kLanes; ++l) {
            const float xi = x[k + l];
            ii[l] += xi * xi;
            iv[l] += xi * v[k + l];
            ic[l] += xi * c[k + l];
            is[l] += xi * s[k + l];
        }
    }
    CurrentSums out;
    for (; k < n; ++k) {
        out.ii += dbl(x[k]) * dbl(x[k]);
        out.iv += dbl(x[k]) * dbl(v[k]);
        out.ic += dbl(x[k]) * dbl(c[k]);
        out.is += dbl(x[k]) * dbl(s[k]);
    }
    for (size_t l = 0; l < kLanes; ++l) {
        out.ii += dbl(ii[l]);
        out.iv += dbl(iv[l]);
        out.ic += dbl(ic[l]);
        out.is += dbl(is[l]);
    }
    return out;
}

// Same for a run without a voltage reference (aux 4, or a phase with no voltage).
CurrentSums current_kernel_no_power(const float* __restrict x, const float* __restrict c,
                                    const float* __restrict s, size_t n) {
    float ii[kLanes] = {}, ic[kLanes] = {}, is[kLanes] = {};
    size_t k = 0;
    for (; k + kLanes <= n; k += kLanes) {
        for (size_t l = 0; l < kLanes; ++l) {
            const float xi = x[k + l];
            ii[l] += xi * xi;
            ic[l] += xi * c[k + l];
            is[l] += xi * s[k + l];
        }
    }
    CurrentSums out;
    for (; k < n; ++k) {
        out.ii += dbl(x[k]) * dbl(x[k]);
        out.ic += dbl(x[k]) * dbl(c[k]);
        out.is += dbl(x[k]) * dbl(s[k]);
    }
    for (size_t l = 0; l < kLanes; ++l) {
        out.ii += dbl(ii[l]);
        out.ic += dbl(ic[l]);
        out.is += dbl(is[l]);
    }
    return out;
}

double wrap_degrees(double d) {
    d = std::fmod(d, 360.0);
    if (d <= -180.0) d += 360.0;
    if (d > 180.0) d -= 360.0;
    return d;
}

// A run of ring positions as at most two contiguous pieces.
struct Segments {
    size_t start[2]{};
    size_t count[2]{};
    int pieces = 0;
};

Segments ring_segments(uint64_t first, size_t count, size_t ring) {
    Segments seg;
    const auto s = static_cast<size_t>(first % ring);
    const size_t first_len = std::min(count, ring - s);
    seg.start[0] = s;
    seg.count[0] = first_len;
    seg.pieces = 1;
    if (first_len < count) {
        seg.start[1] = 0;
        seg.count[1] = count - first_len;
        seg.pieces = 2;
    }
    return seg;
}

// V1's frequency from its rising zero crossings over samples [n0, n1] of the
// ring: coarse (a few mHz of jitter), but free of the phase method's ambiguity.
// The phase advance between window centres only tells the frequency modulo
// 1/(window spacing), 5 Hz at 60 Hz: without this a step from 60 to 50 Hz
// would read as 60. A crossing counts only after the signal has been below
// -hysteresis, so noise at zero does not add crossings. 0 when fewer than
// three crossings.
double crossing_frequency(const float* v, uint64_t n0, uint64_t n1, size_t ring,
                          double hysteresis) {
    bool armed = false;
    int crossings = 0;
    double first = 0.0, last = 0.0;
    float prev = v[static_cast<size_t>(n0 % ring)];
    for (uint64_t n = n0 + 1; n <= n1; ++n) {
        const float x = v[static_cast<size_t>(n % ring)];
        if (dbl(x) < -hysteresis) armed = true;
        if (armed && prev < 0.0f && x >= 0.0f) {
            const double t = static_cast<double>(n - 1) + dbl(prev) / (dbl(prev) - dbl(x));
            if (crossings == 0) first = t;
            last = t;
            ++crossings;
            armed = false;
        }
        prev = x;
    }
    if (crossings < 3 || last <= first) return 0.0;
    return (crossings - 1) * kSampleRate / (last - first);
}

}  // namespace

WindowMeter::WindowMeter(double nominal_frequency)
    : nominal_(nominal_frequency), f_est_(nominal_frequency) {
    for (auto& panel : phase_of_) {
        for (size_t c = 0; c < panel.size(); ++c) {
            const int ch = static_cast<int>(c) + 1;
            panel[c] = ch == kNeutralAuxChannel ? -1
                       : is_aux_channel(ch)
                           ? ch - kFirstAuxChannel
                           : static_cast<int>(default_phase(StripConfiguration::TopFeed, ch));
        }
    }
}

void WindowMeter::set_channel_phase(int panel, int channel, int voltage_input) {
    phase_of_.at(static_cast<size_t>(panel - 1)).at(static_cast<size_t>(channel - 1)) =
        voltage_input;
}

void WindowMeter::push(const SampleBlock& block) {
    if (written_ == 0) time_origin_ = block.start_time;
    const Segments seg = ring_segments(written_, block.count, kRing);
    size_t offset = 0;
    for (int p = 0; p < seg.pieces; ++p) {
        const size_t dst = seg.start[p];
        const size_t n = seg.count[p];
        for (size_t v = 0; v < kVoltageInputs; ++v) {
            std::copy_n(block.voltage[v].data() + offset, n, v_[v].data() + dst);
        }
        for (size_t panel = 0; panel < kMaxPanels; ++panel) {
            for (size_t c = 0; c < kChannelsPerPanel; ++c) {
                std::copy_n(block.current[panel][c].data() + offset, n, i_[panel][c].data() + dst);
            }
        }
        offset += n;
    }
    for (size_t v = 0; v < kVoltageInputs; ++v)
        pending_voltage_clip_[v] |= block.voltage_clipped[v];
    pending_current_clip_ |= block.current_clipped;
    written_ += block.count;
}

bool WindowMeter::window_ready() const {
    const double length = cycles() * kSampleRate / f_est_;
    const double b = a_ + length;
    // The closing correction needs the sample after the window's last one.
    return std::floor(b) + 1.0 < static_cast<double>(written_);
}

void WindowMeter::close_window() {
    const double length = cycles() * kSampleRate / f_est_;
    const double a = a_;
    const double b = a + length;
    const auto n0 = static_cast<uint64_t>(std::ceil(a));
    const auto n1 = static_cast<uint64_t>(std::floor(b));
    const double alpha = static_cast<double>(n0) - a;
    const double beta = b - static_cast<double>(n1);
    // Trapezoidal weights with linearly interpolated ends (see docs/metering.md):
    // interior samples weigh 1; these four carry the fractional edges.
    const bool has_before = n0 >= 1;
    const uint64_t before = has_before ? n0 - 1 : n0;
    const double w_before = has_before ? alpha * alpha / 2.0 : 0.0;
    const double w_first = 0.5 + alpha * (2.0 - alpha) / 2.0;
    const double w_last = 0.5 + beta * (2.0 - beta) / 2.0;
    const double w_after = beta * beta / 2.0;
    const uint64_t after = n1 + 1;
    const double W = length;  // the weights sum to b - a

    // Reference phasor of the estimated fundamental, zero phase at the window start.
    const double step = kTwoPi * f_est_ / kSampleRate;
    {
        const uint64_t first = before;
        const size_t count = static_cast<size_t>(after - first + 1);
        double c = std::cos(step * (static_cast<double>(first) - a));
        double s = std::sin(step * (static_cast<double>(first) - a));
        const double rc = std::cos(step), rs = std::sin(step);
        for (size_t k = 0; k < count; ++k) {
            const size_t r = static_cast<size_t>((first + k) % kRing);
            ref_cos_[r] = static_cast<float>(c);
            ref_sin_[r] = static_cast<float>(s);
            const double nc = c * rc - s * rs;
            s = s * rc + c * rs;
            c = nc;
        }
    }
    auto at = [](uint64_t n) { return static_cast<size_t>(n % kRing); };
    const size_t r_before = at(before), r_first = at(n0), r_last = at(n1), r_after = at(after);
    const Segments seg = ring_segments(n0, static_cast<size_t>(n1 - n0 + 1), kRing);
    // Edge corrections: weight minus the 1 the plain sum already gave.
    const double e_before = w_before, e_first = w_first - 1.0, e_last = w_last - 1.0,
                 e_after = w_after;
    auto edges = [&](auto&& g) {
        return e_before * g(r_before) + e_first * g(r_first) + e_last * g(r_last) +
               e_after * g(r_after);
    };

    // Voltages.
    WindowResult& out = result_;
    out.start_time = time_origin_ + a / kSampleRate;
    out.duration = length / kSampleRate;
    std::array<double, 3> vv{}, vc{}, vs{}, cross{};
    for (size_t p = 0; p < kVoltageInputs; ++p) {
        const float* v = v_[p].data();
        const float* c = ref_cos_.data();
        const float* s = ref_sin_.data();
        for (int piece = 0; piece < seg.pieces; ++piece) {
            const size_t o = seg.start[piece];
            const CurrentSums sums = current_kernel(v + o, v + o, c + o, s + o, seg.count[piece]);
            vv[p] += sums.ii;
            vc[p] += sums.ic;
            vs[p] += sums.is;
        }
        vv[p] += edges([&](size_t r) { return dbl(v[r]) * dbl(v[r]); });
        vc[p] += edges([&](size_t r) { return dbl(v[r]) * dbl(c[r]); });
        vs[p] += edges([&](size_t r) { return dbl(v[r]) * dbl(s[r]); });
    }
    for (size_t p = 0; p < kVoltageInputs; ++p) {
        const size_t q = (p + 1) % kVoltageInputs;
        const float* x = v_[p].data();
        const float* y = v_[q].data();
        for (int piece = 0; piece < seg.pieces; ++piece) {
            const size_t o = seg.start[piece];
            double acc = 0.0;
            float lanes[kLanes] = {};
            size_t k = 0;
            const size_t n = seg.count[piece];
            for (; k + kLanes <= n; k += kLanes) {
                for (size_t l = 0; l < kLanes; ++l)
                    lanes[l] += x[o + k + l] * y[o + k + l];
            }
            for (; k < n; ++k)
                acc += dbl(x[o + k]) * dbl(y[o + k]);
            for (float l : lanes)
                acc += dbl(l);
            cross[p] += acc;
        }
        cross[p] += edges([&](size_t r) { return dbl(x[r]) * dbl(y[r]); });
    }
    std::array<double, 3> v_angle_rad{};
    for (size_t p = 0; p < kVoltageInputs; ++p) {
        out.voltage[p] = std::sqrt(std::max(vv[p], 0.0) / W);
        out.voltage_present[p] = out.voltage[p] >= kMinVoltage;
        v_angle_rad[p] = std::atan2(-vs[p], vc[p]);
        const size_t q = (p + 1) % kVoltageInputs;
        out.voltage_ll[p] = std::sqrt(std::max(vv[p] + vv[q] - 2.0 * cross[p], 0.0) / W);
        out.voltage_clipped[p] = pending_voltage_clip_[p];
        pending_voltage_clip_[p] = false;
    }
    for (size_t p = 0; p < kVoltageInputs; ++p) {
        out.voltage_angle[p] =
            out.voltage_present[p] ? wrap_degrees((v_angle_rad[p] - v_angle_rad[0]) * kRad) : 0.0;
    }
    out.current_clipped = pending_current_clip_;
    pending_current_clip_ = false;

    // Frequency from the advance of V1's phase between window centres.
    const double centre = (a + b) / 2.0;
    const int n_cycles = cycles();
    // Phase of V1 at the centre: the reference has turned n_cycles * pi there.
    const double phase_at_centre = v_angle_rad[0] + std::numbers::pi * n_cycles;
    if (out.voltage_present[0]) {
        if (have_prev_phase_) {
            const double d = centre - prev_centre_;
            const double coarse =
                crossing_frequency(v_[0].data(), n0, n1, kRing, 0.1 * out.voltage[0]);
            const double expected = kTwoPi * (coarse > 0.0 ? coarse : f_est_) * d / kSampleRate;
            const double turns = std::round((expected - (phase_at_centre - prev_phase_)) / kTwoPi);
            const double advance = phase_at_centre - prev_phase_ + kTwoPi * turns;
            const double f = advance * kSampleRate / (kTwoPi * d);
            out.frequency = f;
            out.frequency_valid = f >= 40.0 && f <= 70.0;
        } else {
            out.frequency = f_est_;
            out.frequency_valid = true;
        }
        prev_phase_ = phase_at_centre;
        prev_centre_ = centre;
        have_prev_phase_ = true;
    } else {
        out.frequency = 0.0;
        out.frequency_valid = false;
        have_prev_phase_ = false;
    }

    // Currents.
    for (size_t panel = 0; panel < kMaxPanels; ++panel) {
        for (size_t ch = 0; ch < kChannelsPerPanel; ++ch) {
            const float* x = i_[panel][ch].data();
            const int ph = phase_of_[panel][ch];
            const bool power = ph >= 0 && out.voltage_present[static_cast<size_t>(ph)];
            const float* v = power ? v_[static_cast<size_t>(ph)].data() : nullptr;
            const float* c = ref_cos_.data();
            const float* s = ref_sin_.data();
            CurrentSums sums;
            for (int piece = 0; piece < seg.pieces; ++piece) {
                const size_t o = seg.start[piece];
                const CurrentSums part =
                    power ? current_kernel(x + o, v + o, c + o, s + o, seg.count[piece])
                          : current_kernel_no_power(x + o, c + o, s + o, seg.count[piece]);
                sums.ii += part.ii;
                sums.iv += part.iv;
                sums.ic += part.ic;
                sums.is += part.is;
            }
            sums.ii += edges([&](size_t r) { return dbl(x[r]) * dbl(x[r]); });
            sums.ic += edges([&](size_t r) { return dbl(x[r]) * dbl(c[r]); });
            sums.is += edges([&](size_t r) { return dbl(x[r]) * dbl(s[r]); });
            if (power) sums.iv += edges([&](size_t r) { return dbl(x[r]) * dbl(v[r]); });

            ChannelWindow& cw = out.channel[panel][ch];
            const double irms = std::sqrt(std::max(sums.ii, 0.0) / W);
            if (irms <= kCurrentFloor) {
                cw = ChannelWindow{};
                continue;
            }
            cw.current = irms;
            cw.power = power ? sums.iv / W : 0.0;
            cw.apparent = power ? irms * out.voltage[static_cast<size_t>(ph)] : 0.0;
            cw.angle = wrap_degrees((std::atan2(-sums.is, sums.ic) - v_angle_rad[0]) * kRad);
            cw.has_angle = true;
        }
    }

    // Next window: start where this one ended, length from the measured frequency.
    a_ = b;
    if (out.frequency_valid) {
        f_est_ = std::clamp(out.frequency, 40.0, 70.0);
    } else if (!out.voltage_present[0]) {
        f_est_ = nominal_;
    }
}

}  // namespace openbcpm
