/// Q2_K and Q3_K weights against Q8_K activations. Both hold 256 values in 16 groups of 16, two bits each in the
/// same interleaved layout (`twoBits`); Q2_K gives each group a 4-bit scale and a 4-bit minimum, Q3_K a
/// signed 6-bit scale and a third bit per value (when clear, the value is 4 lower). The SIMD forms unpack a group
/// into int16 lanes, multiply by its scale and meet the int16 activations in `vpmaddwd`.
extension KQuantDot {
    /// Q3_K's signed scale of group `g` (0..<16), from its 12 packed bytes at `scales`.
    @inline(__always)
    static func q3KScale(_ w: UnsafeRawPointer, _ scales: Int, _ g: Int) -> Int32 {
        let low = (w.load(fromByteOffset: scales + g % 8, as: UInt8.self) >> UInt8(4 * (g / 8))) & 0x0F
        let high = (w.load(fromByteOffset: scales + 8 + g % 4, as: UInt8.self) >> UInt8(2 * (g / 4))) & 3
        return Int32(low | high << 4) - 32
    }

    /// Value `e` (0..<256) of a block's two-bit field starting at `quants`: two halves of 128, each four shifts of
    /// 32 bytes' pairs.
    @inline(__always)
    static func twoBits(_ w: UnsafeRawPointer, _ quants: Int, _ e: Int) -> Int32 {
        Int32((w.load(fromByteOffset: quants + (e / 128) * 32 + e % 32, as: UInt8.self) >> UInt8(2 * ((e % 128) / 32))) & 3)
    }

    /// The two-bit values of group `g` as int16 lanes.
    @inline(__always)
    static func twoBitLanes(_ w: UnsafeRawPointer, _ quants: Int, _ g: Int) -> SIMD16<Int16> {
        (loadInt16Lanes(w, quants &+ (g / 8) &* 32 &+ (g % 2) &* 16, signed: false) &>> Int16(2 * ((g % 8) / 2))) & 3
    }

    /// Q2_K · Q8_K, scalar.
    public static func q2KScalar(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var total: Float = 0
        for block in 0..<blocks {
            let wb = block * 84, yb = block * q8KBlockBytes
            var dot: Int32 = 0, minimums: Int32 = 0
            for g in 0..<16 {
                let packed = Int32(w.load(fromByteOffset: wb + g, as: UInt8.self))
                var sum: Int32 = 0
                for i in 0..<16 { sum += twoBits(w, wb + 16, g * 16 + i) * q8K(y, yb, g * 16 + i) }
                dot += (packed & 0x0F) * sum
                minimums += (packed >> 4) * q8KSum(y, yb, g)
            }
            let dy = y.loadUnaligned(fromByteOffset: yb, as: Float.self)
            total += Dequantize.half(w, wb + 80) * dy * Float(dot) - Dequantize.half(w, wb + 82) * dy * Float(minimums)
        }
        return total
    }

    /// Q2_K weights · widened Q8_K activations.
    public static func q2K(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var accumulator = SIMD8<Float>(), minimums: Float = 0
        let scalesBase = y + blocks * 512, sumsBase = y + blocks * 516
        for block in 0..<blocks {
            let wb = block &* 84, yb = block &* 512
            var sums = SIMD8<Int32>(), minimumDot: Int32 = 0
            for g in 0..<16 {
                let packed = Int32(w.load(fromByteOffset: wb &+ g, as: UInt8.self))
                let scaled = twoBitLanes(w, wb &+ 16, g) &* SIMD16<Int16>(repeating: Int16(packed & 0x0F))
                sums &+= multiplyAddPairs(scaled, y.loadUnaligned(fromByteOffset: yb &+ g &* 32, as: SIMD16<Int16>.self))
                minimumDot &+= (packed >> 4) &* sumsBase.loadUnaligned(fromByteOffset: (block &* 16 &+ g) &* 4, as: Int32.self)
            }
            let dy = scalesBase.loadUnaligned(fromByteOffset: block &* 4, as: Float.self)
            accumulator.addProduct(floatLanes(sums), SIMD8<Float>(repeating: Dequantize.half(w, wb &+ 80) * dy))
            minimums += Dequantize.half(w, wb &+ 82) * dy * Float(minimumDot)
        }
        return accumulator.sum() - minimums
    }

    /// Q3_K · Q8_K, scalar.
    public static func q3KScalar(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var total: Float = 0
        for block in 0..<blocks {
            let wb = block * 110, yb = block * q8KBlockBytes
            var dot: Int32 = 0
            for g in 0..<16 {
                var sum: Int32 = 0
                for i in 0..<16 {
                    let e = g * 16 + i
                    let set = Int32((w.load(fromByteOffset: wb + e % 32, as: UInt8.self) >> UInt8(e / 32)) & 1)
                    sum += (twoBits(w, wb + 32, e) - (set == 0 ? 4 : 0)) * q8K(y, yb, e)
                }
                dot += q3KScale(w, wb + 96, g) * sum
            }
            total += Dequantize.half(w, wb + 108) * y.loadUnaligned(fromByteOffset: yb, as: Float.self) * Float(dot)
        }
        return total
    }

    /// Q3_K weights · widened Q8_K activations.
    public static func q3K(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var accumulator = SIMD8<Float>()
        let scalesBase = y + blocks * 512
        let four = SIMD16<Int16>(repeating: 4)
        for block in 0..<blocks {
            let wb = block &* 110, yb = block &* 512
            var sums = SIMD8<Int32>()
            let masks = (loadInt16Lanes(w, wb, signed: false), loadInt16Lanes(w, wb &+ 16, signed: false))
            for g in 0..<16 {
                let mask = g % 2 == 0 ? masks.0 : masks.1
                let values = twoBitLanes(w, wb &+ 32, g) &- four &+ (((mask &>> Int16(g / 2)) & 1) &<< 2)
                let scaled = values &* SIMD16<Int16>(repeating: Int16(q3KScale(w, wb + 96, g)))
                sums &+= multiplyAddPairs(scaled, y.loadUnaligned(fromByteOffset: yb &+ g &* 32, as: SIMD16<Int16>.self))
            }
            let dy = scalesBase.loadUnaligned(fromByteOffset: block &* 4, as: Float.self)
            accumulator.addProduct(floatLanes(sums), SIMD8<Float>(repeating: Dequantize.half(w, wb &+ 108) * dy))
        }
        return accumulator.sum()
    }
}

enum Q2KKernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        KQuantDot.q2K(w, x, blocks: columns / 256)
    }
}

enum Q3KKernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        KQuantDot.q3K(w, x, blocks: columns / 256)
    }
}
