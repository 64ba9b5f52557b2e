#include "sources/harmonic_basis.hpp"

#include <cmath>
#include <cstring>
#include <numbers>

#include "sources/simd.hpp"

namespace openbcpm {

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr size_t kLanes = 8;

struct Phasor {
    double re = 1.0, im = 0.0;
};

Phasor operator*(Phasor a, Phasor b) {
    return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}

// Rotates eight phasors, sample k in lane k % 8, each by `turn` per step of
// eight samples: a complex multiply per sample, in double, so the float output
// is exact to its last bit over a block.
OPENBCPM_SIMD_CLONES
void rotate(const double* re0, const double* im0, double turn_re, double turn_im, size_t count,
            float* __restrict c, float* __restrict s) {
    using simd::D4;
    D4 re_lo, re_hi, im_lo, im_hi;  // lanes 0..3 and 4..7
    std::memcpy(&re_lo, re0, sizeof re_lo);
    std::memcpy(&re_hi, re0 + 4, sizeof re_hi);
    std::memcpy(&im_lo, im0, sizeof im_lo);
    std::memcpy(&im_hi, im0 + 4, sizeof im_hi);
    for (size_t k = 0; k < count; k += kLanes) {
        simd::store(c + k, __builtin_convertvector(re_lo, simd::F4));
        simd::store(c + k + 4, __builtin_convertvector(re_hi, simd::F4));
        simd::store(s + k, __builtin_convertvector(im_lo, simd::F4));
        simd::store(s + k + 4, __builtin_convertvector(im_hi, simd::F4));
        const D4 r_lo = re_lo * turn_re - im_lo * turn_im;
        const D4 r_hi = re_hi * turn_re - im_hi * turn_im;
        im_lo = re_lo * turn_im + im_lo * turn_re;
        im_hi = re_hi * turn_im + im_hi * turn_re;
        re_lo = r_lo;
        re_hi = r_hi;
    }
}

}  // namespace

void HarmonicBasis::use(int h) {
    if (h >= 1 && h <= kMaxOrder) used_[static_cast<size_t>(h)] = true;
}

bool HarmonicBasis::next_block(double frequency, size_t count) {
    const double step = kTwoPi * frequency / kSampleRate;
    const Made now{theta_, frequency, count, used_};
    theta_ = std::fmod(theta_ + step * static_cast<double>(count), kTwoPi);
    if (now == made_) return false;
    made_ = now;
    const double theta = now.theta;
    // Every block starts again from the exact phase (two sincos), so rounding
    // in the rotation never accumulates past one block.
    const Phasor start{std::cos(theta), std::sin(theta)};
    const Phasor advance{std::cos(step), std::sin(step)};
    Phasor start_h, advance_h;  // start^h, advance^h
    const size_t padded = (count + kLanes - 1) / kLanes * kLanes;
    for (int h = 1; h <= kMaxOrder; ++h) {
        start_h = start_h * start;
        advance_h = advance_h * advance;
        if (!used_[static_cast<size_t>(h)]) continue;
        double re[kLanes], im[kLanes];
        Phasor z = start_h;
        for (size_t l = 0; l < kLanes; ++l) {
            re[l] = z.re;
            im[l] = z.im;
            z = z * advance_h;
        }
        const Phasor a2 = advance_h * advance_h;
        const Phasor a4 = a2 * a2;
        const Phasor turn = a4 * a4;  // one step of eight samples
        rotate(re, im, turn.re, turn.im, padded, cos_[static_cast<size_t>(h)].data(),
               sin_[static_cast<size_t>(h)].data());
    }
    return true;
}

}  // namespace openbcpm
