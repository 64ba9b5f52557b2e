// Function multiversioning for the sample kernels: an AVX2 clone picked at run
// time where the CPU has it, the baseline elsewhere. Not under the sanitizers
// (ifunc resolvers run before ASan is up) nor clang (whose target_clones
// differs); AVX2 without FMA, so both clones round alike.
#pragma once

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
#define OPENBCPM_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OPENBCPM_SIMD_CLONES
#endif
