#include "sources/noise.hpp"

#include <cstring>

#include "sources/simd.hpp"

namespace openbcpm {

namespace {

uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Sum of four uniform bytes: mean 510, variance 4 (256^2 - 1) / 12.
constexpr float kMean = 510.0f;
constexpr float kScale = 0.0067658751f;  // 1 / sqrt(21845)

// Eight lanes as one value (GCC/clang vector extension): AVX2 steps them in one
// instruction each, the baseline in two SSE ones. Plain loops over eight lanes
// were vectorised only in part.
using U8 = uint32_t __attribute__((vector_size(32)));
using simd::F8;
using I8 = int32_t __attribute__((vector_size(32)));
static_assert(sizeof(U8) == NoiseGenerator::kLanes * sizeof(uint32_t));

OPENBCPM_SIMD_CLONES
void fill_lanes(uint32_t* state, float* out, size_t n) {
    U8 a, b, c, d;
    std::memcpy(&a, state, sizeof a);
    std::memcpy(&b, state + 8, sizeof b);
    std::memcpy(&c, state + 16, sizeof c);
    std::memcpy(&d, state + 24, sizeof d);
    for (size_t k = 0; k < n; k += NoiseGenerator::kLanes) {
        const U8 sum0 = a + d;
        const U8 r = ((sum0 << 7) | (sum0 >> 25)) + a;
        const U8 t = b << 9;
        c ^= a;
        d ^= b;
        b ^= c;
        a ^= d;
        c ^= t;
        d = (d << 11) | (d >> 21);
        const U8 pairs = (r & 0x00FF00FFu) + ((r >> 8) & 0x00FF00FFu);
        const U8 sum = (pairs & 0xFFFFu) + (pairs >> 16);
        // The sums fit in 10 bits: converting them as signed is exact and one instruction.
        I8 whole;
        std::memcpy(&whole, &sum, sizeof whole);
        const F8 g = (__builtin_convertvector(whole, F8) - kMean) * kScale;
        simd::store(out + k, g);
    }
    std::memcpy(state, &a, sizeof a);
    std::memcpy(state + 8, &b, sizeof b);
    std::memcpy(state + 16, &c, sizeof c);
    std::memcpy(state + 24, &d, sizeof d);
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
