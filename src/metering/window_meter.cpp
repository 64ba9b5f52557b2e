#include "metering/window_meter.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "sources/simd.hpp"

namespace openbcpm {

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kRad = 180.0 / std::numbers::pi;
constexpr double kMinVoltage = 10.0;  // V RMS: below this a phase is absent

// Widening for accumulation, spelled out (the build warns on implicit float promotion).
inline double dbl(float f) {
    return static_cast<double>(f);
}

using simd::F8;
using simd::kLanes;
using simd::load;

// The hot loop, over one contiguous run of an input: sum x^2, x*y, x*c, x*s.
// Two sets of accumulators keep the adds of a vector unit busy.
OPENBCPM_FMA_CLONES
void products(const float* __restrict x, const float* __restrict y, const float* __restrict c,
              const float* __restrict s, size_t n, double* __restrict out) {
    F8 xx0{}, xy0{}, xc0{}, xs0{}, xx1{}, xy1{}, xc1{}, xs1{};
    F8 a, b, t, u;
    size_t k = 0;
    for (; k + 2 * kLanes <= n; k += 2 * kLanes) {
        load(a, x + k);
        load(b, x + k + kLanes);
        xx0 += a * a;
        xx1 += b * b;
        load(t, y + k);
        load(u, y + k + kLanes);
        xy0 += a * t;
        xy1 += b * u;
        load(t, c + k);
        load(u, c + k + kLanes);
        xc0 += a * t;
        xc1 += b * u;
        load(t, s + k);
        load(u, s + k + kLanes);
        xs0 += a * t;
        xs1 += b * u;
    }
    if (k + kLanes <= n) {
        load(a, x + k);
        xx0 += a * a;
        load(t, y + k);
        xy0 += a * t;
        load(t, c + k);
        xc0 += a * t;
        load(t, s + k);
        xs0 += a * t;
        k += kLanes;
    }
    const F8 xx = xx0 + xx1, xy = xy0 + xy1, xc = xc0 + xc1, xs = xs0 + xs1;
    double sxx = 0.0, sxy = 0.0, sxc = 0.0, sxs = 0.0;
    for (size_t l = 0; l < kLanes; ++l) {
        sxx += dbl(xx[l]);
        sxy += dbl(xy[l]);
        sxc += dbl(xc[l]);
        sxs += dbl(xs[l]);
    }
    for (; k < n; ++k) {
        sxx += dbl(x[k]) * dbl(x[k]);
        sxy += dbl(x[k]) * dbl(y[k]);
        sxc += dbl(x[k]) * dbl(c[k]);
        sxs += dbl(x[k]) * dbl(s[k]);
    }
    out[0] += sxx;
    out[1] += sxy;
    out[2] += sxc;
    out[3] += sxs;
}

// The reference phasor cos, sin of `step` * (k - k0 + offset) over k in [k0, k1):
// rotated in double from an exact start, eight lanes at a time.
void reference(double offset, double step, size_t k0, size_t k1, float* c, float* s) {
    const double ar = std::cos(step), ai = std::sin(step);  // one sample's turn
    double re[kLanes], im[kLanes];
    re[0] = std::cos(step * offset);
    im[0] = std::sin(step * offset);
    for (size_t l = 1; l < kLanes; ++l) {
        re[l] = re[l - 1] * ar - im[l - 1] * ai;
        im[l] = re[l - 1] * ai + im[l - 1] * ar;
    }
    // Eight samples' turn: lane 7 times one more sample, over lane 0.
    const double er = re[kLanes - 1] * ar - im[kLanes - 1] * ai;
    const double ei = re[kLanes - 1] * ai + im[kLanes - 1] * ar;
    const double tr = er * re[0] + ei * im[0], ti = ei * re[0] - er * im[0];
    for (size_t k = k0; k < k1; k += kLanes) {
        const size_t m = std::min(kLanes, k1 - k);
        for (size_t l = 0; l < m; ++l) {
            c[k + l] = static_cast<float>(re[l]);
            s[k + l] = static_cast<float>(im[l]);
        }
        for (size_t l = 0; l < kLanes; ++l) {
            const double r = re[l] * tr - im[l] * ti;
            im[l] = re[l] * ti + im[l] * tr;
            re[l] = r;
        }
    }
}

double wrap_degrees(double d) {
    d = std::fmod(d, 360.0);
    if (d <= -180.0) d += 360.0;
    if (d > 180.0) d -= 360.0;
    return d;
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
    for (size_t p = 0; p < kVoltageInputs; ++p)
        y_of_[p] = static_cast<int>((p + 1) % kVoltageInputs);
    for (int panel = 1; panel <= kMaxPanels; ++panel) {
        for (int ch = 1; ch <= kChannelsPerPanel; ++ch) {
            set_channel_phase(panel, ch,
                              ch == kNeutralAuxChannel ? -1
                              : is_aux_channel(ch)     ? ch - kFirstAuxChannel
                                                       : static_cast<int>(default_phase(
                                                             StripConfiguration::TopFeed, ch)));
        }
    }
    start_window(0.0);
}

void WindowMeter::set_channel_phase(int panel, int channel, int voltage_input) {
    phase_of_.at(static_cast<size_t>(panel - 1)).at(static_cast<size_t>(channel - 1)) =
        voltage_input;
    const size_t i = kVoltageInputs + static_cast<size_t>(panel - 1) * kChannelsPerPanel +
                     static_cast<size_t>(channel - 1);
    // With no voltage to pair with, x*y is x^2 again: summed, never read.
    y_of_[i] = voltage_input >= 0 && voltage_input < static_cast<int>(kVoltageInputs)
                   ? voltage_input
                   : static_cast<int>(i);
}

void WindowMeter::start_window(double a) {
    Window& w = w_;
    w.a = a;
    w.length = cycles() * kSampleRate / f_est_;
    const double b = a + w.length;
    w.n0 = static_cast<uint64_t>(std::ceil(a));
    w.n1 = static_cast<uint64_t>(std::floor(b));
    const double alpha = static_cast<double>(w.n0) - a;
    const double beta = b - static_cast<double>(w.n1);
    // Trapezoidal weights with linearly interpolated ends (see docs/metering.md):
    // interior samples weigh 1; these four carry the fractional edges, as
    // corrections to the 1 the plain run gives n0 and n1.
    w.e_before = w.n0 >= 1 ? alpha * alpha / 2.0 : 0.0;
    w.e_first = alpha * (2.0 - alpha) / 2.0 - 0.5;
    w.e_last = beta * (2.0 - beta) / 2.0 - 0.5;
    w.e_after = beta * beta / 2.0;
    w.step = kTwoPi * f_est_ / kSampleRate;
    w.start_edges_done = false;
    fed_ = w.n0;
    sums_.fill(Sums{});
}

void WindowMeter::begin_block(const SampleBlock& block) {
    if (written_ == 0) time_origin_ = block.start_time;
    block_start_ = written_;
    for (size_t v = 0; v < kVoltageInputs; ++v)
        in_[v] = block.voltage[v].data();
    for (size_t p = 0; p < kMaxPanels; ++p) {
        for (size_t c = 0; c < kChannelsPerPanel; ++c)
            in_[kVoltageInputs + p * kChannelsPerPanel + c] = block.current[p][c].data();
    }
    // V1 into its ring, for the zero crossings.
    size_t done = 0;
    while (done < block.count) {
        const auto at = static_cast<size_t>((written_ + done) % kRing);
        const size_t n = std::min(block.count - done, kRing - at);
        std::copy_n(block.voltage[0].data() + done, n, v1_.data() + at);
        done += n;
    }
    for (size_t v = 0; v < kVoltageInputs; ++v)
        pending_voltage_clip_[v] |= block.voltage_clipped[v];
    pending_current_clip_ |= block.current_clipped;
    written_ += block.count;
}

void WindowMeter::end_block(size_t count) {
    // Keep the last kTail samples of every input: the next window's first edge
    // samples can lie just before the next block.
    const size_t n = count;
    for (size_t i = 0; i < kInputs; ++i) {
        auto& t = tail_[i];
        const float* x = in_[i];
        if (n >= kTail) {
            std::copy_n(x + n - kTail, kTail, t.begin());
        } else {
            std::copy(t.begin() + static_cast<long>(n), t.end(), t.begin());
            std::copy_n(x, n, t.begin() + static_cast<long>(kTail - n));
        }
    }
}

void WindowMeter::add_sample(uint64_t n, double weight) {
    if (weight == 0.0) return;
    const double phase = w_.step * (static_cast<double>(n) - w_.a);
    const double c = weight * std::cos(phase), s = weight * std::sin(phase);
    std::array<float, kInputs> x{};
    for (size_t i = 0; i < kInputs; ++i) {
        x[i] = n >= block_start_ ? in_[i][n - block_start_]
                                 : tail_[i][static_cast<size_t>(n + kTail - block_start_)];
    }
    for (size_t i = 0; i < kInputs; ++i) {
        const double xi = dbl(x[i]);
        Sums& m = sums_[i];
        m.xx += weight * xi * xi;
        m.xy += weight * xi * dbl(x[static_cast<size_t>(y_of_[i])]);
        m.xc += xi * c;
        m.xs += xi * s;
    }
}

void WindowMeter::add_run(uint64_t from, uint64_t to) {
    // Samples of the previous block (only the first one or two of a window).
    for (; from < to && from < block_start_; ++from)
        add_sample(from, 1.0);
    if (from >= to) return;
    const auto k0 = static_cast<size_t>(from - block_start_);
    const auto k1 = static_cast<size_t>(to - block_start_);
    reference(static_cast<double>(from) - w_.a, w_.step, k0, k1, ref_cos_.data(), ref_sin_.data());
    for (size_t i = 0; i < kInputs; ++i) {
        Sums& m = sums_[i];
        double out[4] = {m.xx, m.xy, m.xc, m.xs};
        products(in_[i] + k0, in_[static_cast<size_t>(y_of_[i])] + k0, ref_cos_.data() + k0,
                 ref_sin_.data() + k0, k1 - k0, out);
        m = Sums{out[0], out[1], out[2], out[3]};
    }
}

bool WindowMeter::integrate() {
    const uint64_t end = written_;
    if (!w_.start_edges_done && w_.n0 < end) {
        if (w_.n0 >= 1) add_sample(w_.n0 - 1, w_.e_before);
        add_sample(w_.n0, w_.e_first);
        w_.start_edges_done = true;
    }
    const uint64_t plain_end = std::min(w_.n1 + 1, end);
    if (fed_ < plain_end) {
        add_run(fed_, plain_end);
        fed_ = plain_end;
    }
    // The closing correction needs the sample after the window's last one.
    if (w_.n1 + 1 >= end) return false;
    add_sample(w_.n1, w_.e_last);
    add_sample(w_.n1 + 1, w_.e_after);
    close_window();
    return true;
}

void WindowMeter::close_window() {
    const double length = w_.length;
    const double a = w_.a;
    const double b = a + length;
    const uint64_t n0 = w_.n0, n1 = w_.n1;
    const double W = length;  // the weights sum to b - a

    // Voltages.
    WindowResult& out = result_;
    out.start_time = time_origin_ + a / kSampleRate;
    out.duration = length / kSampleRate;
    std::array<double, kVoltageInputs> v_angle_rad{};
    for (size_t p = 0; p < kVoltageInputs; ++p) {
        const Sums& m = sums_[p];
        out.voltage[p] = std::sqrt(std::max(m.xx, 0.0) / W);
        out.voltage_present[p] = out.voltage[p] >= kMinVoltage;
        v_angle_rad[p] = std::atan2(-m.xs, m.xc);
        const size_t q = (p + 1) % kVoltageInputs;
        out.voltage_ll[p] = std::sqrt(std::max(m.xx + sums_[q].xx - 2.0 * m.xy, 0.0) / W);
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
                crossing_frequency(v1_.data(), n0, n1, kRing, 0.1 * out.voltage[0]);
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
            const Sums& m = sums_[kVoltageInputs + panel * kChannelsPerPanel + ch];
            const int ph = phase_of_[panel][ch];
            const bool power = ph >= 0 && out.voltage_present[static_cast<size_t>(ph)];
            ChannelWindow& cw = out.channel[panel][ch];
            const double irms = std::sqrt(std::max(m.xx, 0.0) / W);
            if (irms <= kCurrentFloor) {
                cw = ChannelWindow{};
                continue;
            }
            cw.current = irms;
            cw.power = power ? m.xy / W : 0.0;
            cw.apparent = power ? irms * out.voltage[static_cast<size_t>(ph)] : 0.0;
            cw.angle = wrap_degrees((std::atan2(-m.xs, m.xc) - v_angle_rad[0]) * kRad);
            cw.has_angle = true;
        }
    }

    // Next window: start where this one ended, length from the measured frequency.
    if (out.frequency_valid) {
        f_est_ = std::clamp(out.frequency, 40.0, 70.0);
    } else if (!out.voltage_present[0]) {
        f_est_ = nominal_;
    }
    start_window(b);
}

}  // namespace openbcpm
