#if arch(x86_64)
import _Builtin_intrinsics.intel

// The building blocks ggml's x86 kernels are made of, one for one, so that the kernels built from them sum exactly
// as ggml's do (the integers exactly, the floats in the same order with the same fused multiply-adds).

/// Eight floats summed as ggml's `hsum_float_8`: upper half onto lower, lanes 2-3 onto 0-1, lane 1 onto 0.
@inlinable @inline(__always)
public func horizontalSum(_ x: __m256) -> Float {
    let lanes = unsafeBitCast(x, to: SIMD8<Float>.self)
    let four = lanes.highHalf + lanes.lowHalf
    let two = four.highHalf + four.lowHalf
    return two[0] + two[1]
}

/// Eight int32 summed (exact, in any order).
@inlinable @inline(__always)
func horizontalSum(_ x: __m256i) -> Int32 {
    unsafeBitCast(x, to: SIMD8<Int32>.self).wrappedSum()
}

@inlinable @inline(__always)
public func load256(_ p: UnsafeRawPointer) -> __m256i {
    _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self))
}

@inlinable @inline(__always)
public func load128(_ p: UnsafeRawPointer) -> __m128i {
    _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
}

/// An f16 stored at `offset`, as f32. Through a general register and `vmovd`, which writes the whole vector
/// register: a 16-bit load straight into one (`vpinsrw`) merges into whatever it held and waits for it.
@inlinable @inline(__always)
public func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    let bits = Int32(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits)))
}

/// 32 four-bit fields of 16 bytes as 32 bytes 0…15: low nibbles first, then high (ggml's `bytes_from_nibbles_32`).
@inlinable @inline(__always)
func nibbles(_ p: UnsafeRawPointer) -> __m256i {
    let packed = load128(p)
    return _mm256_and_si256(_mm256_set1_epi8(0x0F), _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed))
}

/// 32 bits at `p` spread to 32 bytes of 0x00 or 0xFF (ggml's `bytes_from_bits_32`).
@inlinable @inline(__always)
func bitBytes(_ p: UnsafeRawPointer) -> __m256i {
    let word = Int32(bitPattern: p.loadUnaligned(as: UInt32.self))
    let spread = _mm256_shuffle_epi8(_mm256_set1_epi32(word), _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0))
    let marked = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe))
    return _mm256_cmpeq_epi8(marked, _mm256_set1_epi64x(-1))
}

/// The signed int8 products of 32 bytes: lane j of the eight int32 lanes holds products 4j…4j+3. `Dot` decides
/// the instructions (`vpmaddubsw` and `vpmaddwd`, or VNNI's `vpdpbusd`); the integers are the same either way.
public protocol Int8Dot {
    /// Σ over each group of four of unsigned `a` times signed `b` (no saturation for the ranges used here).
    static func unsignedSigned(_ a: __m256i, _ b: __m256i) -> __m256i
    /// `sum` plus `unsignedSigned(a, b)`, lane by lane.
    static func accumulate(_ sum: __m256i, _ a: __m256i, _ b: __m256i) -> __m256i
    /// True when `accumulate` is one instruction (VNNI), so that chaining it beats summing in int16 first.
    static var accumulates: Bool { get }
    /// How many weight rows a prompt tile takes at once: 4 where the module has 32 vector registers for the tile's 16
    /// accumulators (AVX-512), 2 where it has 16.
    static var tileRows: Int { get }
}

extension Int8Dot {
    @inlinable @inline(__always)
    public static var accumulates: Bool { false }
    @inlinable @inline(__always)
    public static var tileRows: Int { 2 }

    @inlinable @inline(__always)
    public static func accumulate(_ sum: __m256i, _ a: __m256i, _ b: __m256i) -> __m256i {
        _mm256_add_epi32(sum, unsignedSigned(a, b))
    }
}

extension Int8Dot {
    /// Signed × signed: `x`'s magnitudes against `y` with `x`'s signs.
    @inlinable @inline(__always)
    static func signed(_ x: __m256i, _ y: __m256i) -> __m256i {
        unsignedSigned(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x))
    }
}

/// AVX2's int8 dot: `vpmaddubsw` into int16 pairs, `vpmaddwd` by ones into int32 (the pairs' sums stay below
/// 2 · 127 · 128, inside int16, for every kernel here).
public enum AVX2Dot: Int8Dot {
    @inlinable @inline(__always)
    public static func unsignedSigned(_ a: __m256i, _ b: __m256i) -> __m256i {
        _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1))
    }
}
#endif
