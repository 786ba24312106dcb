#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Q4_K weights repacked eight rows at a time, as llama.cpp multiplies every Q4_K matrix of a multiple of 8 rows on
/// x86 (`block_q4_Kx8`, `gemv_q4_K_8x8_q8_K`; its gemm for batches was not compared here), with the gemv's result:
/// per super-block and row one exact
/// integer Σ scale · Σ q·y and one Σ minimum · Σy, each converted and fused onto the row's sums with the super-block
/// scale (or minimum scale) times the activation scale; the minimums' sum is taken off at the end.
///
/// The layout (ours), 1184 bytes per super-block of the group: the eight rows' f16 scales (16 bytes) and f16 minimum
/// scales (16), their 6-bit sub-block scales (64: sub-block k's for rows 0…7 at 8k) and minimums (64, alike), then
/// 32 vectors of 32 bytes, vector 8j + g holding bytes 4g…4g+3 of each row's nibble bytes 32j…32j+31, row r in
/// lane r: its low nibbles are sub-block 2j's values 4g…4g+3 of every row, its high nibbles sub-block 2j+1's.
public enum InterleavedQ4K<Dot: Int8Dot> {
    /// Bytes of one super-block of a group of eight rows.
    public static var groupBlockBytes: Int { 1184 }

    /// Repacks eight Q4_K rows of `blocks` super-blocks (row r at `rows(r)`) into `out`, `blocks` · 1184 bytes.
    @inlinable
    public static func repack(_ rows: (Int) -> UnsafeRawPointer, blocks: Int, into out: UnsafeMutableRawPointer) {
        for r in 0..<8 {
            let row = rows(r)
            for b in 0..<blocks {
                let block = row + b &* 144, group = out + b &* 1184
                group.storeBytes(of: block.loadUnaligned(as: UInt16.self), toByteOffset: r &* 2, as: UInt16.self)
                group.storeBytes(of: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self), toByteOffset: 16 &+ r &* 2, as: UInt16.self)
                for k in 0..<8 {
                    let (scale, minimum) = KQuantKernels.q4KScaleMin(block + 4, k)
                    group.storeBytes(of: UInt8(scale), toByteOffset: 32 &+ 8 &* k &+ r, as: UInt8.self)
                    group.storeBytes(of: UInt8(minimum), toByteOffset: 96 &+ 8 &* k &+ r, as: UInt8.self)
                }
                for v in 0..<32 {
                    group.storeBytes(of: block.loadUnaligned(fromByteOffset: 16 &+ 4 &* v, as: UInt32.self),
                                     toByteOffset: 160 &+ v &* 32 &+ r &* 4, as: UInt32.self)
                }
            }
        }
    }

    /// Eight bytes (one per row) as int32 lanes.
    @inlinable @inline(__always)
    static func rowBytes(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(p.assumingMemoryBound(to: __m128i.self)))
    }

    /// The integers of one super-block of the group against up to four activation blocks at once (`count` of
    /// them; the rest repeat the last): each row's Σ scale · Σ q·y, and Σ minimum · Σy. Each packed vector is
    /// unpacked once for all of them.
    @inlinable @inline(__always)
    static func integers(_ group: UnsafeRawPointer, _ y: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer),
                         _ sums: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer), count: Int)
        -> (totals: (__m256i, __m256i, __m256i, __m256i), minimums: (__m256i, __m256i, __m256i, __m256i)) {
        let m4 = _mm256_set1_epi8(0x0F), zero = _mm256_setzero_si256()
        @inline(__always) func broadcast(_ y: UnsafeRawPointer, _ at: Int) -> __m256i { _mm256_set1_epi32(y.loadUnaligned(fromByteOffset: at, as: Int32.self)) }
        var totals = (zero, zero, zero, zero)
        for j in 0..<4 {
            var low = (zero, zero, zero, zero), high = (zero, zero, zero, zero)
            for g in 0..<8 {
                let packed = load256(group + (160 &+ (8 &* j &+ g) &* 32))
                let lowValues = _mm256_and_si256(packed, m4), highValues = _mm256_and_si256(_mm256_srli_epi16(packed, 4), m4)
                let lowAt = 64 &* j &+ 4 &* g, highAt = lowAt &+ 32
                @inline(__always) func add(_ low: inout __m256i, _ high: inout __m256i, _ y: UnsafeRawPointer) {
                    if Dot.accumulates {
                        low = Dot.accumulate(low, lowValues, broadcast(y, lowAt))
                        high = Dot.accumulate(high, highValues, broadcast(y, highAt))
                    } else {
                        // pairs of nibble · int8 within ±2 · 15 · 128, eight of them within int16
                        low = _mm256_add_epi16(low, _mm256_maddubs_epi16(lowValues, broadcast(y, lowAt)))
                        high = _mm256_add_epi16(high, _mm256_maddubs_epi16(highValues, broadcast(y, highAt)))
                    }
                }
                add(&low.0, &high.0, y.0)
                if count > 1 { add(&low.1, &high.1, y.1) }
                if count > 2 { add(&low.2, &high.2, y.2) }
                if count > 3 { add(&low.3, &high.3, y.3) }
            }
            let lowScales = rowBytes(group + (32 &+ 16 &* j)), highScales = rowBytes(group + (40 &+ 16 &* j))
            @inline(__always) func scaled(_ total: __m256i, _ low: __m256i, _ high: __m256i) -> __m256i {
                if Dot.accumulates {
                    return _mm256_add_epi32(total, _mm256_add_epi32(_mm256_mullo_epi32(low, lowScales), _mm256_mullo_epi32(high, highScales)))
                }
                // each row's scale in both int16 halves of its lane: one vpmaddwd scales and adds the row's two pairs
                @inline(__always) func twice(_ x: __m256i) -> __m256i { _mm256_or_si256(x, _mm256_slli_epi32(x, 16)) }
                return _mm256_add_epi32(total, _mm256_add_epi32(_mm256_madd_epi16(low, twice(lowScales)), _mm256_madd_epi16(high, twice(highScales))))
            }
            totals.0 = scaled(totals.0, low.0, high.0)
            if count > 1 { totals.1 = scaled(totals.1, low.1, high.1) }
            if count > 2 { totals.2 = scaled(totals.2, low.2, high.2) }
            if count > 3 { totals.3 = scaled(totals.3, low.3, high.3) }
        }
        // Σ minimum · Σy: each row's minimums of sub-blocks 2p and 2p+1 as int16 pairs, against the two sub-blocks'
        // activation sums (each the sum of two of the sixteen sums of 16 values)
        var minimums = (zero, zero, zero, zero)
        for p in 0..<4 {
            let pair = _mm256_or_si256(rowBytes(group + (96 &+ 16 &* p)), _mm256_slli_epi32(rowBytes(group + (104 &+ 16 &* p)), 16))
            @inline(__always) func share(_ sums: UnsafeRawPointer) -> __m256i {
                @inline(__always) func subBlockSum(_ k: Int) -> Int32 {
                    Int32(sums.loadUnaligned(fromByteOffset: 4 &* k, as: Int16.self)) &+ Int32(sums.loadUnaligned(fromByteOffset: 4 &* k &+ 2, as: Int16.self))
                }
                return _mm256_madd_epi16(pair, _mm256_set1_epi32((subBlockSum(2 &* p) & 0xFFFF) | (subBlockSum(2 &* p &+ 1) << 16)))
            }
            minimums.0 = _mm256_add_epi32(minimums.0, share(sums.0))
            if count > 1 { minimums.1 = _mm256_add_epi32(minimums.1, share(sums.1)) }
            if count > 2 { minimums.2 = _mm256_add_epi32(minimums.2, share(sums.2)) }
            if count > 3 { minimums.3 = _mm256_add_epi32(minimums.3, share(sums.3)) }
        }
        return (totals, minimums)
    }

    /// The row sums after super-block `b` of activation row `y`, from its integers.
    @inlinable @inline(__always)
    static func fuse(_ group: UnsafeRawPointer, _ total: __m256i, _ minimums: __m256i, _ y: Q8KRow, _ b: Int, _ acc: inout __m256, _ accMin: inout __m256) {
        let dy = _mm256_set1_ps(y.scales[b])
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(_mm256_cvtph_ps(load128(group)), dy), acc)
        accMin = _mm256_fmadd_ps(_mm256_cvtepi32_ps(minimums), _mm256_mul_ps(_mm256_cvtph_ps(load128(group + 16)), dy), accMin)
    }

    /// The group's eight rows (`group`, `blocks` · 1184 bytes) · one activation row (generation: the bytes ahead asked
    /// for, `StreamPrefetch`).
    @inlinable
    public static func dot(_ group: UnsafeRawPointer, _ y: Q8KRow, blocks: Int) -> SIMD8<Float> {
        var acc = _mm256_setzero_ps(), accMin = _mm256_setzero_ps()
        for b in 0..<blocks {
            let at = group + b &* 1184, values = y.values + b &* 256, sums = y.sums + b &* 32
            StreamPrefetch.ahead(at, bytes: 1184)
            let (totals, minimums) = integers(at, (values, values, values, values), (sums, sums, sums, sums), count: 1)
            fuse(at, totals.0, minimums.0, y, b, &acc, &accMin)
        }
        return unsafeBitCast(_mm256_sub_ps(acc, accMin), to: SIMD8<Float>.self)
    }

    /// The group's eight rows · four activation rows, each packed vector unpacked once; each result as `dot` gives it.
    @inlinable
    public static func dot(_ group: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow,
                           blocks: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        var a0 = _mm256_setzero_ps(), m0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps()
        var a2 = _mm256_setzero_ps(), m2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps(), m3 = _mm256_setzero_ps()
        for b in 0..<blocks {
            let at = group + b &* 1184, v = b &* 256, s = b &* 32
            let (totals, minimums) = integers(at, (y0.values + v, y1.values + v, y2.values + v, y3.values + v),
                                              (y0.sums + s, y1.sums + s, y2.sums + s, y3.sums + s), count: 4)
            fuse(at, totals.0, minimums.0, y0, b, &a0, &m0)
            fuse(at, totals.1, minimums.1, y1, b, &a1, &m1)
            fuse(at, totals.2, minimums.2, y2, b, &a2, &m2)
            fuse(at, totals.3, minimums.3, y3, b, &a3, &m3)
        }
        @inline(__always) func result(_ a: __m256, _ m: __m256) -> SIMD8<Float> { unsafeBitCast(_mm256_sub_ps(a, m), to: SIMD8<Float>.self) }
        return (result(a0, m0), result(a1, m1), result(a2, m2), result(a3, m3))
    }
}
#endif
