// Measurement noise for the simulator, a block at a time: eight interleaved
// xoshiro128++ streams (so a vector unit steps them together), each 32-bit draw
// made into one variate by adding its four bytes (an Irwin-Hall sum of four
// uniforms: zero mean, unit variance, bounded at +-3.45, excess kurtosis -0.3).
// The meter only sees the noise through its RMS, which is exact.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace openbcpm {

class NoiseGenerator {
  public:
    static constexpr size_t kLanes = 8;
    // The largest variate |g| the generator can return.
    static constexpr float kBound = 3.4506f;

    explicit NoiseGenerator(uint64_t seed);

    // Fills out[0, n) with variates; n a multiple of kLanes.
    void fill(float* out, size_t n);
    // The lanes' state words, for kernels that draw as they go (sources/noise_lanes.hpp).
    uint32_t* lanes() { return state_.data(); }

  private:
    // state_[w * kLanes + lane]: word w of each lane's xoshiro128++ state.
    alignas(32) std::array<uint32_t, 4 * kLanes> state_{};
};

}  // namespace openbcpm
