// cos(h theta) and sin(h theta) of the fundamental's phase theta at every sample
// of a block, for each harmonic order in use: every waveform of the simulator
// is a linear combination of these, so they are made once per block and shared.
#pragma once

#include <array>
#include <cstddef>

#include "sources/sample_source.hpp"

namespace openbcpm {

class HarmonicBasis {
  public:
    static constexpr int kMaxOrder = 25;

    // Includes order h (1..kMaxOrder) in the blocks from now on.
    void use(int h);
    bool used(int h) const { return used_[static_cast<size_t>(h)]; }

    // Makes the next block of `count` (<= kBlockSamples) samples at `frequency`
    // Hz, starting from the phase the previous block ended at. False when that
    // block is the previous one to the bit (same start phase, frequency, count
    // and orders: at 50 and 60 Hz a block is a whole number of cycles and every
    // block starts at phase 0), so whatever was made from it can be kept.
    bool next_block(double frequency, size_t count);

    const float* cos(int h) const { return cos_[static_cast<size_t>(h)].data(); }
    const float* sin(int h) const { return sin_[static_cast<size_t>(h)].data(); }
    // Phase of the fundamental at the first sample of the next block, [0, 2 pi).
    double phase() const { return theta_; }

  private:
    double theta_ = 0.0;
    std::array<bool, kMaxOrder + 1> used_{};
    // What the arrays hold: the block made from these (count 0: nothing yet).
    struct Made {
        double theta = 0.0, frequency = 0.0;
        size_t count = 0;
        std::array<bool, kMaxOrder + 1> used{};
        bool operator==(const Made&) const = default;
    } made_;
    alignas(64) std::array<std::array<float, kBlockSamples>, kMaxOrder + 1> cos_{};
    alignas(64) std::array<std::array<float, kBlockSamples>, kMaxOrder + 1> sin_{};
};

}  // namespace openbcpm
