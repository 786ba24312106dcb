/// Q5_K weights against Q8_K activations: Q4_K's layout (8 sub-blocks of 32 with 6-bit scales and minimums) with a
/// fifth bit per value, sub-block `s`'s in bit `s` of the 32 bytes of `qh`. The SIMD form multiplies each
/// sub-block's values by its scale (at most 31 · 63, an int16) and meets the int16 activations in `vpmaddwd`.
extension KQuantDot {
    /// Q5_K · Q8_K, scalar.
    public static func q5KScalar(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        scaledMinimumScalar(w, y, blocks: blocks, blockBytes: 176, highBits: 16)
    }

    /// Q5_K weights · widened Q8_K activations.
    public static func q5K(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var accumulator = SIMD8<Float>(), minimums: Float = 0
        let scalesBase = y + blocks * 512, sumsBase = y + blocks * 516
        for block in 0..<blocks {
            let wb = block &* 176, yb = block &* 512
            var sums = SIMD8<Int32>(), minimumDot: Int32 = 0
            let highBytes = (loadInt16Lanes(w, wb &+ 16, signed: false), loadInt16Lanes(w, wb &+ 32, signed: false))
            for pair in 0..<4 {
                let (scale0, min0) = q4KScaleMin(w, wb + 4, pair * 2)
                let (scale1, min1) = q4KScaleMin(w, wb + 4, pair * 2 + 1)
                let s0 = SIMD16<Int16>(repeating: Int16(scale0)), s1 = SIMD16<Int16>(repeating: Int16(scale1))
                for part in 0..<2 {
                    let packed = loadInt16Lanes(w, wb &+ 48 &+ pair &* 32 &+ part &* 16, signed: false)
                    let high = part == 0 ? highBytes.0 : highBytes.1
                    let even = (packed & 0x0F) | (((high &>> Int16(pair * 2)) & 1) &<< 4)
                    let odd = (packed &>> 4) | (((high &>> Int16(pair * 2 + 1)) & 1) &<< 4)
                    let y0 = y.loadUnaligned(fromByteOffset: yb &+ pair &* 128 &+ part &* 32, as: SIMD16<Int16>.self)
                    let y1 = y.loadUnaligned(fromByteOffset: yb &+ pair &* 128 &+ 64 &+ part &* 32, as: SIMD16<Int16>.self)
                    sums &+= multiplyAddPairs(even &* s0, y0) &+ multiplyAddPairs(odd &* s1, y1)
                }
                minimumDot &+= q4KMinimums(min0, min1, sumsBase, block, pair)
            }
            let dy = scalesBase.loadUnaligned(fromByteOffset: block &* 4, as: Float.self)
            accumulator.addProduct(floatLanes(sums), SIMD8<Float>(repeating: Dequantize.half(w, wb) * dy))
            minimums += Dequantize.half(w, wb + 2) * dy * Float(minimumDot)
        }
        return accumulator.sum() - minimums
    }
}

enum Q5KKernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        KQuantDot.q5K(w, x, blocks: columns / 256)
    }
}
