#include "sources/noise.hpp"

#include "sources/noise_lanes.hpp"
#include "sources/simd.hpp"

namespace openbcpm {

namespace {

uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

OPENBCPM_SIMD_CLONES
void fill_lanes(uint32_t* words, float* out, size_t n) {
    noise_lanes::State s;
    noise_lanes::load(s, words);
    for (size_t k = 0; k < n; k += NoiseGenerator::kLanes) {
        simd::F8 g;
        noise_lanes::next(s, g);
        simd::store(out + k, g);
    }
    noise_lanes::save(words, s);
}

}  // namespace

NoiseGenerator::NoiseGenerator(uint64_t seed) {
    uint64_t x = seed ^ 0x6E6F697365ull;  // a stream apart from the simulator's other draws
    for (size_t l = 0; l < kLanes; ++l) {
        uint32_t any = 0;
        for (size_t w = 0; w < 4; w += 2) {
            const uint64_t r = splitmix(x);
            state_[w * kLanes + l] = static_cast<uint32_t>(r);
            state_[(w + 1) * kLanes + l] = static_cast<uint32_t>(r >> 32);
            any |= static_cast<uint32_t>(r) | static_cast<uint32_t>(r >> 32);
        }
        if (any == 0) state_[l] = 1;  // xoshiro's one forbidden state
    }
}

void NoiseGenerator::fill(float* out, size_t n) {
    fill_lanes(state_.data(), out, n);
}

}  // namespace openbcpm
