/// Q4_0, Q5_0, Q4_1 and Q5_1 weights (4 or 5 bits per value, an f16 scale per block of 32, and for Q4_1 and Q5_1 an f16
/// minimum) against Q8_0 activations. ggml pairs Q4_1 and Q5_1 with Q8_1, which is Q8_0 with each block's `s` (the
/// unrounded scale times Σy, as f16) kept; the widened Q8_0 form keeps that `s` too, so the minimum's share, Σ m · s,
/// is ggml's to the bit. The SIMD forms unpack a block into int16 lanes and meet the widened activations in
/// `vpmaddwd`.
extension QuantizedDot {
    /// The layout of such a block: its size, where the fifth bits (a 32-bit word) and the nibbles start, whether an
    /// f16 minimum follows the scale, and the value the stored bits are centred on.
    struct SmallBlock {
        var bytes: Int
        var highBits: Int?
        var quants: Int
        var hasMinimum: Bool
        var centre: Int16

        static let q4_0 = SmallBlock(bytes: 18, highBits: nil, quants: 2, hasMinimum: false, centre: 8)
        static let q5_0 = SmallBlock(bytes: 22, highBits: 2, quants: 6, hasMinimum: false, centre: 16)
        static let q4_1 = SmallBlock(bytes: 20, highBits: nil, quants: 4, hasMinimum: true, centre: 0)
        static let q5_1 = SmallBlock(bytes: 24, highBits: 4, quants: 8, hasMinimum: true, centre: 0)
    }

    /// Quantises `values` (whole blocks of 32) to Q8_1 as ggml does: Q8_0's scale and values, then `s`, the unrounded
    /// scale times Σy, as f16. 36 bytes a block: d, s, the 32 values.
    public static func quantizeQ8_1(_ values: UnsafeBufferPointer<Float>) -> [UInt8] {
        let q8_0 = quantizeQ8_0(values)
        var out = [UInt8](repeating: 0, count: values.count / 32 * 36)
        for block in 0..<(values.count / 32) {
            var amax: Float = 0, sum = 0
            for j in 0..<32 {
                amax = max(amax, abs(values[block * 32 + j]))
                sum += Int(Int8(bitPattern: q8_0[block * 34 + 2 + j]))
            }
            let s = Float16(amax / 127 * Float(sum)).bitPattern
            out[block * 36] = q8_0[block * 34]
            out[block * 36 + 1] = q8_0[block * 34 + 1]
            out[block * 36 + 2] = UInt8(s & 0xFF)
            out[block * 36 + 3] = UInt8(s >> 8)
            for j in 0..<32 { out[block * 36 + 4 + j] = q8_0[block * 34 + 2 + j] }
        }
        return out
    }

    /// Value `j` of a block at `base`, centred.
    @inline(__always)
    static func smallValue(_ layout: SmallBlock, _ a: UnsafeRawPointer, _ base: Int, _ j: Int) -> Int32 {
        let high = layout.highBits.map { a.loadUnaligned(fromByteOffset: base + $0, as: UInt32.self).littleEndian } ?? 0
        let byte = a.load(fromByteOffset: base + layout.quants + j % 16, as: UInt8.self)
        return (Int32(j < 16 ? byte & 0x0F : byte >> 4) | Int32((high >> UInt32(j)) & 1) << 4) - Int32(layout.centre)
    }

    /// Q5_0 · Q8_0, scalar.
    public static func q5_0Scalar(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for block in 0..<blocks {
            var dot: Int32 = 0
            for j in 0..<32 {
                dot += smallValue(.q5_0, a, block * 22, j) * Int32(Int8(bitPattern: b.load(fromByteOffset: block * 34 + 2 + j, as: UInt8.self)))
            }
            sum += Dequantize.half(a, block * 22) * Dequantize.half(b, block * 34) * Float(dot)
        }
        return sum
    }

    /// Q4_1 or Q5_1 · Q8_1, scalar, as ggml's reference: d_w · d_y · Σ q·y + m_w · s_y per block.
    static func minimumScalar(_ layout: SmallBlock, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for block in 0..<blocks {
            let base = block * layout.bytes
            var dot: Int32 = 0
            for j in 0..<32 {
                dot += smallValue(layout, a, base, j) * Int32(Int8(bitPattern: b.load(fromByteOffset: block * 36 + 4 + j, as: UInt8.self)))
            }
            sum += Dequantize.half(a, base) * Dequantize.half(b, block * 36) * Float(dot) + Dequantize.half(a, base + 2) * Dequantize.half(b, block * 36 + 2)
        }
        return sum
    }

    /// Q4_1 · Q8_1 (`quantizeQ8_1`), scalar.
    public static func q4_1Scalar(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float { minimumScalar(.q4_1, a, b, blocks: blocks) }
    /// Q5_1 · Q8_1 (`quantizeQ8_1`), scalar.
    public static func q5_1Scalar(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float { minimumScalar(.q5_1, a, b, blocks: blocks) }

    /// One block's 32 centred values as two int16 lane groups (values 0-15 and 16-31).
    @inline(__always)
    static func smallLanes(_ layout: SmallBlock, _ a: UnsafeRawPointer, _ block: Int) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let base = block &* layout.bytes
        let packed = loadInt16Lanes(a, base &+ layout.quants, signed: false)
        var low = packed & 0x0F, high = packed &>> 4
        if let highOffset = layout.highBits {
            let word = SIMD16<UInt32>(repeating: a.loadUnaligned(fromByteOffset: base &+ highOffset, as: UInt32.self).littleEndian)
            let shifts = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
            low |= SIMD16<Int16>(truncatingIfNeeded: ((word &>> shifts) & 1) &<< 4)
            high |= SIMD16<Int16>(truncatingIfNeeded: ((word &>> (shifts &+ 16)) & 1) &<< 4)
        }
        let centre = SIMD16<Int16>(repeating: layout.centre)
        return (low &- centre, high &- centre)
    }

    /// Σ over blocks of the weight minimum · Q8_1's `s` (the activation scale · Σy, f16 as ggml stores it, which
    /// the widened form keeps); nothing for a block without a minimum.
    @inline(__always)
    static func minimumShare(_ layout: SmallBlock, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        guard layout.hasMinimum else { return 0 }
        let sums = b + blocks * 68
        var share: Float = 0
        for block in 0..<blocks {
            share = share.addingProduct(Dequantize.half(a, block * layout.bytes + 2), sums.loadUnaligned(fromByteOffset: block * 4, as: Float.self))
        }
        return share
    }

    /// One block's unpacked values · its widened activations, in ggml's eight lanes (`quadSums`), as floats.
    @inline(__always)
    static func smallSums(_ low: SIMD16<Int16>, _ high: SIMD16<Int16>, _ y: UnsafeRawPointer, _ block: Int) -> SIMD8<Float> {
        floatLanes(quadSums(multiplyAddPairs(low, y.loadUnaligned(fromByteOffset: block &* 64, as: SIMD16<Int16>.self)),
                            multiplyAddPairs(high, y.loadUnaligned(fromByteOffset: block &* 64 &+ 32, as: SIMD16<Int16>.self))))
    }

    /// Q4_0 · widened Q8_0 activations in the order of llama.cpp's interleaved kernels, which it multiplies every
    /// Q4_0 matrix of a multiple of 8 rows with on x86 (`InterleavedQ4_0`): one exact integer per block, fused onto
    /// the sum with the weight scale times the activation scale, block after block.
    static func q4_0Interleaved(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        let activationScales = b + blocks * 64
        var sum: Float = 0
        for block in 0..<blocks {
            let (low, high) = smallLanes(.q4_0, a, block)
            let lanes = quadSums(multiplyAddPairs(low, b.loadUnaligned(fromByteOffset: block &* 64, as: SIMD16<Int16>.self)),
                                 multiplyAddPairs(high, b.loadUnaligned(fromByteOffset: block &* 64 &+ 32, as: SIMD16<Int16>.self)))
            let scale = Dequantize.half(a, block &* 18) * activationScales.loadUnaligned(fromByteOffset: block &* 4, as: Float.self)
            sum = sum.addingProduct(Float(lanes.wrappedSum()), scale)
        }
        return sum
    }

    /// `layout` weights · widened Q8_0 activations, summed in ggml's order: eight int32 lanes per block, each
    /// block's lanes scaled and added in float lanes, the lanes summed at the end, then the minimums' share.
    static func small(_ layout: SmallBlock, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int,
                      scratch scales: UnsafeMutablePointer<Float>) -> Float {
        combineScales(a, stride: layout.bytes, b, blocks: blocks, into: scales)
        var accumulator = SIMD8<Float>()
        for block in 0..<blocks {
            let (low, high) = smallLanes(layout, a, block)
            accumulator.addProduct(smallSums(low, high, b, block), SIMD8<Float>(repeating: scales[block]))
        }
        return ggmlSum(accumulator) + minimumShare(layout, a, b, blocks: blocks)
    }

    /// One `layout` row against four activation rows, each block unpacked once for all four; each result is computed
    /// exactly as `small` computes it alone.
    static func small(_ layout: SmallBlock, _ a: UnsafeRawPointer, _ b: FourRows, blocks: Int,
                      scratch scales: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        let stride = blocks + 8
        for i in 0..<4 { combineScales(a, stride: layout.bytes, b[i], blocks: blocks, into: scales + i * stride) }
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        for block in 0..<blocks {
            let (low, high) = smallLanes(layout, a, block)
            acc0.addProduct(smallSums(low, high, b[0], block), SIMD8<Float>(repeating: scales[block]))
            acc1.addProduct(smallSums(low, high, b[1], block), SIMD8<Float>(repeating: scales[stride &+ block]))
            acc2.addProduct(smallSums(low, high, b[2], block), SIMD8<Float>(repeating: scales[2 &* stride &+ block]))
            acc3.addProduct(smallSums(low, high, b[3], block), SIMD8<Float>(repeating: scales[3 &* stride &+ block]))
        }
        let shares = SIMD4<Float>((0..<4).map { minimumShare(layout, a, b[$0], blocks: blocks) })
        return SIMD4(ggmlSum(acc0), ggmlSum(acc1), ggmlSum(acc2), ggmlSum(acc3)) + shares
    }

    /// Q5_0 weights · widened Q8_0 activations.
    public static func q5_0(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float { withScratch(blocks) { small(.q5_0, a, b, blocks: blocks, scratch: $0) } }
    /// Q4_1 weights · widened Q8_0 activations.
    public static func q4_1(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float { withScratch(blocks) { small(.q4_1, a, b, blocks: blocks, scratch: $0) } }
    /// Q5_1 weights · widened Q8_0 activations.
    public static func q5_1(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float { withScratch(blocks) { small(.q5_1, a, b, blocks: blocks, scratch: $0) } }
    /// Four tokens at once, each exactly as alone.
    public static func q5_0(_ a: UnsafeRawPointer, _ b: FourRows, blocks: Int) -> SIMD4<Float> { withScratch(blocks) { small(.q5_0, a, b, blocks: blocks, scratch: $0) } }
    public static func q4_1(_ a: UnsafeRawPointer, _ b: FourRows, blocks: Int) -> SIMD4<Float> { withScratch(blocks) { small(.q4_1, a, b, blocks: blocks, scratch: $0) } }
    public static func q5_1(_ a: UnsafeRawPointer, _ b: FourRows, blocks: Int) -> SIMD4<Float> { withScratch(blocks) { small(.q5_1, a, b, blocks: blocks, scratch: $0) } }
}

/// The row kernel of a `SmallBlock` type.
protocol SmallBlockKernel: RowKernel {
    static var layout: QuantizedDot.SmallBlock { get }
}

extension SmallBlockKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        QuantizedDot.small(layout, w, x, blocks: columns / 32, scratch: scratch)
    }
    static func dot(_ w: UnsafeRawPointer, _ x: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        QuantizedDot.small(layout, w, x, blocks: columns / 32, scratch: scratch)
    }
}

enum Q4_0Kernel: SmallBlockKernel { static let layout = QuantizedDot.SmallBlock.q4_0 }
enum Q5_0Kernel: SmallBlockKernel { static let layout = QuantizedDot.SmallBlock.q5_0 }
enum Q4_1Kernel: SmallBlockKernel { static let layout = QuantizedDot.SmallBlock.q4_1 }
enum Q5_1Kernel: SmallBlockKernel { static let layout = QuantizedDot.SmallBlock.q5_1 }
