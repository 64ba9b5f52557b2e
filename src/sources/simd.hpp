// Vector helpers for the sample kernels (simulator and metering).
#pragma once

#include <cstddef>
#include <cstring>

// Function multiversioning: a clone for a newer x86-64 picked at run time where
// the CPU has it, the baseline elsewhere. Not under the sanitizers (ifunc
// resolvers run before ASan is up) nor clang (whose target_clones differs).
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
// AVX2 without FMA: both clones round alike, so the simulator's samples for a
// seed do not depend on the CPU.
#define OPENBCPM_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
// AVX2 and FMA, for the meter's sums (fused multiply-adds round better, never worse).
#define OPENBCPM_FMA_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
// Two hand-written versions of one function (C++ function multiversioning):
// OPENBCPM_AVX2_VERSION on the one that uses AVX2 instructions the compiler
// does not find by itself, OPENBCPM_BASELINE_VERSION on the portable one; the
// loader picks. Where there are no clones only the baseline one is compiled.
#define OPENBCPM_AVX2_VERSIONS 1
#define OPENBCPM_AVX2_VERSION __attribute__((target("avx2"), flatten))
#define OPENBCPM_BASELINE_VERSION __attribute__((target("default")))
#else
#define OPENBCPM_SIMD_CLONES
#define OPENBCPM_FMA_CLONES
#define OPENBCPM_AVX2_VERSIONS 0
#define OPENBCPM_BASELINE_VERSION
#endif

namespace openbcpm::simd {

// Eight floats as one value (GCC/clang vector extension): one AVX register, or
// two SSE ones in the baseline clone.
using F8 = float __attribute__((vector_size(32)));
using F4 = float __attribute__((vector_size(16)));
using D4 = double __attribute__((vector_size(32)));
inline constexpr size_t kLanes = 8;

// Through references: a vector passed or returned by value would change the
// baseline clone's ABI (-Wpsabi).
inline void load(F8& v, const float* p) {
    std::memcpy(&v, p, sizeof v);
}
inline void store(float* p, const F8& v) {
    std::memcpy(p, &v, sizeof v);
}
inline void store(float* p, const F4& v) {
    std::memcpy(p, &v, sizeof v);
}

}  // namespace openbcpm::simd
