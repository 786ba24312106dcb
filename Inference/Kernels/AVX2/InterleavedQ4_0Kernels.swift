#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Q4_0 weights repacked eight rows at a time, which is how llama.cpp multiplies every Q4_0 matrix of a multiple of 8
/// rows on x86 (`block_q4_0x8`, `ggml_gemv_q4_0_8x8_q8_0` and `ggml_gemm_q4_0_8x8_q8_0`), and with its result: each
/// row's product is one exact integer per block, Σ (q − 8)·y, converted and fused onto the row's sum with the weight
/// scale times the activation scale, block after block.
///
/// The layout (ours): per block of the group, 144 bytes: the eight rows' f16 scales, then four 32-byte vectors, vector
/// j holding bytes 4j…4j+3 of each row's 16 nibble bytes, row r in lane r. The low nibbles of vector j are the rows'
/// values 4j…4j+3 and its high nibbles values 16+4j…19+4j, so each unpacked vector meets one four-byte group of the
/// activations broadcast to every lane, and each lane sums one row.
public enum InterleavedQ4_0<Dot: Int8Dot> {
    /// Bytes of one block of a group of eight rows.
    public static var groupBlockBytes: Int { 144 }

    /// Repacks eight Q4_0 rows of `blocks` blocks (row r at `rows(r)`) into `out`, `blocks` · 144 bytes.
    @inlinable
    public static func repack(_ rows: (Int) -> UnsafeRawPointer, blocks: Int, into out: UnsafeMutableRawPointer) {
        for r in 0..<8 {
            let row = rows(r)
            for b in 0..<blocks {
                let block = row + b &* 18, group = out + b &* 144
                group.storeBytes(of: block.loadUnaligned(as: UInt16.self), toByteOffset: r &* 2, as: UInt16.self)
                for j in 0..<4 {
                    group.storeBytes(of: block.loadUnaligned(fromByteOffset: 2 &+ 4 &* j, as: UInt32.self),
                                     toByteOffset: 16 &+ j &* 32 &+ r &* 4, as: UInt32.self)
                }
            }
        }
    }

    /// One block of the group unpacked: the stored nibbles (0…15), values 4k…4k+3 of every row in `values.k`.
    @usableFromInline
    struct Block {
        @usableFromInline var values: (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i)
        @usableFromInline var scales: __m256

        @inlinable @inline(__always)
        init(_ group: UnsafeRawPointer) {
            let m4 = _mm256_set1_epi8(0x0F)
            let p0 = load256(group + 16), p1 = load256(group + 48), p2 = load256(group + 80), p3 = load256(group + 112)
            values = (_mm256_and_si256(p0, m4), _mm256_and_si256(p1, m4), _mm256_and_si256(p2, m4), _mm256_and_si256(p3, m4),
                      _mm256_and_si256(_mm256_srli_epi16(p0, 4), m4), _mm256_and_si256(_mm256_srli_epi16(p1, 4), m4),
                      _mm256_and_si256(_mm256_srli_epi16(p2, 4), m4), _mm256_and_si256(_mm256_srli_epi16(p3, 4), m4))
            scales = _mm256_cvtph_ps(load128(group))
        }

        /// Each row's Σ (q − 8)·y over the block (lane r), exact, for the activation block at `y` whose Σy is `sum`.
        @inlinable @inline(__always)
        func integers(_ y: UnsafeRawPointer, _ sum: Int32) -> __m256i {
            @inline(__always) func group(_ k: Int) -> __m256i { _mm256_set1_epi32(y.loadUnaligned(fromByteOffset: 4 &* k, as: Int32.self)) }
            let centre = _mm256_set1_epi32(-8 &* sum)
            if Dot.accumulates {
                // two chains of four, so that each waits on the other's latency no longer
                var first = Dot.accumulate(centre, values.0, group(0)), second = Dot.accumulate(_mm256_setzero_si256(), values.4, group(4))
                first = Dot.accumulate(first, values.1, group(1))
                second = Dot.accumulate(second, values.5, group(5))
                first = Dot.accumulate(first, values.2, group(2))
                second = Dot.accumulate(second, values.6, group(6))
                first = Dot.accumulate(first, values.3, group(3))
                second = Dot.accumulate(second, values.7, group(7))
                return _mm256_add_epi32(first, second)
            }
            // `vpmaddubsw`'s pairs of nibble · int8 stay within ±2 · 15 · 127, eight of them within int16
            @inline(__always) func pairs(_ q: __m256i, _ k: Int) -> __m256i { _mm256_maddubs_epi16(q, group(k)) }
            let low = _mm256_add_epi16(_mm256_add_epi16(pairs(values.0, 0), pairs(values.1, 1)), _mm256_add_epi16(pairs(values.2, 2), pairs(values.3, 3)))
            let high = _mm256_add_epi16(_mm256_add_epi16(pairs(values.4, 4), pairs(values.5, 5)), _mm256_add_epi16(pairs(values.6, 6), pairs(values.7, 7)))
            return _mm256_add_epi32(centre, _mm256_madd_epi16(_mm256_add_epi16(low, high), _mm256_set1_epi16(1)))
        }

        /// The row sums `acc` after this block against activation row `y`'s block `b`.
        @inlinable @inline(__always)
        func step(_ acc: __m256, _ y: Q8Row, _ b: Int) -> __m256 {
            let integers = integers(y.values + b &* 32, y.blockSums[b])
            return _mm256_fmadd_ps(_mm256_cvtepi32_ps(integers), _mm256_mul_ps(scales, _mm256_set1_ps(y.scales[b])), acc)
        }
    }

    /// The group's eight rows (`group`, `blocks` · 144 bytes) · one activation row (generation: the bytes ahead asked
    /// for, `StreamPrefetch`).
    @inlinable
    public static func dot(_ group: UnsafeRawPointer, _ y: Q8Row, blocks: Int) -> SIMD8<Float> {
        var acc = _mm256_setzero_ps()
        for b in 0..<blocks {
            StreamPrefetch.ahead(group + b &* 144, bytes: 144)
            acc = Block(group + b &* 144).step(acc, y, b)
        }
        return unsafeBitCast(acc, to: SIMD8<Float>.self)
    }

    /// The group's eight rows · four activation rows, each block unpacked once; each result as `dot` gives it.
    @inlinable
    public static func dot(_ group: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row,
                           blocks: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps()
        for b in 0..<blocks {
            let block = Block(group + b &* 144)
            acc0 = block.step(acc0, y0, b)
            acc1 = block.step(acc1, y1, b)
            acc2 = block.step(acc2, y2, b)
            acc3 = block.step(acc3, y3, b)
        }
        return (unsafeBitCast(acc0, to: SIMD8<Float>.self), unsafeBitCast(acc1, to: SIMD8<Float>.self),
                unsafeBitCast(acc2, to: SIMD8<Float>.self), unsafeBitCast(acc3, to: SIMD8<Float>.self))
    }
}
#endif
