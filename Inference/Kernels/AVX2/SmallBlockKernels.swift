#if arch(x86_64)
import _Builtin_intrinsics.intel

/// How a weight type of 32-value blocks unpacks a block into 32 bytes, as ggml's x86 kernel for it does.
public protocol SmallBlockUnpack {
    static var bytes: Int { get }
    /// True when the values come out unsigned and the block has an f16 minimum after its scale (Q4_1, Q5_1).
    static var hasMinimum: Bool { get }
    static func values(_ w: UnsafeRawPointer) -> __m256i
}

public enum Q8_0Unpack: SmallBlockUnpack {
    public static let bytes = 34, hasMinimum = false
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i { load256(w + 2) }
}

public enum Q4_0Unpack: SmallBlockUnpack {
    public static let bytes = 18, hasMinimum = false
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i {
        _mm256_sub_epi8(nibbles(w + 2), _mm256_set1_epi8(8))
    }
}

public enum Q5_0Unpack: SmallBlockUnpack {
    public static let bytes = 22, hasMinimum = false
    /// The nibble, and 0xF0 where the fifth bit is clear: as int8, the value less 16.
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles(w + 6), _mm256_andnot_si256(bitBytes(w + 2), _mm256_set1_epi8(-16)))
    }
}

public enum Q4_1Unpack: SmallBlockUnpack {
    public static let bytes = 20, hasMinimum = true
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i { nibbles(w + 4) }
}

public enum Q5_1Unpack: SmallBlockUnpack {
    public static let bytes = 24, hasMinimum = true
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles(w + 8), _mm256_and_si256(bitBytes(w + 4), _mm256_set1_epi8(0x10)))
    }
}

/// Activations quantised to Q8_0, as the x86 kernels read them: 32 int8 values per block at `values`, the f32 scale
/// of each block at `scales`, and for weights with a minimum Q8_1's `s` of each block (f32) at `sums`.
public struct Q8Row {
    public let values: UnsafeRawPointer
    public let scales: UnsafePointer<Float>
    public let sums: UnsafePointer<Float>

    @inlinable
    public init(values: UnsafeRawPointer, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>) {
        self.values = values
        self.scales = scales
        self.sums = sums
    }
}

/// ggml's x86 dot products of 32-value blocks, instruction for instruction in what decides the result: eight int32
/// lanes of four products per block, the block's combined scale fused onto eight float lanes, `hsum_float_8`, and
/// for Q4_1 and Q5_1 the minimums' share fused block by block and added last.
public enum SmallBlockKernels<Dot: Int8Dot, Unpack: SmallBlockUnpack> {
    @inlinable @inline(__always)
    static func lanes(_ x: __m256i, _ y: UnsafeRawPointer) -> __m256 {
        _mm256_cvtepi32_ps(Unpack.hasMinimum ? Dot.unsignedSigned(x, load256(y)) : Dot.signed(x, load256(y)))
    }

    @inlinable @inline(__always)
    static func minimumShare(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int) -> Float {
        guard Unpack.hasMinimum else { return 0 }
        var share: Float = 0
        for b in 0..<blocks { share = share.addingProduct(half(w, b &* Unpack.bytes &+ 2), y.sums[b]) }
        return share
    }

    /// Each block's weight scale (f16) times its activation scale, into `scales` (room for `blocks` + 8), eight at
    /// a time. Converted one by one inside the loop, LLVM merges each 16-bit load into whatever register it picks
    /// (`vpinsrw`), the accumulator as often as not, which chains every block to the one before.
    @inlinable @inline(__always)
    static func combinedScales(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, into scales: UnsafeMutablePointer<Float>) {
        var first = 0
        while first < blocks {
            var bits = SIMD8<UInt16>()
            for i in 0..<8 where first &+ i < blocks { bits[i] = w.loadUnaligned(fromByteOffset: (first &+ i) &* Unpack.bytes, as: UInt16.self) }
            let weights = unsafeBitCast(_mm256_cvtph_ps(unsafeBitCast(bits, to: __m128i.self)), to: SIMD8<Float>.self)
            var activations = SIMD8<Float>()
            if first &+ 8 <= blocks {
                activations = UnsafeRawPointer(y.scales + first).loadUnaligned(as: SIMD8<Float>.self)
            } else {
                for i in 0..<(blocks &- first) { activations[i] = y.scales[first &+ i] }
            }
            UnsafeMutableRawPointer(scales + first).storeBytes(of: weights * activations, as: SIMD8<Float>.self)
            first &+= 8
        }
    }

    /// One weight row · one activation row; `scratch` holds `blocks` + 8 floats.
    @inlinable
    public static func dot(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        combinedScales(w, y, blocks: blocks, into: scratch)
        var acc = _mm256_setzero_ps()
        for b in 0..<blocks {
            acc = _mm256_fmadd_ps(_mm256_set1_ps(scratch[b]), lanes(Unpack.values(w + b &* Unpack.bytes), y.values + b &* 32), acc)
        }
        return horizontalSum(acc) + minimumShare(w, y, blocks: blocks)
    }

    /// Two weight rows · one activation row: the two rows' chains of fused multiply-adds interleaved, so that one
    /// waits on the other's latency no longer (generation's case); each result exactly as `dot` gives it.
    /// `scratch` holds 2 · (`blocks` + 8) floats.
    @inlinable
    public static func dot(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        let stride = blocks &+ 8
        combinedScales(w0, y, blocks: blocks, into: scratch)
        combinedScales(w1, y, blocks: blocks, into: scratch + stride)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        for b in 0..<blocks {
            let values = y.values + b &* 32
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(scratch[b]), lanes(Unpack.values(w0 + b &* Unpack.bytes), values), acc0)
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(scratch[stride &+ b]), lanes(Unpack.values(w1 + b &* Unpack.bytes), values), acc1)
        }
        return SIMD2(horizontalSum(acc0) + minimumShare(w0, y, blocks: blocks), horizontalSum(acc1) + minimumShare(w1, y, blocks: blocks))
    }

    /// One weight row · four activation rows, each block unpacked once; each result exactly as `dot` gives it.
    /// `scratch` holds 4 · (`blocks` + 8) floats.
    @inlinable
    public static func dot(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int,
                           scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        let stride = blocks &+ 8
        combinedScales(w, y0, blocks: blocks, into: scratch)
        combinedScales(w, y1, blocks: blocks, into: scratch + stride)
        combinedScales(w, y2, blocks: blocks, into: scratch + 2 &* stride)
        combinedScales(w, y3, blocks: blocks, into: scratch + 3 &* stride)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps()
        for b in 0..<blocks {
            let x = Unpack.values(w + b &* Unpack.bytes), offset = b &* 32
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(scratch[b]), lanes(x, y0.values + offset), acc0)
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(scratch[stride &+ b]), lanes(x, y1.values + offset), acc1)
            acc2 = _mm256_fmadd_ps(_mm256_set1_ps(scratch[2 &* stride &+ b]), lanes(x, y2.values + offset), acc2)
            acc3 = _mm256_fmadd_ps(_mm256_set1_ps(scratch[3 &* stride &+ b]), lanes(x, y3.values + offset), acc3)
        }
        return SIMD4(horizontalSum(acc0) + minimumShare(w, y0, blocks: blocks), horizontalSum(acc1) + minimumShare(w, y1, blocks: blocks),
                     horizontalSum(acc2) + minimumShare(w, y2, blocks: blocks), horizontalSum(acc3) + minimumShare(w, y3, blocks: blocks))
    }
}
#endif
