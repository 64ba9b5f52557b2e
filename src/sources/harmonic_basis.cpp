#include "sources/harmonic_basis.hpp"

#include <cmath>
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
    double re[kLanes], im[kLanes];
    for (size_t l = 0; l < kLanes; ++l) {
        re[l] = re0[l];
        im[l] = im0[l];
    }
    for (size_t k = 0; k < count; k += kLanes) {
        for (size_t l = 0; l < kLanes; ++l) {
            c[k + l] = static_cast<float>(re[l]);
            s[k + l] = static_cast<float>(im[l]);
            const double r = re[l] * turn_re - im[l] * turn_im;
            im[l] = re[l] * turn_im + im[l] * turn_re;
            re[l] = r;
        }
    }
}

}  // namespace

void HarmonicBasis::use(int h) {
    if (h >= 1 && h <= kMaxOrder) used_[static_cast<size_t>(h)] = true;
}

void HarmonicBasis::next_block(double frequency, size_t count) {
    const double step = kTwoPi * frequency / kSampleRate;
    // Every block starts again from the exact phase (two sincos), so rounding
    // in the rotation never accumulates past one block.
    const Phasor start{std::cos(theta_), std::sin(theta_)};
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
    theta_ = std::fmod(theta_ + step * static_cast<double>(count), kTwoPi);
}

}  // namespace openbcpm
