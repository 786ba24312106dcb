/// Q5_0 weights against Q8_0 activations (ggml's pairing): each value's low four bits in a nibble, its fifth in a
/// 32-bit word per block, centred on 16. The SIMD forms unpack a block into int16 lanes and meet the widened
/// activations in `vpmaddwd`, as the Q4_0 kernel does; the scalar form is the reference they are tested against.
extension QuantizedDot {
    /// Q5_0 · Q8_0, scalar.
    public static func q5_0Scalar(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for block in 0..<blocks {
            let high = a.loadUnaligned(fromByteOffset: block * 22 + 2, as: UInt32.self).littleEndian
            var dot: Int32 = 0
            for j in 0..<16 {
                let byte = a.load(fromByteOffset: block * 22 + 6 + j, as: UInt8.self)
                let low = Int32(byte & 0x0F) | Int32((high >> UInt32(j)) & 1) << 4
                let upper = Int32(byte >> 4) | Int32((high >> UInt32(j + 16)) & 1) << 4
                dot += (low - 16) * Int32(Int8(bitPattern: b.load(fromByteOffset: block * 34 + 2 + j, as: UInt8.self)))
                dot += (upper - 16) * Int32(Int8(bitPattern: b.load(fromByteOffset: block * 34 + 18 + j, as: UInt8.self)))
            }
            sum += Dequantize.half(a, block * 22) * Dequantize.half(b, block * 34) * Float(dot)
        }
        return sum
    }

    /// One block's 32 values, less 16, as two int16 lane groups (values 0-15 and 16-31).
    @inline(__always)
    static func q5_0Lanes(_ a: UnsafeRawPointer, _ block: Int) -> (SIMD16<Int16>, SIMD16<Int16>) {
        let high = SIMD16<UInt32>(repeating: a.loadUnaligned(fromByteOffset: block &* 22 &+ 2, as: UInt32.self).littleEndian)
        let shifts = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let lowBits = SIMD16<Int16>(truncatingIfNeeded: ((high &>> shifts) & 1) &<< 4)
        let highBits = SIMD16<Int16>(truncatingIfNeeded: ((high &>> (shifts &+ 16)) & 1) &<< 4)
        let packed = loadInt16Lanes(a, block &* 22 &+ 6, signed: false)
        let sixteen = SIMD16<Int16>(repeating: 16)
        return (((packed & 0x0F) | lowBits) &- sixteen, ((packed &>> 4) | highBits) &- sixteen)
    }

    /// Q5_0 weights · widened Q8_0 activations.
    public static func q5_0(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchFloats(blocks: blocks)) { q5_0(a, b, blocks: blocks, scratch: $0.baseAddress!) }
    }

    static func q5_0(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int, scratch scales: UnsafeMutablePointer<Float>) -> Float {
        _ = combineScales(a, stride: 22, b, blocks: blocks, into: scales)
        var accumulator = SIMD8<Float>()
        for block in 0..<blocks {
            let (low, high) = q5_0Lanes(a, block)
            let sums = multiplyAddPairs(low, b.loadUnaligned(fromByteOffset: block &* 64, as: SIMD16<Int16>.self))
                &+ multiplyAddPairs(high, b.loadUnaligned(fromByteOffset: block &* 64 &+ 32, as: SIMD16<Int16>.self))
            accumulator.addProduct(floatLanes(sums), SIMD8<Float>(repeating: scales[block]))
        }
        return accumulator.sum()
    }

    /// One Q5_0 row against four activation rows, each block unpacked once for all four; each result is computed
    /// exactly as `q5_0` computes it alone.
    public static func q5_0(_ a: UnsafeRawPointer, _ b: FourRows, blocks: Int) -> SIMD4<Float> {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchFloats(blocks: blocks)) { q5_0(a, b, blocks: blocks, scratch: $0.baseAddress!) }
    }

    static func q5_0(_ a: UnsafeRawPointer, _ b: FourRows, blocks: Int, scratch scales: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        let stride = blocks + 8
        for i in 0..<4 { _ = combineScales(a, stride: 22, b[i], blocks: blocks, into: scales + i * stride) }
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        for block in 0..<blocks {
            let (low, high) = q5_0Lanes(a, block)
            @inline(__always) func sums(_ y: UnsafeRawPointer) -> SIMD8<Float> {
                floatLanes(multiplyAddPairs(low, y.loadUnaligned(fromByteOffset: block &* 64, as: SIMD16<Int16>.self))
                    &+ multiplyAddPairs(high, y.loadUnaligned(fromByteOffset: block &* 64 &+ 32, as: SIMD16<Int16>.self)))
            }
            acc0.addProduct(sums(b[0]), SIMD8<Float>(repeating: scales[block]))
            acc1.addProduct(sums(b[1]), SIMD8<Float>(repeating: scales[stride &+ block]))
            acc2.addProduct(sums(b[2]), SIMD8<Float>(repeating: scales[2 &* stride &+ block]))
            acc3.addProduct(sums(b[3]), SIMD8<Float>(repeating: scales[3 &* stride &+ block]))
        }
        return SIMD4(acc0.sum(), acc1.sum(), acc2.sum(), acc3.sum())
    }
}

enum Q5_0Kernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        QuantizedDot.q5_0(w, x, blocks: columns / 32, scratch: scratch)
    }
    static func dot(_ w: UnsafeRawPointer, _ x: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        QuantizedDot.q5_0(w, x, blocks: columns / 32, scratch: scratch)
    }
}
