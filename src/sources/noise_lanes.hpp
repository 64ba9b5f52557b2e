// The noise generator's step, for kernels that draw their noise as they go
// (in registers, with no block of noise in memory): eight xoshiro128++ lanes,
// each draw made into an Irwin-Hall variate of four bytes (sources/noise.hpp).
// Inline, so that each caller's vector clone steps the lanes in its own ISA.
#pragma once

#include <cstdint>
#include <cstring>

#include "sources/noise.hpp"
#include "sources/simd.hpp"

#if OPENBCPM_AVX2_VERSIONS
#include <immintrin.h>
#endif

namespace openbcpm::noise_lanes {

using U8 = uint32_t __attribute__((vector_size(32)));
using I8 = int32_t __attribute__((vector_size(32)));
static_assert(sizeof(U8) == NoiseGenerator::kLanes * sizeof(uint32_t));

// Sum of four uniform bytes: mean 510, variance 4 (256^2 - 1) / 12.
inline constexpr float kMean = 510.0f;
inline constexpr float kScale = 0.0067658751f;  // 1 / sqrt(21845)

struct State {
    U8 a, b, c, d;
};

inline void load(State& s, const uint32_t* words) {
    constexpr size_t L = NoiseGenerator::kLanes;
    std::memcpy(&s.a, words, sizeof s.a);
    std::memcpy(&s.b, words + L, sizeof s.b);
    std::memcpy(&s.c, words + 2 * L, sizeof s.c);
    std::memcpy(&s.d, words + 3 * L, sizeof s.d);
}

inline void save(uint32_t* words, const State& s) {
    constexpr size_t L = NoiseGenerator::kLanes;
    std::memcpy(words, &s.a, sizeof s.a);
    std::memcpy(words + L, &s.b, sizeof s.b);
    std::memcpy(words + 2 * L, &s.c, sizeof s.c);
    std::memcpy(words + 3 * L, &s.d, sizeof s.d);
}

// The sum of the four bytes of each word, with shifts and masks (any ISA).
struct ShiftedByteSums {
    static void sums(const U8& r, I8& out) {
        const U8 pairs = (r & 0x00FF00FFu) + ((r >> 8) & 0x00FF00FFu);
        const U8 sum = (pairs & 0xFFFFu) + (pairs >> 16);
        // The sums fit in 10 bits: as signed they are the same numbers.
        std::memcpy(&out, &sum, sizeof out);
    }
};

#if OPENBCPM_AVX2_VERSIONS
// The same sums with two multiply-adds (bytes times 1 added in pairs, then the
// pairs): 2 instructions instead of 7, none of them a shift. Only inside an
// OPENBCPM_AVX2_VERSION function.
struct MultipliedByteSums {
    __attribute__((target("avx2"))) static void sums(const U8& r, I8& out) {
        __m256i v;
        std::memcpy(&v, &r, sizeof v);
        v = _mm256_madd_epi16(_mm256_maddubs_epi16(v, _mm256_set1_epi8(1)), _mm256_set1_epi16(1));
        std::memcpy(&out, &v, sizeof out);
    }
};
#endif

// Eight variates, zero mean and unit variance, and the lanes one step on.
template <class ByteSums = ShiftedByteSums>
inline void next(State& s, simd::F8& g) {
    const U8 sum0 = s.a + s.d;
    const U8 r = ((sum0 << 7) | (sum0 >> 25)) + s.a;
    const U8 t = s.b << 9;
    s.c ^= s.a;
    s.d ^= s.b;
    s.b ^= s.c;
    s.a ^= s.d;
    s.c ^= t;
    s.d = (s.d << 11) | (s.d >> 21);
    // The sums fit in 10 bits: converting them as signed is exact and one instruction.
    I8 whole;
    ByteSums::sums(r, whole);
    g = (__builtin_convertvector(whole, simd::F8) - kMean) * kScale;
}

}  // namespace openbcpm::noise_lanes
