/// Dot products of a quantised weight row with an activation row quantised to Q8_0 (32 values and an f16 scale
/// per block), the inner loop of every matrix-vector product. Each kernel has a plain scalar form, which the
/// SIMD form is tested against on random data.
public enum QuantizedDot {
    /// Quantises `values` (a whole number of 32-blocks) to Q8_0, as ggml does: scale = max|x| / 127, round to nearest.
    public static func quantizeQ8_0(_ values: UnsafeBufferPointer<Float>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count / 32 * 34)
        out.withUnsafeMutableBytes { quantizeQ8_0(values, into: $0) }
        return out
    }

    /// Quantises `values` into `out`, which holds at least `values.count / 32 * 34` bytes. Blocks of finite values
    /// go sixteen values at a time (`lanes`, which the tests turn off to compare), the others one by one.
    public static func quantizeQ8_0(_ values: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer, lanes: Bool = true) {
        precondition(values.count % 32 == 0 && out.count >= values.count / 32 * 34, "Q8_0 quantises whole blocks of 32")
        for block in 0..<(values.count / 32) {
            let x = values.baseAddress! + block * 32
            // (a subnormal maximum makes the inverse infinite: those products go one by one, to ggml's -128)
            if lanes, LaneQuantizer.allFinite(x, count: 32), case let amax = LaneQuantizer.maximumMagnitude(x, count: 32),
               case let inverse: Float = amax == 0 ? 0 : 127 / amax, inverse.isFinite {
                out.storeBytes(of: Float16(amax / 127).bitPattern, toByteOffset: block * 34, as: UInt16.self)
                LaneQuantizer.store(LaneQuantizer.rounded(x, inverse), out, at: block * 34 + 2)
                LaneQuantizer.store(LaneQuantizer.rounded(x + 16, inverse), out, at: block * 34 + 18)
                continue
            }
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(values[block * 32 + j])) }
            // as ggml's x86 kernel: multiply by 127 / max and round half to even
            let scale = amax / 127
            let inverse: Float = amax == 0 ? 0 : 127 / amax
            let scaleBits = Float16(scale).bitPattern
            out[block * 34] = UInt8(scaleBits & 0xFF)
            out[block * 34 + 1] = UInt8(scaleBits >> 8)
            for j in 0..<32 {
                out[block * 34 + 2 + j] = UInt8(bitPattern: Saturating.int8(values[block * 32 + j] * inverse))
            }
        }
    }

    /// Q8_0 · Q8_0, scalar.
    public static func q8_0Scalar(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for block in 0..<blocks {
            var dot: Int32 = 0
            for j in 0..<32 {
                dot += Int32(Int8(bitPattern: a.load(fromByteOffset: block * 34 + 2 + j, as: UInt8.self))) * Int32(Int8(bitPattern: b.load(fromByteOffset: block * 34 + 2 + j, as: UInt8.self)))
            }
            sum += Dequantize.half(a, block * 34) * Dequantize.half(b, block * 34) * Float(dot)
        }
        return sum
    }

    /// Q8_0 weights · activations in the widened form (`widenQ8_0`), summed as ggml's AVX2 kernel sums: eight int32
    /// lanes per block, lane j holding products 4j…4j+3, each block's lanes scaled and added in float lanes, the lanes
    /// summed at the end. The weights' bytes, offset by 128 to be unsigned, widened to int16, meet the int16
    /// activations in `vpmaddwd`, and the offset's share (−128 · Σy over each lane's four values, kept with the
    /// activations) is added to each lane, so the integers are ggml's. (Sign-extended weights lead LLVM to split
    /// the lanes and multiply in 32 bits, three times slower.)
    public static func q8_0(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        withScratch(blocks) { q8_0(a, b, blocks: blocks, scratch: $0) }
    }

    /// One block's eight lanes of Q8_0 weights · widened activations.
    @inline(__always)
    static func q8_0Lanes(_ x0: SIMD16<Int16>, _ x1: SIMD16<Int16>, _ b: UnsafeRawPointer, _ block: Int, _ offsets: UnsafeRawPointer) -> SIMD8<Float> {
        let y0 = b.loadUnaligned(fromByteOffset: block &* 64, as: SIMD16<Int16>.self)
        let y1 = b.loadUnaligned(fromByteOffset: block &* 64 &+ 32, as: SIMD16<Int16>.self)
        return floatLanes(quadSums(multiplyAddPairs(x0, y0), multiplyAddPairs(x1, y1)) &+ offsets.loadUnaligned(fromByteOffset: block &* 32, as: SIMD8<Int32>.self))
    }

    /// A Q8_0 weight block's values, offset by 128, as int16 lanes (values 0-15 and 16-31).
    @inline(__always)
    static func q8_0Weights(_ a: UnsafeRawPointer, _ block: Int) -> (SIMD16<Int16>, SIMD16<Int16>) {
        (int16Lanes(a.loadUnaligned(fromByteOffset: block &* 34 &+ 2, as: SIMD16<UInt8>.self) ^ 0x80),
         int16Lanes(a.loadUnaligned(fromByteOffset: block &* 34 &+ 18, as: SIMD16<UInt8>.self) ^ 0x80))
    }

    /// `q8_0` with the combined scales kept in `scales` (room for `scratchFloats(blocks:)`), which the caller
    /// allocates once for many rows: past a kilobyte a temporary allocation goes to the heap, once per row.
    static func q8_0(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int, scratch scales: UnsafeMutablePointer<Float>) -> Float {
        combineScales(a, stride: 34, b, blocks: blocks, into: scales)
        let offsets = b + blocks * 72
        var accumulator = SIMD8<Float>()
        for block in 0..<blocks {
            let (x0, x1) = q8_0Weights(a, block)
            accumulator.addProduct(SIMD8<Float>(repeating: scales[block]), q8_0Lanes(x0, x1, b, block, offsets))
        }
        return ggmlSum(accumulator)
    }

    /// Bytes of `blocks` Q8_0 activation blocks in the widened form: 32 int16 values per block, then one f32 scale
    /// per block, then Q8_1's `s` per block (f32): the unrounded scale times Σy, rounded to f16 as ggml stores it,
    /// which the kernels of weights with a minimum (Q4_1, Q5_1) need; then per block eight int32, −128 · Σy over
    /// values 4j…4j+3, what Q8_0's unsigned offset adds to each of the kernel's lanes, negated; then the 32 int8 values of
    /// each block, which the x86 kernels read; then each block's Σy (int32), for the interleaved Q4_0 kernels.
    public static func widenedQ8_0Bytes(blocks: Int) -> Int { blocks * 140 }

    /// Quantises `values` as `quantizeQ8_0` does (the same int8 values and f16-rounded scales), stored widened:
    /// int16 values let the kernels multiply with `vpmaddwd` without widening the activations for every row.
    public static func widenQ8_0(_ values: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        let blocks = values.count / 32
        precondition(values.count % 32 == 0 && out.count >= widenedQ8_0Bytes(blocks: blocks))
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 34) { block in
            let bytes = UnsafeMutableRawBufferPointer(block)
            for index in 0..<blocks {
                let x = values.baseAddress! + index * 32
                quantizeQ8_0(UnsafeBufferPointer(start: x, count: 32), into: bytes)
                let q = bytes.baseAddress! + 2
                let low = loadInt16Lanes(q, 0, signed: true), high = loadInt16Lanes(q, 16, signed: true)
                let ones = SIMD16<Int16>(repeating: 1)
                let quads = quadSums(multiplyAddPairs(low, ones), multiplyAddPairs(high, ones)), sum = quads.wrappedSum()
                out.storeBytes(of: low, toByteOffset: index * 64, as: SIMD16<Int16>.self)
                out.storeBytes(of: high, toByteOffset: index * 64 + 32, as: SIMD16<Int16>.self)
                out.storeBytes(of: q.loadUnaligned(as: SIMD32<Int8>.self), toByteOffset: blocks * 104 + index * 32, as: SIMD32<Int8>.self)
                out.storeBytes(of: quads &* -128, toByteOffset: blocks * 72 + index * 32, as: SIMD8<Int32>.self)
                out.storeBytes(of: sum, toByteOffset: blocks * 136 + index * 4, as: Int32.self)
                out.storeBytes(of: Dequantize.half(UnsafeRawBufferPointer(bytes), 0), toByteOffset: blocks * 64 + index * 4, as: Float.self)
                let amax = LaneQuantizer.allFinite(x, count: 32) ? LaneQuantizer.maximumMagnitude(x, count: 32)
                    : (0..<32).reduce(Float(0)) { max($0, abs(x[$1])) }
                out.storeBytes(of: Float(Float16(amax / 127 * Float(sum))), toByteOffset: blocks * 68 + index * 4, as: Float.self)
            }
        }
    }

    /// Writes each block's weight scale (f16, every `stride` bytes of `a`) times its activation scale (f32, after the
    /// widened values of `b`) to `scales` (room for `blocks` + 8), eight at a time: converted one by one inside the
    /// kernel, the f16 loads would chain every block to the one before.
    @inline(__always)
    static func combineScales(_ a: UnsafeRawPointer, stride: Int, _ b: UnsafeRawPointer, blocks: Int, into scales: UnsafeMutablePointer<Float>) {
        let activationScales = b + blocks * 64
        var block = 0
        while block < blocks {
            var bits = SIMD8<UInt16>()
            for i in 0..<8 where block &+ i < blocks { bits[i] = a.loadUnaligned(fromByteOffset: (block &+ i) &* stride, as: UInt16.self) }
            let weights = floatLanes(unsafeBitCast(bits, to: SIMD8<Float16>.self))
            // past the last block the lanes stay zero: whatever lies beyond the row must not reach the sums
            var activations = SIMD8<Float>()
            if block &+ 8 <= blocks {
                activations = activationScales.loadUnaligned(fromByteOffset: block * 4, as: SIMD8<Float>.self)
            } else {
                for i in 0..<(blocks &- block) { activations[i] = activationScales.loadUnaligned(fromByteOffset: (block &+ i) * 4, as: Float.self) }
            }
            UnsafeMutableRawPointer(scales + block).storeBytes(of: weights * activations, as: SIMD8<Float>.self)
            block &+= 8
        }
    }

    /// One Q8_0 row against four activation rows (four tokens of a prompt): each weight block is widened once for
    /// all four. Each result is computed exactly as `q8_0` computes it alone.
    public static func q8_0(_ a: UnsafeRawPointer, _ b: FourRows, blocks: Int) -> SIMD4<Float> {
        withScratch(blocks) { q8_0(a, b, blocks: blocks, scratch: $0) }
    }

    static func q8_0(_ a: UnsafeRawPointer, _ b: FourRows, blocks: Int, scratch scales: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        let stride = blocks + 8
        for i in 0..<4 { combineScales(a, stride: 34, b[i], blocks: blocks, into: scales + i * stride) }
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        for block in 0..<blocks {
            let (x0, x1) = q8_0Weights(a, block)
            acc0.addProduct(SIMD8<Float>(repeating: scales[block]), q8_0Lanes(x0, x1, b[0], block, b[0] + blocks * 72))
            acc1.addProduct(SIMD8<Float>(repeating: scales[stride &+ block]), q8_0Lanes(x0, x1, b[1], block, b[1] + blocks * 72))
            acc2.addProduct(SIMD8<Float>(repeating: scales[2 &* stride &+ block]), q8_0Lanes(x0, x1, b[2], block, b[2] + blocks * 72))
            acc3.addProduct(SIMD8<Float>(repeating: scales[3 &* stride &+ block]), q8_0Lanes(x0, x1, b[3], block, b[3] + blocks * 72))
        }
        return SIMD4(ggmlSum(acc0), ggmlSum(acc1), ggmlSum(acc2), ggmlSum(acc3))
    }

    /// One Q4_0 row against four activation rows, each block's nibbles unpacked once for all four; each result is
    /// computed exactly as `q4_0` computes it alone.
    public static func q4_0(_ a: UnsafeRawPointer, _ b: FourRows, blocks: Int) -> SIMD4<Float> {
        withScratch(blocks) { small(.q4_0, a, b, blocks: blocks, scratch: $0) }
    }

    /// Floats of scratch a kernel call over `blocks` blocks needs: at most a four-row prompt tile's combined and
    /// weight scales and its unpacked blocks (`SmallBlockKernels.tile`, 56 · (`blocks` + 8)), or the 512-bit tile's
    /// prepared values and widened scales (`SmallBlockTile512`, 64 · `blocks`).
    static func scratchFloats(blocks: Int) -> Int { 64 * (blocks + 8) }

    static func withScratch<Result>(_ blocks: Int, _ body: (UnsafeMutablePointer<Float>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchFloats(blocks: blocks)) { body($0.baseAddress!) }
    }

    /// Q4_0 · Q8_0, scalar: the weight's 4-bit values are offset by 8.
    public static func q4_0Scalar(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for block in 0..<blocks {
            var dot: Int32 = 0
            for j in 0..<16 {
                let byte = a.load(fromByteOffset: block * 18 + 2 + j, as: UInt8.self)
                dot += Int32(Int(byte & 0x0F) - 8) * Int32(Int8(bitPattern: b.load(fromByteOffset: block * 34 + 2 + j, as: UInt8.self)))
                dot += Int32(Int(byte >> 4) - 8) * Int32(Int8(bitPattern: b.load(fromByteOffset: block * 34 + 2 + j + 16, as: UInt8.self)))
            }
            sum += Dequantize.half(a, block * 18) * Dequantize.half(b, block * 34) * Float(dot)
        }
        return sum
    }

    /// Q4_0 weights · widened Q8_0 activations: the nibbles, less 8, as the other 32-value block types (`small`;
    /// ggml's `vec_dot_q4_0_q8_0`; llama.cpp repacks Q4_0 matrices of a multiple of 8 rows on x86 and sums those
    /// otherwise).
    public static func q4_0(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        withScratch(blocks) { small(.q4_0, a, b, blocks: blocks, scratch: $0) }
    }
}

/// Four activation rows (four tokens) that one weight row meets at once, `stride` bytes apart.
public struct FourRows {
    public let first: UnsafeRawPointer
    public let stride: Int

    public init(_ first: UnsafeRawPointer, stride: Int) {
        self.first = first
        self.stride = stride
    }

    @inline(__always)
    public subscript(_ index: Int) -> UnsafeRawPointer { first + index * stride }
}

/// `count` activation rows `stride` bytes apart.
public struct TokenRows {
    public let first: UnsafeRawPointer
    public let stride: Int
    public let count: Int

    public init(_ first: UnsafeRawPointer, stride: Int, count: Int) {
        self.first = first
        self.stride = stride
        self.count = count
    }

    @inline(__always)
    public subscript(_ index: Int) -> UnsafeRawPointer { first + index * stride }
}
