/// The K-quant dot products: a Q4_K or Q6_K weight row with an activation row quantised to Q8_K (256 values, an
/// f32 scale and the sums of each 16 values), as ggml computes them. Each has a scalar form the SIMD form is
/// tested against.
public enum KQuantDot {
    /// Bytes of one Q8_K block: f32 scale, 256 int8 values, 16 int16 partial sums.
    public static let q8KBlockBytes = 292

    /// Quantises `values` (a whole number of 256-blocks) to Q8_K: the value of largest magnitude maps to -127.
    public static func quantizeQ8_K(_ values: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        precondition(values.count % 256 == 0 && out.count >= values.count / 256 * q8KBlockBytes)
        for block in 0..<(values.count / 256) {
            let x = values.baseAddress! + block * 256
            let base = block * q8KBlockBytes
            var amax: Float = 0, signedMax: Float = 0
            for j in 0..<256 where abs(x[j]) > amax { amax = abs(x[j]); signedMax = x[j] }
            guard amax > 0 else {
                out.storeBytes(of: Float(0), toByteOffset: base, as: Float.self)
                for j in 4..<q8KBlockBytes { out[base + j] = 0 }
                continue
            }
            let inverse = -127 / signedMax
            for group in 0..<16 {
                var sum: Int16 = 0
                for j in group * 16..<(group * 16 + 16) {
                    let q = Int8(min(127, Int((inverse * x[j]).rounded(.toNearestOrEven))))
                    out[base + 4 + j] = UInt8(bitPattern: q)
                    sum += Int16(q)
                }
                out.storeBytes(of: sum, toByteOffset: base + 260 + group * 2, as: Int16.self)
            }
            out.storeBytes(of: 1 / inverse, toByteOffset: base, as: Float.self)
        }
    }

    /// The 6-bit scale and minimum of sub-block `j` (0..<8) of a Q4_K block whose scales start at `scales`.
    @inline(__always)
    static func q4KScaleMin(_ w: UnsafeRawPointer, _ scales: Int, _ j: Int) -> (Int32, Int32) {
        let low = Int32(w.load(fromByteOffset: scales + j, as: UInt8.self))
        let high = Int32(w.load(fromByteOffset: scales + j + 4, as: UInt8.self))
        if j < 4 { return (low & 63, high & 63) }
        let before = Int32(w.load(fromByteOffset: scales + j - 4, as: UInt8.self))
        return ((high & 0x0F) | ((before >> 6) << 4), (high >> 4) | ((low >> 6) << 4))
    }

    @inline(__always)
    static func q8K(_ y: UnsafeRawPointer, _ base: Int, _ j: Int) -> Int32 {
        Int32(y.load(fromByteOffset: base + 4 + j, as: Int8.self))
    }

    @inline(__always)
    static func q8KSum(_ y: UnsafeRawPointer, _ base: Int, _ group: Int) -> Int32 {
        Int32(y.loadUnaligned(fromByteOffset: base + 260 + group * 2, as: Int16.self))
    }

    /// Q4_K · Q8_K, scalar.
    public static func q4KScalar(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var total: Float = 0
        for block in 0..<blocks {
            let wb = block * 144, yb = block * q8KBlockBytes
            var dot: Int32 = 0, minimums: Int32 = 0
            for sub in 0..<8 {
                let (scale, minimum) = q4KScaleMin(w, wb + 4, sub)
                minimums += minimum * (q8KSum(y, yb, sub * 2) + q8KSum(y, yb, sub * 2 + 1))
                var sum: Int32 = 0
                for l in 0..<32 {
                    let byte = w.load(fromByteOffset: wb + 16 + (sub / 2) * 32 + l, as: UInt8.self)
                    let q = Int32(sub % 2 == 0 ? byte & 0x0F : byte >> 4)
                    sum += q * q8K(y, yb, sub * 32 + l)
                }
                dot += scale * sum
            }
            let dy = y.loadUnaligned(fromByteOffset: yb, as: Float.self)
            total += Dequantize.half(w, wb) * dy * Float(dot) - Dequantize.half(w, wb + 2) * dy * Float(minimums)
        }
        return total
    }

    /// Q4_K · Q8_K, 16 lanes at a time.
    public static func q4K(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var total: Float = 0
        for block in 0..<blocks {
            let wb = block * 144, yb = block * q8KBlockBytes
            var dot: Int32 = 0, minimums: Int32 = 0
            for pair in 0..<4 {
                var low = SIMD8<Int32>(), high = SIMD8<Int32>()
                for part in 0..<2 {
                    let packed = loadInt16Lanes(w, wb + 16 + pair * 32 + part * 16, signed: false)
                    low &+= multiplyAddPairs(packed & 0x0F, loadInt16Lanes(y, yb + 4 + pair * 64 + part * 16, signed: true))
                    high &+= multiplyAddPairs(packed &>> 4, loadInt16Lanes(y, yb + 36 + pair * 64 + part * 16, signed: true))
                }
                let (scale0, min0) = q4KScaleMin(w, wb + 4, pair * 2)
                let (scale1, min1) = q4KScaleMin(w, wb + 4, pair * 2 + 1)
                dot += scale0 * laneSum(low) + scale1 * laneSum(high)
                minimums += min0 * (q8KSum(y, yb, pair * 4) + q8KSum(y, yb, pair * 4 + 1))
                minimums += min1 * (q8KSum(y, yb, pair * 4 + 2) + q8KSum(y, yb, pair * 4 + 3))
            }
            let dy = y.loadUnaligned(fromByteOffset: yb, as: Float.self)
            total += Dequantize.half(w, wb) * dy * Float(dot) - Dequantize.half(w, wb + 2) * dy * Float(minimums)
        }
        return total
    }

    /// Q6_K · Q8_K, scalar.
    public static func q6KScalar(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var total: Float = 0
        for block in 0..<blocks {
            let wb = block * 210, yb = block * q8KBlockBytes
            var dot: Int32 = 0
            for j in 0..<256 {
                let scale = Int32(w.load(fromByteOffset: wb + 192 + j / 16, as: Int8.self))
                dot += scale * q6K(w, wb, j) * q8K(y, yb, j)
            }
            total += Dequantize.half(w, wb + 208) * y.loadUnaligned(fromByteOffset: yb, as: Float.self) * Float(dot)
        }
        return total
    }

    /// Value `j` (0..<256) of a Q6_K block, -32...31.
    @inline(__always)
    static func q6K(_ w: UnsafeRawPointer, _ wb: Int, _ j: Int) -> Int32 {
        let half = j / 128, quarter = (j % 128) / 32, l = j % 32
        let low = w.load(fromByteOffset: wb + half * 64 + (quarter % 2) * 32 + l, as: UInt8.self)
        let high = w.load(fromByteOffset: wb + 128 + half * 32 + l, as: UInt8.self)
        let nibble = quarter < 2 ? low & 0x0F : low >> 4
        return Int32(nibble | (((high >> (2 * quarter)) & 3) << 4)) - 32
    }

    /// Q6_K · Q8_K, 16 lanes at a time.
    public static func q6K(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var total: Float = 0
        for block in 0..<blocks {
            let wb = block * 210, yb = block * q8KBlockBytes
            var dot: Int32 = 0
            for half in 0..<2 {
                for part in 0..<2 {
                    let offset = part * 16
                    let low0 = loadInt16Lanes(w, wb + half * 64 + offset, signed: false)
                    let low1 = loadInt16Lanes(w, wb + half * 64 + 32 + offset, signed: false)
                    let high = loadInt16Lanes(w, wb + 128 + half * 32 + offset, signed: false)
                    let scales = wb + 192 + half * 8 + part, activations = yb + 4 + half * 128 + offset
                    dot += q6KPart((low0 & 0x0F) | ((high & 3) &<< 4), w, scales, y, activations)
                    dot += q6KPart((low1 & 0x0F) | (((high &>> 2) & 3) &<< 4), w, scales + 2, y, activations + 32)
                    dot += q6KPart((low0 &>> 4) | (((high &>> 4) & 3) &<< 4), w, scales + 4, y, activations + 64)
                    dot += q6KPart((low1 &>> 4) | (((high &>> 6) & 3) &<< 4), w, scales + 6, y, activations + 96)
                }
            }
            total += Dequantize.half(w, wb + 208) * y.loadUnaligned(fromByteOffset: yb, as: Float.self) * Float(dot)
        }
        return total
    }

    /// 16 six-bit values (still offset by 32) times 16 activations, times their sub-block's scale.
    @inline(__always)
    static func q6KPart(_ unsigned: SIMD16<Int16>, _ w: UnsafeRawPointer, _ scale: Int, _ y: UnsafeRawPointer, _ offset: Int) -> Int32 {
        let products = multiplyAddPairs(unsigned &- 32, loadInt16Lanes(y, offset, signed: true))
        return Int32(w.load(fromByteOffset: scale, as: Int8.self)) * laneSum(products)
    }
}
