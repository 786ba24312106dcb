#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Activations quantised to Q8_K, as the x86 kernels read them: 256 int8 values per block at `values`, each block's
/// f32 scale at `scales`, and each block's 16 int16 sums of 16 values at `sums`.
public struct Q8KRow {
    public let values: UnsafeRawPointer
    public let scales: UnsafePointer<Float>
    public let sums: UnsafeRawPointer

    @inlinable
    public init(values: UnsafeRawPointer, scales: UnsafePointer<Float>, sums: UnsafeRawPointer) {
        self.values = values
        self.scales = scales
        self.sums = sums
    }
}

/// A Q6_K super-block unpacked once, giving ggml's eight int32 lanes (`ggml_vec_dot_q6_K_q8_K`, AVX2) against any
/// Q8_K activation block: each instruction set unpacks its own way, and the block loop with its float operations is
/// one (`KQuantKernels.q6K`), so every set gives ggml's bits.
public protocol Q6KLanes {
    init(_ x: UnsafeRawPointer)
    /// Σ scale · value · y in eight lanes, less 32 · Σ scale · Σy (the values' offset), for one activation block:
    /// `y` its 256 values, `sums` its 16 int16 sums of 16.
    func lanes(_ y: UnsafeRawPointer, _ sums: UnsafeRawPointer) -> __m256i
}

/// ggml's AVX2 unpacking: eight vectors of 32 values, each group's two scales broadcast over its halves.
public struct Q6KLanesAVX2: Q6KLanes {
    @usableFromInline let x: UnsafeRawPointer
    @usableFromInline let q: ((__m256i, __m256i, __m256i, __m256i), (__m256i, __m256i, __m256i, __m256i))
    @usableFromInline let scales: (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i)

    @inlinable @inline(__always)
    public init(_ x: UnsafeRawPointer) {
        self.x = x
        q = (KQuantKernels.q6KValues(x, 0), KQuantKernels.q6KValues(x, 1))
        scales = KQuantKernels.q6KScales(x)
    }

    @inlinable @inline(__always)
    public func lanes(_ y: UnsafeRawPointer, _ sums: UnsafeRawPointer) -> __m256i {
        KQuantKernels.q6KLanes(x, q, scales, y, sums)
    }
}

/// ggml's x86 K-quant dot products, with the integers and float operations that decide the result as ggml has them:
/// Q6_K as `ggml_vec_dot_q6_K_q8_K` (AVX2), Q4_K as the interleaved `gemv_q4_K_8x8_q8_K` llama.cpp uses for every
/// Q4_K matrix of a multiple of 8 rows.
public enum KQuantKernels {
    /// A Q6_K block's 256 six-bit values (unsigned, 0…63) as eight vectors of 32 bytes, in the order of the
    /// activations: values 0-31, 32-63, … of each half.
    @inlinable @inline(__always)
    static func q6KValues(_ x: UnsafeRawPointer, _ half: Int) -> (__m256i, __m256i, __m256i, __m256i) {
        let m15 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3)
        let bits1 = load256(x + half &* 64), bits2 = load256(x + (half &* 64 &+ 32)), high = load256(x + (128 &+ half &* 32))
        let h0 = _mm256_slli_epi16(_mm256_and_si256(high, m3), 4)
        let h1 = _mm256_slli_epi16(_mm256_and_si256(high, _mm256_set1_epi8(12)), 2)
        let h2 = _mm256_and_si256(high, _mm256_set1_epi8(48))
        let h3 = _mm256_srli_epi16(_mm256_and_si256(high, _mm256_set1_epi8(-64)), 2)
        return (_mm256_or_si256(_mm256_and_si256(bits1, m15), h0), _mm256_or_si256(_mm256_and_si256(bits2, m15), h1),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits1, 4), m15), h2),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits2, 4), m15), h3))
    }

    /// One Q6_K block's eight int32 lanes against one activation block: the unsigned values times the activations,
    /// by the scales, less 32 · Σ scale · Σy per lane (the values' offset, from the activations' sums).
    @inlinable @inline(__always)
    static func q6KLanes(_ x: UnsafeRawPointer, _ q: ((__m256i, __m256i, __m256i, __m256i), (__m256i, __m256i, __m256i, __m256i)),
                         _ scales: (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i),
                         _ y: UnsafeRawPointer, _ sums: UnsafeRawPointer) -> __m256i {
        let offset = _mm256_slli_epi32(_mm256_madd_epi16(load256(sums), _mm256_cvtepi8_epi16(load128(x + 192))), 5)
        return _mm256_sub_epi32(scaledSum((q.0.0, q.0.1, q.0.2, q.0.3, q.1.0, q.1.1, q.1.2, q.1.3), scales, y), offset)
    }

    /// Σ over eight groups of 32 values (32 bytes apart from `y`) of the group's int16 scale times its unsigned values
    /// · the activations, in eight int32 lanes, added as ggml adds them: in pairs, each pair onto the sum.
    @inlinable @inline(__always)
    static func scaledSum(_ q: (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i),
                          _ scales: (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i),
                          _ y: UnsafeRawPointer) -> __m256i {
        @inline(__always) func product(_ v: __m256i, _ scale: __m256i, _ at: Int) -> __m256i {
            _mm256_madd_epi16(scale, _mm256_maddubs_epi16(v, load256(y + at)))
        }
        var sum = _mm256_add_epi32(product(q.0, scales.0, 0), product(q.1, scales.1, 32))
        sum = _mm256_add_epi32(sum, _mm256_add_epi32(product(q.2, scales.2, 64), product(q.3, scales.3, 96)))
        sum = _mm256_add_epi32(sum, _mm256_add_epi32(product(q.4, scales.4, 128), product(q.5, scales.5, 160)))
        return _mm256_add_epi32(sum, _mm256_add_epi32(product(q.6, scales.6, 192), product(q.7, scales.7, 224)))
    }

    /// The int16 scales of the eight groups of 32 values for `vpmaddwd`: group g's first 16 values take scale 2g (the
    /// lower 128 bits), its next 16 scale 2g + 1. The 16 scales are widened once, eight to a 128-bit half of a vector
    /// and that half in both, and each group's two picked with `vpshufb`: eleven instructions where broadcasting each
    /// scale from a general register took about fifty.
    @inlinable @inline(__always)
    static func q6KScales(_ x: UnsafeRawPointer) -> (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i) {
        @inline(__always) func widened(_ at: Int) -> __m256i {
            _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64((x + at).assumingMemoryBound(to: __m128i.self))))
        }
        /// Word `2j` of each lower half and word `2j + 1` of each upper half, in every word.
        @inline(__always) func pick(_ scales: __m256i, _ j: Int16) -> __m256i {
            let first = (4 &* j &+ 1) << 8 | 4 &* j, second = (4 &* j &+ 3) << 8 | (4 &* j &+ 2)
            return _mm256_shuffle_epi8(scales, _mm256_set_m128i(_mm_set1_epi16(second), _mm_set1_epi16(first)))
        }
        let low = widened(192), high = widened(200)
        return (pick(low, 0), pick(low, 1), pick(low, 2), pick(low, 3), pick(high, 0), pick(high, 1), pick(high, 2), pick(high, 3))
    }

    /// Q6_K weights · one Q8_K row.
    @inlinable
    public static func q6K(_ w: UnsafeRawPointer, _ y: Q8KRow, blocks: Int) -> Float { q6K(Q6KLanesAVX2.self, w, y, blocks: blocks) }

    /// Q6_K weights · four Q8_K rows, each block unpacked once; each result exactly as alone.
    @inlinable
    public static func q6K(_ w: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow, blocks: Int) -> SIMD4<Float> {
        q6K(Q6KLanesAVX2.self, w, y0, y1, y2, y3, blocks: blocks)
    }

    /// Q6_K weights · one Q8_K row (generation: the bytes ahead asked for, `StreamPrefetch`), each block unpacked by
    /// `Block`: ggml's float operations on its lanes.
    @inlinable @inline(__always)
    public static func q6K<Block: Q6KLanes>(_: Block.Type, _ w: UnsafeRawPointer, _ y: Q8KRow, blocks: Int) -> Float {
        var acc = _mm256_setzero_ps()
        for i in 0..<blocks {
            let x = w + i &* 210
            StreamPrefetch.ahead(x, bytes: 210)
            let lanes = Block(x).lanes(y.values + i &* 256, y.sums + i &* 32)
            acc = _mm256_fmadd_ps(_mm256_set1_ps(y.scales[i] * half(x, 208)), _mm256_cvtepi32_ps(lanes), acc)
        }
        return horizontalSum(acc)
    }

    /// Q6_K weights · four Q8_K rows, each block unpacked once by `Block`; each result exactly as alone.
    @inlinable @inline(__always)
    public static func q6K<Block: Q6KLanes>(_: Block.Type, _ w: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow,
                                            blocks: Int) -> SIMD4<Float> {
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps()
        for i in 0..<blocks {
            let x = w + i &* 210
            let block = Block(x), d = half(x, 208)
            @inline(__always) func step(_ y: Q8KRow, _ acc: __m256) -> __m256 {
                _mm256_fmadd_ps(_mm256_set1_ps(y.scales[i] * d), _mm256_cvtepi32_ps(block.lanes(y.values + i &* 256, y.sums + i &* 32)), acc)
            }
            acc0 = step(y0, acc0)
            acc1 = step(y1, acc1)
            acc2 = step(y2, acc2)
            acc3 = step(y3, acc3)
        }
        return SIMD4(horizontalSum(acc0), horizontalSum(acc1), horizontalSum(acc2), horizontalSum(acc3))
    }

    /// The 6-bit scale and minimum of sub-block `j` of a Q4_K (or Q5_K) block whose 12 scale bytes start at `s`.
    @inlinable @inline(__always)
    static func q4KScaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (Int16, Int16) {
        let low = Int16(s.load(fromByteOffset: j, as: UInt8.self))
        if j < 4 { return (low & 63, Int16(s.load(fromByteOffset: j &+ 4, as: UInt8.self)) & 63) }
        let high = Int16(s.load(fromByteOffset: j &+ 4, as: UInt8.self)), before = Int16(s.load(fromByteOffset: j &- 4, as: UInt8.self))
        return ((high & 0x0F) | ((before >> 6) << 4), (high >> 4) | ((low >> 6) << 4))
    }

    /// A Q4_K block's nibbles and the int16 scales and minimums of its eight sub-blocks.
    @usableFromInline
    struct Q4KBlock {
        @usableFromInline var low: (__m256i, __m256i, __m256i, __m256i)
        @usableFromInline var high: (__m256i, __m256i, __m256i, __m256i)
        @usableFromInline var scales: (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i)
        /// Each sub-block's minimum twice over, as int16: one `vpmaddwd` with the 16 sums of 16 activations gives
        /// the eight sub-blocks' Σ minimum · Σy.
        @usableFromInline var minimums: __m256i

        @inlinable @inline(__always)
        init(_ x: UnsafeRawPointer) {
            let m4 = _mm256_set1_epi8(0x0F)
            @inline(__always) func bits(_ j: Int) -> __m256i { load256(x + (16 &+ j &* 32)) }
            let b0 = bits(0), b1 = bits(1), b2 = bits(2), b3 = bits(3)
            low = (_mm256_and_si256(b0, m4), _mm256_and_si256(b1, m4), _mm256_and_si256(b2, m4), _mm256_and_si256(b3, m4))
            high = (_mm256_and_si256(_mm256_srli_epi16(b0, 4), m4), _mm256_and_si256(_mm256_srli_epi16(b1, 4), m4),
                    _mm256_and_si256(_mm256_srli_epi16(b2, 4), m4), _mm256_and_si256(_mm256_srli_epi16(b3, 4), m4))
            let s0 = KQuantKernels.q4KScaleMin(x + 4, 0), s1 = KQuantKernels.q4KScaleMin(x + 4, 1)
            let s2 = KQuantKernels.q4KScaleMin(x + 4, 2), s3 = KQuantKernels.q4KScaleMin(x + 4, 3)
            let s4 = KQuantKernels.q4KScaleMin(x + 4, 4), s5 = KQuantKernels.q4KScaleMin(x + 4, 5)
            let s6 = KQuantKernels.q4KScaleMin(x + 4, 6), s7 = KQuantKernels.q4KScaleMin(x + 4, 7)
            scales = (_mm256_set1_epi16(s0.0), _mm256_set1_epi16(s1.0), _mm256_set1_epi16(s2.0), _mm256_set1_epi16(s3.0),
                      _mm256_set1_epi16(s4.0), _mm256_set1_epi16(s5.0), _mm256_set1_epi16(s6.0), _mm256_set1_epi16(s7.0))
            @inline(__always) func twice(_ m: Int16) -> Int32 { Int32(m) | Int32(m) << 16 }
            minimums = _mm256_setr_epi32(twice(s0.1), twice(s1.1), twice(s2.1), twice(s3.1), twice(s4.1), twice(s5.1), twice(s6.1), twice(s7.1))
        }

        /// Σ scale · Σ q·y over the block, and Σ minimum · Σy over the sub-blocks: both exact integers.
        @inlinable @inline(__always)
        func integers(_ y: UnsafeRawPointer, _ sums: UnsafeRawPointer) -> (Int32, Int32) {
            let sum = KQuantKernels.scaledSum((low.0, high.0, low.1, high.1, low.2, high.2, low.3, high.3), scales, y)
            // the sixteen sums of 16 values by their sub-blocks' minimums, added in pairs into the eight sub-blocks
            return (horizontalSum(sum), horizontalSum(_mm256_madd_epi16(load256(sums), minimums)))
        }
    }

    /// Q4_K weights · one Q8_K row.
    @inlinable
    public static func q4K(_ w: UnsafeRawPointer, _ y: Q8KRow, blocks: Int) -> Float {
        var total: Float = 0, minimums: Float = 0
        for i in 0..<blocks {
            let x = w + i &* 144
            let (dot, minimum) = Q4KBlock(x).integers(y.values + i &* 256, y.sums + i &* 32)
            total = total.addingProduct(Float(dot), half(x, 0) * y.scales[i])
            minimums = minimums.addingProduct(Float(minimum), half(x, 2) * y.scales[i])
        }
        return total - minimums
    }

    /// Q4_K weights · four Q8_K rows, each block unpacked once; each result exactly as alone.
    @inlinable
    public static func q4K(_ w: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow, blocks: Int) -> SIMD4<Float> {
        var totals = SIMD4<Float>(), minimums = SIMD4<Float>()
        for i in 0..<blocks {
            let x = w + i &* 144
            let block = Q4KBlock(x), d = half(x, 0), dmin = half(x, 2)
            @inline(__always) func integers(_ y: Q8KRow) -> (Float, Float) {
                let (dot, minimum) = block.integers(y.values + i &* 256, y.sums + i &* 32)
                return (Float(dot), Float(minimum))
            }
            let r0 = integers(y0), r1 = integers(y1), r2 = integers(y2), r3 = integers(y3)
            let dots = SIMD4(r0.0, r1.0, r2.0, r3.0), mins = SIMD4(r0.1, r1.1, r2.1, r3.1)
            let dy = SIMD4(y0.scales[i], y1.scales[i], y2.scales[i], y3.scales[i])
            totals.addProduct(dots, d * dy)
            minimums.addProduct(mins, dmin * dy)
        }
        return totals - minimums
    }
}
#endif
