#if arch(x86_64)
import _Builtin_intrinsics.intel

/// How a weight type of 32-value blocks unpacks a block into 32 bytes, as ggml's x86 kernel for it does.
public protocol SmallBlockUnpack {
    static var bytes: Int { get }
    /// True when the values come out unsigned and the block has an f16 minimum after its scale (Q4_1, Q5_1).
    static var hasMinimum: Bool { get }
    static func values(_ w: UnsafeRawPointer) -> __m256i
    /// The centre the stored unsigned values are taken about (Q4_0 8, Q5_0 16, 0 for Q4_1 and Q5_1), or nil where
    /// the stored values are signed (Q8_0).
    static var centre: Int32? { get }
    /// The stored values as unsigned bytes, before the centre is taken off (`values` less `centre`).
    static func storedValues(_ w: UnsafeRawPointer) -> __m256i
}

extension SmallBlockUnpack {
    @inlinable @inline(__always) public static func storedValues(_ w: UnsafeRawPointer) -> __m256i { values(w) }
}

public enum Q8_0Unpack: SmallBlockUnpack {
    public static let bytes = 34, hasMinimum = false
    public static let centre: Int32? = nil
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i { load256(w + 2) }
}

public enum Q4_0Unpack: SmallBlockUnpack {
    public static let bytes = 18, hasMinimum = false
    public static let centre: Int32? = 8
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i {
        _mm256_sub_epi8(nibbles(w + 2), _mm256_set1_epi8(8))
    }
    @inlinable @inline(__always) public static func storedValues(_ w: UnsafeRawPointer) -> __m256i { nibbles(w + 2) }
}

public enum Q5_0Unpack: SmallBlockUnpack {
    public static let bytes = 22, hasMinimum = false
    public static let centre: Int32? = 16
    /// The nibble, and 0xF0 where the fifth bit is clear: as int8, the value less 16.
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles(w + 6), _mm256_andnot_si256(bitBytes(w + 2), _mm256_set1_epi8(-16)))
    }
    @inlinable @inline(__always) public static func storedValues(_ w: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles(w + 6), _mm256_and_si256(bitBytes(w + 2), _mm256_set1_epi8(0x10)))
    }
}

public enum Q4_1Unpack: SmallBlockUnpack {
    public static let bytes = 20, hasMinimum = true
    public static let centre: Int32? = 0
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i { nibbles(w + 4) }
}

public enum Q5_1Unpack: SmallBlockUnpack {
    public static let bytes = 24, hasMinimum = true
    public static let centre: Int32? = 0
    @inlinable @inline(__always) public static func values(_ w: UnsafeRawPointer) -> __m256i {
        _mm256_or_si256(nibbles(w + 8), _mm256_and_si256(bitBytes(w + 4), _mm256_set1_epi8(0x10)))
    }
}

/// Activations quantised to Q8_0, as the x86 kernels read them: 32 int8 values per block at `values`, the f32 scale
/// of each block at `scales`, for weights with a minimum Q8_1's `s` of each block (f32) at `sums`, and per block
/// eight int32, −128 · Σ of each lane's four values, at `laneSums`, and each block's Σy (int32) at `blockSums`.
public struct Q8Row {
    public let values: UnsafeRawPointer
    public let scales: UnsafePointer<Float>
    public let sums: UnsafePointer<Float>
    public let laneSums: UnsafeRawPointer
    public let blockSums: UnsafePointer<Int32>

    @inlinable
    public init(values: UnsafeRawPointer, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>, laneSums: UnsafeRawPointer,
                blockSums: UnsafePointer<Int32>) {
        self.values = values
        self.scales = scales
        self.sums = sums
        self.laneSums = laneSums
        self.blockSums = blockSums
    }

    /// The parts of a row of `blocks` blocks in the engine's widened Q8_0 form (`QuantizedDot.widenQ8_0`).
    @inlinable @inline(__always)
    public init(widened b: UnsafeRawPointer, blocks: Int) {
        self.init(values: b + blocks &* 104, scales: (b + blocks &* 64).assumingMemoryBound(to: Float.self),
                  sums: (b + blocks &* 68).assumingMemoryBound(to: Float.self), laneSums: b + blocks &* 72,
                  blockSums: (b + blocks &* 136).assumingMemoryBound(to: Int32.self))
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

    /// Block `b` of a weight row (at `w`) against block `b` of `y`, as the row kernels take it: where the int8 dot
    /// accumulates (VNNI) and the values sit above a centre (`tileCentre`), the stored values' products summed onto
    /// the centre's share, one `vpdpbusd` (Q8_0's values with 128 added in one `vpxor`, where the sign trick took
    /// two `vpsignb` and a zeroed sum); otherwise `lanes`. The same integers either way.
    @inlinable @inline(__always)
    static func rowLanes(_ w: UnsafeRawPointer, _ y: Q8Row, _ b: Int) -> __m256 {
        guard Dot.accumulates, !Unpack.hasMinimum, tileCentre != nil else { return lanes(Unpack.values(w), y.values + b &* 32) }
        return _mm256_cvtepi32_ps(Dot.accumulate(centreShare(y, b), tileValues(w), load256(y.values + b &* 32)))
    }

    @inlinable @inline(__always)
    static func minimumShare(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int) -> Float {
        guard Unpack.hasMinimum else { return 0 }
        var share: Float = 0
        for b in 0..<blocks { share = share.addingProduct(half(w, b &* Unpack.bytes &+ 2), y.sums[b]) }
        return share
    }

    /// Each block's weight scale (f16) as f32, into `scales` (room for `blocks` + 8), eight at a time. Converted one
    /// by one inside the loop, LLVM merges each 16-bit load into whatever register it picks (`vpinsrw`), the
    /// accumulator as often as not, which chains every block to the one before.
    @inlinable @inline(__always)
    static func weightScales(_ w: UnsafeRawPointer, blocks: Int, into scales: UnsafeMutablePointer<Float>) {
        @inline(__always) func four(_ p: UnsafeRawPointer) -> UInt64 {
            // packed in general registers, where the four loads do not wait on one another
            UInt64(p.loadUnaligned(as: UInt16.self)) | UInt64(p.loadUnaligned(fromByteOffset: Unpack.bytes, as: UInt16.self)) << 16
                | UInt64(p.loadUnaligned(fromByteOffset: 2 &* Unpack.bytes, as: UInt16.self)) << 32
                | UInt64(p.loadUnaligned(fromByteOffset: 3 &* Unpack.bytes, as: UInt16.self)) << 48
        }
        var first = 0
        while first &+ 8 <= blocks {
            let p = w + first &* Unpack.bytes
            let bits = _mm_set_epi64x(Int64(bitPattern: four(p + 4 &* Unpack.bytes)), Int64(bitPattern: four(p)))
            UnsafeMutableRawPointer(scales + first).storeBytes(of: _mm256_cvtph_ps(bits), as: __m256.self)
            first &+= 8
        }
        while first < blocks {
            scales[first] = half(w, first &* Unpack.bytes)
            first &+= 1
        }
    }

    /// The weight scales `weights` (from `weightScales`) times each block's activation scale, into `scales`.
    @inlinable @inline(__always)
    static func combinedScales(_ weights: UnsafeMutablePointer<Float>, _ y: Q8Row, blocks: Int, into scales: UnsafeMutablePointer<Float>) {
        var first = 0
        while first < blocks {
            var activations = SIMD8<Float>()
            if first &+ 8 <= blocks {
                activations = UnsafeRawPointer(y.scales + first).loadUnaligned(as: SIMD8<Float>.self)
            } else {
                for i in 0..<(blocks &- first) { activations[i] = y.scales[first &+ i] }
            }
            let products = UnsafeRawPointer(weights + first).loadUnaligned(as: SIMD8<Float>.self) * activations
            UnsafeMutableRawPointer(scales + first).storeBytes(of: products, as: SIMD8<Float>.self)
            first &+= 8
        }
    }

    /// Each block's weight scale times its activation scale, into `scales`, with room for `blocks` + 8 more floats
    /// after it (the weight scales).
    @inlinable @inline(__always)
    static func combinedScales(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, into scales: UnsafeMutablePointer<Float>) {
        let weights = scales + (blocks &+ 8)
        weightScales(w, blocks: blocks, into: weights)
        combinedScales(weights, y, blocks: blocks, into: scales)
    }

    /// One weight row · one activation row; `scratch` holds 2 · (`blocks` + 8) floats.
    @inlinable
    public static func dot(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        combinedScales(w, y, blocks: blocks, into: scratch)
        var acc = _mm256_setzero_ps()
        for b in 0..<blocks {
            acc = _mm256_fmadd_ps(_mm256_set1_ps(scratch[b]), rowLanes(w + b &* Unpack.bytes, y, b), acc)
        }
        return horizontalSum(acc) + minimumShare(w, y, blocks: blocks)
    }

    /// Two weight rows · one activation row: the two rows' chains of fused multiply-adds interleaved, so that one
    /// waits on the other's latency no longer (generation's case), each row's bytes ahead asked for (`StreamPrefetch`);
    /// each result exactly as `dot` gives it.
    /// `scratch` holds 3 · (`blocks` + 8) floats.
    @inlinable
    public static func dot(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        let stride = blocks &+ 8
        combinedScales(w0, y, blocks: blocks, into: scratch)
        combinedScales(w1, y, blocks: blocks, into: scratch + stride)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        for b in 0..<blocks {
            StreamPrefetch.ahead(w0 + b &* Unpack.bytes, bytes: Unpack.bytes)
            StreamPrefetch.ahead(w1 + b &* Unpack.bytes, bytes: Unpack.bytes)
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(scratch[b]), rowLanes(w0 + b &* Unpack.bytes, y, b), acc0)
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(scratch[stride &+ b]), rowLanes(w1 + b &* Unpack.bytes, y, b), acc1)
        }
        return SIMD2(horizontalSum(acc0) + minimumShare(w0, y, blocks: blocks), horizontalSum(acc1) + minimumShare(w1, y, blocks: blocks))
    }

    /// One weight row · four activation rows, each block unpacked once; each result exactly as `dot` gives it.
    /// `scratch` holds 5 · (`blocks` + 8) floats.
    @inlinable
    public static func dot(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int,
                           scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        let stride = blocks &+ 8, weights = scratch + 4 &* stride
        weightScales(w, blocks: blocks, into: weights)
        combinedScales(weights, y0, blocks: blocks, into: scratch)
        combinedScales(weights, y1, blocks: blocks, into: scratch + stride)
        combinedScales(weights, y2, blocks: blocks, into: scratch + 2 &* stride)
        combinedScales(weights, y3, blocks: blocks, into: scratch + 3 &* stride)
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

    /// The centre a tile's products take off in integers: the stored values' own, and for Q8_0's signed values 128
    /// where the int8 dot sums without saturating (VNNI), its values then taken with 128 added. Nil leaves Q8_0 to
    /// the sign trick (AVX2, whose int16 pair sums would saturate on values up to 255).
    @inlinable @inline(__always)
    public static var tileCentre: Int32? { Unpack.centre ?? (Dot.accumulates ? 128 : nil) }

    /// A block's values as a tile multiplies them: stored unsigned, `tileCentre` above the signed values.
    @inlinable @inline(__always)
    public static func tileValues(_ w: UnsafeRawPointer) -> __m256i {
        Unpack.centre == nil ? _mm256_xor_si256(Unpack.values(w), _mm256_set1_epi8(-128)) : Unpack.storedValues(w)
    }

    /// The eight int32 lanes that `tileCentre` · Σ of each lane's four activations takes off the products of the
    /// values above it (negative, to start the sum from; the activations store −128 · Σ).
    @inlinable @inline(__always)
    public static func centreShare(_ y: Q8Row, _ block: Int) -> __m256i {
        guard let centre = tileCentre, centre != 0 else { return _mm256_setzero_si256() }
        let sums = load256(y.laneSums + block &* 32)
        return centre == 128 ? sums : _mm256_srai_epi32(sums, 7 &- Int32(centre.trailingZeroBitCount))
    }

    /// Weight rows `rows` (`rowBytes` apart from `w`) · `count` widened activation rows (a multiple of four, `stride`
    /// bytes apart from `tokens`), the tile prompt processing is made of: `Dot.tileRows` rows at a time (then two,
    /// then one) by four tokens at a time, each row's weight scales converted once, each block of each row unpacked
    /// once per four tokens and each activation block loaded once for all the rows. Row r's result for token t goes
    /// to `output[t · outputStride + r]`. Where a block's values are taken above a centre (`tileCentre`) the centre's
    /// share comes off in integers per activation block, shared by the rows, so the lanes hold exactly the integers
    /// `dot` has; every result is exactly as `dot` gives it. `scratch` holds 56 · (`blocks` + 8) floats.
    @inlinable
    public static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride tokenStride: Int, count: Int,
                            blocks: Int, scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        let stride = blocks &+ 8
        @inline(__always) func y(_ t: Int) -> Q8Row { Q8Row(widened: tokens + t &* tokenStride, blocks: blocks) }
        @inline(__always) func store(_ values: SIMD4<Float>, row: Int, token t: Int) {
            for i in 0..<4 { output[(t &+ i) &* outputStride &+ row] = values[i] }
        }
        var r = 0
        if Dot.tileRows == 4 && tileCentre != nil {
            let rowWeights = scratch + 16 &* blocks, weights = rowWeights + 4 &* stride
            let values = UnsafeMutableRawPointer(scratch + 24 &* stride)
            while r &+ 4 <= rows {
                for i in 0..<4 { weightScales(w + (r &+ i) &* rowBytes, blocks: blocks, into: rowWeights + i &* stride) }
                for b in 0..<blocks {
                    for i in 0..<4 {
                        weights[4 &* b &+ i] = rowWeights[i &* stride &+ b]
                        // unpacked once for every token of the call rather than once per four
                        let bytes = tileValues(w + (r &+ i) &* rowBytes + b &* Unpack.bytes)
                        _mm256_storeu_si256((values + (4 &* b &+ i) &* 32).assumingMemoryBound(to: __m256i.self), bytes)
                    }
                }
                var t = 0
                while t &+ 4 <= count {
                    storeQuad(quad4(w + r &* rowBytes, rowBytes: rowBytes, weights, UnsafeRawPointer(values), y(t), y(t &+ 1), y(t &+ 2), y(t &+ 3),
                                    blocks: blocks, scratch: scratch), row: r, token: t, output: output, outputStride: outputStride)
                    t &+= 4
                }
                r &+= 4
            }
        }
        let weights0 = scratch + 8 &* stride, weights1 = scratch + 9 &* stride
        while r &+ 2 <= rows {
            let w0 = w + r &* rowBytes, w1 = w0 + rowBytes
            weightScales(w0, blocks: blocks, into: weights0)
            weightScales(w1, blocks: blocks, into: weights1)
            var t = 0
            while t &+ 4 <= count {
                let (first, second) = quad(w0, w1, weights0, weights1, y(t), y(t &+ 1), y(t &+ 2), y(t &+ 3), blocks: blocks, scratch: scratch)
                store(first, row: r, token: t)
                store(second, row: r &+ 1, token: t)
                t &+= 4
            }
            r &+= 2
        }
        if r < rows {
            var t = 0
            while t &+ 4 <= count {
                store(dot(w + r &* rowBytes, y(t), y(t &+ 1), y(t &+ 2), y(t &+ 3), blocks: blocks, scratch: scratch), row: r, token: t)
                t &+= 4
            }
        }
    }

    /// Four rows' results for four tokens (row r + i's in `results.i`, token t + k's in its lane k) into `output`
    /// as `tile` lays it out: row r's result for token t at `output[t · outputStride + r]`.
    @inlinable @inline(__always)
    public static func storeQuad(_ results: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>), row r: Int, token t: Int,
                                 output: UnsafeMutablePointer<Float>, outputStride: Int) {
        for k in 0..<4 {
            let base = output + ((t &+ k) &* outputStride &+ r)
            base[0] = results.0[k]
            base[1] = results.1[k]
            base[2] = results.2[k]
            base[3] = results.3[k]
        }
    }

    @inlinable @inline(__always)
    static func step(_ acc: inout __m256, _ scales: UnsafeMutablePointer<Float>, _ lanes: __m256i) {
        acc = _mm256_fmadd_ps(_mm256_set1_ps(scales.pointee), _mm256_cvtepi32_ps(lanes), acc)
    }

    /// Four weight rows · four activation rows: sixteen chains of fused multiply-adds, which need the 32 registers
    /// of AVX-512. `weights` holds the four rows' weight scales interleaved (block b's at 4b…4b+3), `values` their
    /// blocks as `tileValues` gives them (block b's four at 128b). The sixteen
    /// combined scales of each block go first into `scratch` (block b's from 16b, token t's four rows from 16b + 4t),
    /// one product per token and block, so that the loop broadcasts each from memory at a fixed offset. (Multiplied
    /// inside the loop, LLVM takes each from the product's register with a shuffle, on the ports the sums need.)
    @inlinable @inline(__always)
    static func quad4(_ w: UnsafeRawPointer, rowBytes: Int, _ weights: UnsafeMutablePointer<Float>, _ values: UnsafeRawPointer,
                      _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row,
                      blocks: Int, scratch: UnsafeMutablePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        let w0 = w, w1 = w + rowBytes, w2 = w + 2 &* rowBytes, w3 = w + 3 &* rowBytes
        var a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(), a02 = _mm256_setzero_ps(), a03 = _mm256_setzero_ps()
        var a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps(), a12 = _mm256_setzero_ps(), a13 = _mm256_setzero_ps()
        var a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps(), a22 = _mm256_setzero_ps(), a23 = _mm256_setzero_ps()
        var a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps(), a32 = _mm256_setzero_ps(), a33 = _mm256_setzero_ps()
        for b in 0..<blocks {
            let rowScales = _mm_loadu_ps(weights + 4 &* b), pairs = scratch + 16 &* b
            _mm_storeu_ps(pairs, _mm_mul_ps(rowScales, _mm_set1_ps(y0.scales[b])))
            _mm_storeu_ps(pairs + 4, _mm_mul_ps(rowScales, _mm_set1_ps(y1.scales[b])))
            _mm_storeu_ps(pairs + 8, _mm_mul_ps(rowScales, _mm_set1_ps(y2.scales[b])))
            _mm_storeu_ps(pairs + 12, _mm_mul_ps(rowScales, _mm_set1_ps(y3.scales[b])))
        }
        for b in 0..<blocks {
            let offset = b &* 32, unpacked = values + b &* 128
            let q0 = load256(unpacked), q1 = load256(unpacked + 32), q2 = load256(unpacked + 64), q3 = load256(unpacked + 96)
            @inline(__always) func token(_ y: Q8Row, _ t: Int, _ acc0: inout __m256, _ acc1: inout __m256, _ acc2: inout __m256, _ acc3: inout __m256) {
                let pairs = scratch + (16 &* b &+ 4 &* t)
                let v = load256(y.values + offset), share = centreShare(y, b)
                step(&acc0, pairs, Dot.accumulate(share, q0, v))
                step(&acc1, pairs + 1, Dot.accumulate(share, q1, v))
                step(&acc2, pairs + 2, Dot.accumulate(share, q2, v))
                step(&acc3, pairs + 3, Dot.accumulate(share, q3, v))
            }
            token(y0, 0, &a00, &a10, &a20, &a30)
            token(y1, 1, &a01, &a11, &a21, &a31)
            token(y2, 2, &a02, &a12, &a22, &a32)
            token(y3, 3, &a03, &a13, &a23, &a33)
        }
        @inline(__always) func result(_ w: UnsafeRawPointer, _ a0: __m256, _ a1: __m256, _ a2: __m256, _ a3: __m256) -> SIMD4<Float> {
            SIMD4(horizontalSum(a0) + minimumShare(w, y0, blocks: blocks), horizontalSum(a1) + minimumShare(w, y1, blocks: blocks),
                  horizontalSum(a2) + minimumShare(w, y2, blocks: blocks), horizontalSum(a3) + minimumShare(w, y3, blocks: blocks))
        }
        return (result(w0, a00, a01, a02, a03), result(w1, a10, a11, a12, a13), result(w2, a20, a21, a22, a23), result(w3, a30, a31, a32, a33))
    }

    @inlinable @inline(__always)
    static func quad(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ weights0: UnsafeMutablePointer<Float>, _ weights1: UnsafeMutablePointer<Float>,
                     _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>) {
        let stride = blocks &+ 8
        combinedScales(weights0, y0, blocks: blocks, into: scratch)
        combinedScales(weights0, y1, blocks: blocks, into: scratch + stride)
        combinedScales(weights0, y2, blocks: blocks, into: scratch + 2 &* stride)
        combinedScales(weights0, y3, blocks: blocks, into: scratch + 3 &* stride)
        combinedScales(weights1, y0, blocks: blocks, into: scratch + 4 &* stride)
        combinedScales(weights1, y1, blocks: blocks, into: scratch + 5 &* stride)
        combinedScales(weights1, y2, blocks: blocks, into: scratch + 6 &* stride)
        combinedScales(weights1, y3, blocks: blocks, into: scratch + 7 &* stride)
        var a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(), a02 = _mm256_setzero_ps(), a03 = _mm256_setzero_ps()
        var a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps(), a12 = _mm256_setzero_ps(), a13 = _mm256_setzero_ps()
        for b in 0..<blocks {
            let offset = b &* 32, s = scratch + b
            if tileCentre == nil {
                let x0 = Unpack.values(w0 + b &* Unpack.bytes), x1 = Unpack.values(w1 + b &* Unpack.bytes)
                let m0 = _mm256_sign_epi8(x0, x0), m1 = _mm256_sign_epi8(x1, x1)
                @inline(__always) func token(_ y: Q8Row, _ t: Int, _ acc0: inout __m256, _ acc1: inout __m256) {
                    let v = load256(y.values + offset)
                    step(&acc0, s + t &* stride, Dot.unsignedSigned(m0, _mm256_sign_epi8(v, x0)))
                    step(&acc1, s + (4 &+ t) &* stride, Dot.unsignedSigned(m1, _mm256_sign_epi8(v, x1)))
                }
                token(y0, 0, &a00, &a10)
                token(y1, 1, &a01, &a11)
                token(y2, 2, &a02, &a12)
                token(y3, 3, &a03, &a13)
            } else {
                let q0 = tileValues(w0 + b &* Unpack.bytes), q1 = tileValues(w1 + b &* Unpack.bytes)
                @inline(__always) func token(_ y: Q8Row, _ t: Int, _ acc0: inout __m256, _ acc1: inout __m256) {
                    let v = load256(y.values + offset), share = centreShare(y, b)
                    step(&acc0, s + t &* stride, Dot.accumulate(share, q0, v))
                    step(&acc1, s + (4 &+ t) &* stride, Dot.accumulate(share, q1, v))
                }
                token(y0, 0, &a00, &a10)
                token(y1, 1, &a01, &a11)
                token(y2, 2, &a02, &a12)
                token(y3, 3, &a03, &a13)
            }
        }
        @inline(__always) func result(_ w: UnsafeRawPointer, _ a0: __m256, _ a1: __m256, _ a2: __m256, _ a3: __m256) -> SIMD4<Float> {
            SIMD4(horizontalSum(a0) + minimumShare(w, y0, blocks: blocks), horizontalSum(a1) + minimumShare(w, y1, blocks: blocks),
                  horizontalSum(a2) + minimumShare(w, y2, blocks: blocks), horizontalSum(a3) + minimumShare(w, y3, blocks: blocks))
        }
        return (result(w0, a00, a01, a02, a03), result(w1, a10, a11, a12, a13))
    }
}
#endif
