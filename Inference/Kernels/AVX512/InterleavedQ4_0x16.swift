#if arch(x86_64)
import _Builtin_intrinsics.intel
import InferenceKernelsAVX2
import CKernelIntrinsics

/// Two groups of `InterleavedQ4_0` (sixteen rows) against four activation rows on 512-bit vectors, for prompts: the
/// first group's rows in the lower 256 bits, the second's in the upper. Each lane's integer is the exact Σ (q − 8)·y of
/// its row and block, and its float steps are `InterleavedQ4_0.Block.step`'s in the same order, so the results are
/// the same to the bit in half the instructions. Zen 5 and Sapphire Rapids run a 512-bit `vpdpbusd` at close to
/// twice the rate of a 256-bit one (Zen 4 splits it in two).
public enum InterleavedQ4_0x16 {
    /// One block of both groups (`a`, `b`, 144 bytes each) unpacked: the stored nibbles, values 4k…4k+3 of every
    /// row in `values.k`, and the sixteen rows' scales.
    struct Block {
        var values: (__m512i, __m512i, __m512i, __m512i, __m512i, __m512i, __m512i, __m512i)
        var scales: __m512

        @inline(__always)
        init(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) {
            let m4 = _mm512_set1_epi8(0x0F)
            @inline(__always) func packed(_ at: Int) -> __m512i { deploy_join256(load256(a + at), load256(b + at)) }
            @inline(__always) func high(_ p: __m512i) -> __m512i { _mm512_and_si512(_mm512_srli_epi16(p, 4), m4) }
            let p0 = packed(16), p1 = packed(48), p2 = packed(80), p3 = packed(112)
            values = (_mm512_and_si512(p0, m4), _mm512_and_si512(p1, m4), _mm512_and_si512(p2, m4), _mm512_and_si512(p3, m4),
                      high(p0), high(p1), high(p2), high(p3))
            scales = _mm512_cvtph_ps(_mm256_set_m128i(load128(b), load128(a)))
        }

        /// The sixteen row sums `acc` after this block against activation row `y`'s block `index`: Σ (q − 8)·y in two
        /// chains of four `vpdpbusd`, converted and fused with the weight scale times the activation scale.
        @inline(__always)
        func step(_ acc: __m512, _ y: Q8Row, _ index: Int) -> __m512 {
            let values = y.values + index &* 32
            @inline(__always) func group(_ k: Int) -> __m512i { _mm512_set1_epi32(values.loadUnaligned(fromByteOffset: 4 &* k, as: Int32.self)) }
            var first = deploy_dpbusd512(_mm512_set1_epi32(-8 &* y.blockSums[index]), self.values.0, group(0))
            var second = deploy_dpbusd512(_mm512_setzero_si512(), self.values.4, group(4))
            first = deploy_dpbusd512(first, self.values.1, group(1))
            second = deploy_dpbusd512(second, self.values.5, group(5))
            first = deploy_dpbusd512(first, self.values.2, group(2))
            second = deploy_dpbusd512(second, self.values.6, group(6))
            first = deploy_dpbusd512(first, self.values.3, group(3))
            second = deploy_dpbusd512(second, self.values.7, group(7))
            let integers = _mm512_add_epi32(first, second)
            return _mm512_fmadd_ps(_mm512_cvtepi32_ps(integers), _mm512_mul_ps(scales, _mm512_set1_ps(y.scales[index])), acc)
        }
    }

    /// Groups `a` and `b` (`blocks` · 144 bytes each) · four activation rows, each block unpacked once: per row, the
    /// first group's eight results and the second's.
    @inline(__always)
    static func dot(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row,
                    blocks: Int) -> AVX512Kernels.GroupPairs {
        let zero = _mm512_setzero_ps()
        var acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero
        for index in 0..<blocks {
            let block = Block(a + index &* 144, b + index &* 144)
            acc0 = block.step(acc0, y0, index)
            acc1 = block.step(acc1, y1, index)
            acc2 = block.step(acc2, y2, index)
            acc3 = block.step(acc3, y3, index)
        }
        return (InterleavedQ4K16.pair(acc0), InterleavedQ4K16.pair(acc1), InterleavedQ4K16.pair(acc2), InterleavedQ4K16.pair(acc3))
    }
}
#endif
