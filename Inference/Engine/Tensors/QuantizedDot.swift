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

    /// Quantises `values` into `out`, which holds at least `values.count / 32 * 34` bytes.
    public static func quantizeQ8_0(_ values: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        precondition(values.count % 32 == 0 && out.count >= values.count / 32 * 34, "Q8_0 quantises whole blocks of 32")
        for block in 0..<(values.count / 32) {
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(values[block * 32 + j])) }
            // as ggml's x86 kernel: multiply by 127 / max and round half to even
            let scale = amax / 127
            let inverse: Float = amax == 0 ? 0 : 127 / amax
            let scaleBits = Float16(scale).bitPattern
            out[block * 34] = UInt8(scaleBits & 0xFF)
            out[block * 34 + 1] = UInt8(scaleBits >> 8)
            for j in 0..<32 {
                out[block * 34 + 2 + j] = UInt8(bitPattern: Int8((values[block * 32 + j] * inverse).rounded(.toNearestOrEven)))
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

    /// Q8_0 · Q8_0, 16 lanes at a time: int8 values widened to int16, multiplied with adjacent pairs added into
    /// int32 (`vpmaddwd`); blocks are added in order, as llama.cpp's kernels do, which keeps the result equal to the
    /// scalar form.
    public static func q8_0(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for block in 0..<blocks {
            let base = block * 34 + 2
            let x0 = loadInt16Lanes(a, base, signed: true)
            let x1 = loadInt16Lanes(a, base + 16, signed: true)
            let y0 = loadInt16Lanes(b, base, signed: true)
            let y1 = loadInt16Lanes(b, base + 16, signed: true)
            let dot = laneSum(multiplyAddPairs(x0, y0) &+ multiplyAddPairs(x1, y1))
            sum += Dequantize.half(a, block * 34) * Dequantize.half(b, block * 34) * Float(dot)
        }
        return sum
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

    /// Q4_0 · Q8_0, 16 lanes at a time. A whole block's sum fits in int16 (32 · 8 · 127 < 2¹⁵), so the products
    /// are added in int16 lanes and reduced there; blocks are added in order, as in `q8_0`.
    public static func q4_0(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for block in 0..<blocks {
            let y0 = loadInt16Lanes(b, block &* 34 &+ 2, signed: true)
            let y1 = loadInt16Lanes(b, block &* 34 &+ 18, signed: true)
            let dot = q4_0Block(a, block, y0, y1)
            sum += Dequantize.half(a, block &* 18) * Dequantize.half(b, block &* 34) * Float(dot)
        }
        return sum
    }

    @inline(__always)
    static func q4_0Block(_ a: UnsafeRawPointer, _ block: Int, _ y0: SIMD16<Int16>, _ y1: SIMD16<Int16>) -> Int32 {
        let eight = SIMD16<Int16>(repeating: 8)
        let packed = loadInt16Lanes(a, block &* 18 &+ 2, signed: false)
        return laneSum(((packed & 0x0F) &- eight) &* y0 &+ ((packed &>> 4) &- eight) &* y1)
    }
}
