// x86 intrinsics that the C headers define as macros over compiler builtins, which Swift cannot import, wrapped as
// inline functions. Each carries the target features it needs, so it inlines only into code built for a CPU with
// them (the kernel modules built for that CPU), and no other caller can hold its instructions.
#ifndef DEPLOY_KERNEL_INTRINSICS_H
#define DEPLOY_KERNEL_INTRINSICS_H

#if defined(__x86_64__)
#include <immintrin.h>

/// AVX512-VNNI's `vpdpbusd` on 256-bit vectors: each int32 lane of `sum` plus the four products of unsigned bytes of
/// `a` with the signed bytes of `b` in that lane (no saturation).
static inline __attribute__((always_inline, target("avx512vnni,avx512vl"))) __m256i
deploy_dpbusd256(__m256i sum, __m256i a, __m256i b) {
    return _mm256_dpbusd_epi32(sum, a, b);
}

/// `vpdpbusd` on 512-bit vectors: `deploy_dpbusd256` on sixteen int32 lanes.
static inline __attribute__((always_inline, target("avx512vnni,avx512f"))) __m512i
deploy_dpbusd512(__m512i sum, __m512i a, __m512i b) {
    return _mm512_dpbusd_epi32(sum, a, b);
}

/// The upper 256 bits of a 512-bit vector (`vextracti64x4 $1`).
static inline __attribute__((always_inline, target("avx512f"))) __m256i
deploy_high256(__m512i x) {
    return _mm512_extracti64x4_epi64(x, 1);
}

/// A 512-bit vector of `low` then `high` (`vinserti64x4 $1`).
static inline __attribute__((always_inline, target("avx512f"))) __m512i
deploy_join256(__m256i low, __m256i high) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
}

/// A hint to bring the cache line holding `p` into every level of the cache (`prefetcht0`); never faults.
static inline __attribute__((always_inline)) void
deploy_prefetch(const void *p) {
    _mm_prefetch((const char *)p, _MM_HINT_T0);
}
#endif

#endif
