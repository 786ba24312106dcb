#if arch(x86_64)
import _Builtin_intrinsics.intel
import InferenceKernelsAVX2
import CKernelIntrinsics

/// Q6_K on 512-bit vectors, unpacked for `KQuantKernels.q6K`'s block loop (ggml's AVX2 `ggml_vec_dot_q6_K_q8_K`),
/// with the same integers, so the result is the same to the bit. A block's 256 values go as four vectors of 64 in
/// the activations' order; each vector's int32 lanes are summed over the block, and the sum's upper 256 bits added
/// onto its lower give exactly the eight lanes ggml's eight 32-value groups give (integer sums in another order).
/// The 16 scales are widened once and each vector's four picked by `vpermw`. On one core this streams Q6_K rows at
/// 1.75-1.83x the rate of ggml's AVX2 form (`matmul-benchmark -b 1 --types q6_K`), which had read them below a
/// core's share of the memory bandwidth, a quarter of a Q4_K_M file.
enum Q6K512 {
    /// One half's 128 values (unsigned, 0…63) as two vectors of 64 bytes: values 0-63, then 64-127.
    @inline(__always)
    static func values(_ x: UnsafeRawPointer, _ half: Int) -> (__m512i, __m512i) {
        let m15 = _mm512_set1_epi8(15)
        let low = _mm512_loadu_si512(x + half &* 64)
        let high = _mm512_broadcast_i64x4(load256(x + (128 &+ half &* 32)))
        // bits 0-1 of each high byte go to the first 32 values (<< 4), bits 2-3 to the next (<< 2), bits 4-5 to the
        // third (as they are), bits 6-7 to the fourth (>> 2); the shifts are per 16-bit lane, as ggml's are, and the
        // masks keep every bit inside its byte
        let first = _mm512_or_si512(_mm512_and_si512(low, m15), _mm512_sllv_epi16(_mm512_and_si512(high, masks.0), shifts.0))
        let second = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(low, 4), m15), _mm512_srlv_epi16(_mm512_and_si512(high, masks.1), shifts.1))
        return (first, second)
    }

    /// The high-bit masks of `values`' two vectors (each half of a vector its own) and their 16-bit shifts.
    @inline(__always)
    static var masks: (__m512i, __m512i) {
        (deploy_join256(_mm256_set1_epi8(3), _mm256_set1_epi8(12)), deploy_join256(_mm256_set1_epi8(48), _mm256_set1_epi8(-64)))
    }
    @inline(__always)
    static var shifts: (__m512i, __m512i) {
        (deploy_join256(_mm256_set1_epi16(4), _mm256_set1_epi16(2)), deploy_join256(_mm256_set1_epi16(0), _mm256_set1_epi16(2)))
    }

    /// The word indices that give vector k (values 64k…64k+63) its four scales: its 32 int16 lanes of value pairs, 8 to
    /// a scale.
    @inline(__always)
    static func scaleIndex(_ k: Int16) -> __m512i {
        deploy_join256(_mm256_set_epi16(4 &* k &+ 1, 4 &* k &+ 1, 4 &* k &+ 1, 4 &* k &+ 1, 4 &* k &+ 1, 4 &* k &+ 1, 4 &* k &+ 1, 4 &* k &+ 1,
                                       4 &* k, 4 &* k, 4 &* k, 4 &* k, 4 &* k, 4 &* k, 4 &* k, 4 &* k),
                           _mm256_set_epi16(4 &* k &+ 3, 4 &* k &+ 3, 4 &* k &+ 3, 4 &* k &+ 3, 4 &* k &+ 3, 4 &* k &+ 3, 4 &* k &+ 3, 4 &* k &+ 3,
                                       4 &* k &+ 2, 4 &* k &+ 2, 4 &* k &+ 2, 4 &* k &+ 2, 4 &* k &+ 2, 4 &* k &+ 2, 4 &* k &+ 2, 4 &* k &+ 2))
    }

    /// A block's four value vectors and their four scale vectors, with the 16 scales as int16 for the offset.
    struct Block: Q6KLanes {
        var q: (__m512i, __m512i, __m512i, __m512i)
        var scales: (__m512i, __m512i, __m512i, __m512i)
        var wideScales: __m256i

        @inline(__always)
        init(_ x: UnsafeRawPointer) {
            let h0 = Q6K512.values(x, 0), h1 = Q6K512.values(x, 1)
            q = (h0.0, h0.1, h1.0, h1.1)
            wideScales = _mm256_cvtepi8_epi16(load128(x + 192))
            let all = _mm512_castsi256_si512(wideScales)
            scales = (_mm512_permutexvar_epi16(scaleIndex(0), all), _mm512_permutexvar_epi16(scaleIndex(1), all),
                      _mm512_permutexvar_epi16(scaleIndex(2), all), _mm512_permutexvar_epi16(scaleIndex(3), all))
        }

        /// ggml's eight int32 lanes for this block against one activation block: Σ scale · value · y, less
        /// 32 · Σ scale · Σy (the values' offset, from the activations' 16 sums).
        @inline(__always)
        func lanes(_ y: UnsafeRawPointer, _ sums: UnsafeRawPointer) -> __m256i {
            @inline(__always) func product(_ v: __m512i, _ scale: __m512i, _ at: Int) -> __m512i {
                _mm512_madd_epi16(scale, _mm512_maddubs_epi16(v, _mm512_loadu_si512(y + at)))
            }
            let sum = _mm512_add_epi32(_mm512_add_epi32(product(q.0, scales.0, 0), product(q.1, scales.1, 64)),
                                       _mm512_add_epi32(product(q.2, scales.2, 128), product(q.3, scales.3, 192)))
            let eight = _mm256_add_epi32(_mm512_castsi512_si256(sum), deploy_high256(sum))
            let offset = _mm256_slli_epi32(_mm256_madd_epi16(load256(sums), wideScales), 5)
            return _mm256_sub_epi32(eight, offset)
        }
    }
}
#endif
