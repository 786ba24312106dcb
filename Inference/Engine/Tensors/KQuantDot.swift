/// The K-quant dot products: a Q4_K or Q6_K weight row with an activation row quantised to Q8_K (256 values, an
/// f32 scale and the sums of each 16 values), as ggml computes them. Each has a scalar form the SIMD form is
/// tested against.
public enum KQuantDot {
    /// Bytes of one Q8_K block: f32 scale, 256 int8 values, 16 int16 partial sums.
    public static let q8KBlockBytes = 292

    /// Quantises `values` (a whole number of 256-blocks) to Q8_K: the value of largest magnitude maps to -127.
    /// Blocks of finite values go sixteen values at a time (`lanes`, which the tests turn off to compare), the others
    /// one by one.
    public static func quantizeQ8_K(_ values: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer, lanes: Bool = true) {
        precondition(values.count % 256 == 0 && out.count >= values.count / 256 * q8KBlockBytes)
        for block in 0..<(values.count / 256) {
            let x = values.baseAddress! + block * 256
            let base = block * q8KBlockBytes
            // the scale from the first value of the largest magnitude, as the scalar scan finds it; a subnormal
            // maximum makes the inverse infinite, and those products go one by one, to ggml's -128
            if lanes, LaneQuantizer.allFinite(x, count: 256), case let amax = LaneQuantizer.maximumMagnitude(x, count: 256), amax > 0,
               let first = (0..<256).first(where: { abs(x[$0]) == amax }), case let inverse = -127 / x[first], inverse.isFinite {
                for group in 0..<16 {
                    let q = LaneQuantizer.rounded(x + group * 16, inverse)
                    LaneQuantizer.store(q, out, at: base + 4 + group * 16)
                    out.storeBytes(of: Int16(truncatingIfNeeded: q.wrappedSum()), toByteOffset: base + 260 + group * 2, as: Int16.self)
                }
                out.storeBytes(of: 1 / inverse, toByteOffset: base, as: Float.self)
                continue
            }
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
                    let q = Saturating.int8(inverse * x[j])
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
        scaledMinimumScalar(w, y, blocks: blocks, blockBytes: 144, highBits: nil)
    }

    /// Q4_K (or, with `highBits`, Q5_K: a fifth bit per value, sub-block `s`'s in bit `s` of the 32 bytes there) ·
    /// Q8_K, scalar.
    static func scaledMinimumScalar(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int, blockBytes: Int, highBits: Int?) -> Float {
        let quants = highBits == nil ? 16 : 48
        var total: Float = 0
        for block in 0..<blocks {
            let wb = block * blockBytes, yb = block * q8KBlockBytes
            var dot: Int32 = 0, minimums: Int32 = 0
            for sub in 0..<8 {
                let (scale, minimum) = q4KScaleMin(w, wb + 4, sub)
                minimums += minimum * (q8KSum(y, yb, sub * 2) + q8KSum(y, yb, sub * 2 + 1))
                var sum: Int32 = 0
                for l in 0..<32 {
                    let byte = w.load(fromByteOffset: wb + quants + (sub / 2) * 32 + l, as: UInt8.self)
                    let high = highBits.map { Int32((w.load(fromByteOffset: wb + $0 + l, as: UInt8.self) >> UInt8(sub)) & 1) } ?? 0
                    let q = Int32(sub % 2 == 0 ? byte & 0x0F : byte >> 4) | high << 4
                    sum += q * q8K(y, yb, sub * 32 + l)
                }
                dot += scale * sum
            }
            let dy = y.loadUnaligned(fromByteOffset: yb, as: Float.self)
            total += Dequantize.half(w, wb) * dy * Float(dot) - Dequantize.half(w, wb + 2) * dy * Float(minimums)
        }
        return total
    }

    /// Bytes of `blocks` Q8_K activation blocks in the widened form: 256 int16 values per block, then one f32 scale
    /// per block, then the 16 partial sums of each block as int32; then for the x86 kernels the 256 int8 values of
    /// each block and its 16 partial sums as int16 (ggml's `bsums`).
    public static func widenedQ8_KBytes(blocks: Int) -> Int { blocks * (512 + 4 + 64 + 256 + 32) }

    /// Quantises `values` as `quantizeQ8_K` does, stored widened (see `QuantizedDot.widenQ8_0` for why).
    public static func widenQ8_K(_ values: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawBufferPointer) {
        let blocks = values.count / 256
        precondition(values.count % 256 == 0 && out.count >= widenedQ8_KBytes(blocks: blocks))
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: q8KBlockBytes) { block in
            let bytes = UnsafeMutableRawBufferPointer(block)
            for index in 0..<blocks {
                quantizeQ8_K(UnsafeBufferPointer(rebasing: values[(index * 256)..<(index * 256 + 256)]), into: bytes)
                for group in 0..<16 {
                    let q = bytes.baseAddress! + 4 + group * 16
                    out.storeBytes(of: loadInt16Lanes(q, 0, signed: true), toByteOffset: index * 512 + group * 32, as: SIMD16<Int16>.self)
                    out.storeBytes(of: q.loadUnaligned(as: SIMD16<Int8>.self), toByteOffset: blocks * 580 + index * 256 + group * 16, as: SIMD16<Int8>.self)
                }
                out.storeBytes(of: bytes.loadUnaligned(as: Float.self), toByteOffset: blocks * 512 + index * 4, as: Float.self)
                for group in 0..<16 {
                    let sum = Int32(bytes.loadUnaligned(fromByteOffset: 260 + group * 2, as: Int16.self))
                    out.storeBytes(of: sum, toByteOffset: blocks * 516 + (index * 16 + group) * 4, as: Int32.self)
                    out.storeBytes(of: Int16(sum), toByteOffset: blocks * 836 + (index * 16 + group) * 2, as: Int16.self)
                }
            }
        }
    }

    /// Q4_K weights · widened Q8_K activations: each sub-block's nibbles times its 6-bit scale (at most 945, an int16)
    /// meet the int16 activations in `vpmaddwd`, summed over the block into one exact integer, as are the minimums
    /// times the activations' partial sums; each is scaled and added in float, and the minimums' total taken off at
    /// the end. That is the order of ggml's interleaved kernel (`gemv_q4_K_8x8_q8_K`), which llama.cpp uses on x86
    /// for every Q4_K matrix of a multiple of 8 rows.
    public static func q4K(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var total: Float = 0, minimums: Float = 0
        let scalesBase = y + blocks * 512, sumsBase = y + blocks * 516
        for block in 0..<blocks {
            let wb = block &* 144, yb = block &* 512
            var sums = SIMD8<Int32>(), minimumDot: Int32 = 0
            for pair in 0..<4 {
                let (s0, s1, min0, min1) = q4KPairScales(w, wb, pair)
                for part in 0..<2 {
                    let packed = loadInt16Lanes(w, wb &+ 16 &+ pair &* 32 &+ part &* 16, signed: false)
                    let y0 = y.loadUnaligned(fromByteOffset: yb &+ pair &* 128 &+ part &* 32, as: SIMD16<Int16>.self)
                    let y1 = y.loadUnaligned(fromByteOffset: yb &+ pair &* 128 &+ 64 &+ part &* 32, as: SIMD16<Int16>.self)
                    sums &+= multiplyAddPairs((packed & 0x0F) &* s0, y0) &+ multiplyAddPairs((packed &>> 4) &* s1, y1)
                }
                minimumDot &+= q4KMinimums(min0, min1, sumsBase, block, pair)
            }
            let dy = scalesBase.loadUnaligned(fromByteOffset: block &* 4, as: Float.self)
            total = total.addingProduct(Float(sums.wrappedSum()), Dequantize.half(w, wb) * dy)
            minimums = minimums.addingProduct(Float(minimumDot), Dequantize.half(w, wb + 2) * dy)
        }
        return total - minimums
    }

    /// The scales of a pair of sub-blocks of the block at `wb`, spread over lanes, and their minimums.
    @inline(__always)
    static func q4KPairScales(_ w: UnsafeRawPointer, _ wb: Int, _ pair: Int) -> (SIMD16<Int16>, SIMD16<Int16>, Int32, Int32) {
        let (scale0, min0) = q4KScaleMin(w, wb + 4, pair * 2)
        let (scale1, min1) = q4KScaleMin(w, wb + 4, pair * 2 + 1)
        return (SIMD16<Int16>(repeating: Int16(scale0)), SIMD16<Int16>(repeating: Int16(scale1)), min0, min1)
    }

    /// A pair of sub-blocks' minimums times the activations' partial sums over them.
    @inline(__always)
    static func q4KMinimums(_ min0: Int32, _ min1: Int32, _ sumsBase: UnsafeRawPointer, _ block: Int, _ pair: Int) -> Int32 {
        let groupSums = sumsBase + (block &* 16 &+ pair &* 4) &* 4
        return min0 &* (groupSums.loadUnaligned(as: Int32.self) &+ groupSums.loadUnaligned(fromByteOffset: 4, as: Int32.self))
            &+ min1 &* (groupSums.loadUnaligned(fromByteOffset: 8, as: Int32.self) &+ groupSums.loadUnaligned(fromByteOffset: 12, as: Int32.self))
    }

    /// One Q4_K row against four widened Q8_K rows (four tokens), each weight block unpacked and scaled once for the
    /// four; each result is computed exactly as `q4K` computes it alone.
    public static func q4K(_ w: UnsafeRawPointer, _ y: FourRows, blocks: Int) -> SIMD4<Float> {
        var totals = SIMD4<Float>(), minimums = SIMD4<Float>()
        for block in 0..<blocks {
            let wb = block &* 144, yb = block &* 512
            var sums0 = SIMD8<Int32>(), sums1 = SIMD8<Int32>(), sums2 = SIMD8<Int32>(), sums3 = SIMD8<Int32>()
            var minimumDots = SIMD4<Int32>()
            for pair in 0..<4 {
                let (s0, s1, min0, min1) = q4KPairScales(w, wb, pair)
                for part in 0..<2 {
                    let packed = loadInt16Lanes(w, wb &+ 16 &+ pair &* 32 &+ part &* 16, signed: false)
                    let low = (packed & 0x0F) &* s0, high = (packed &>> 4) &* s1
                    let offset = yb &+ pair &* 128 &+ part &* 32
                    @inline(__always) func step(_ row: UnsafeRawPointer) -> SIMD8<Int32> {
                        multiplyAddPairs(low, row.loadUnaligned(fromByteOffset: offset, as: SIMD16<Int16>.self))
                            &+ multiplyAddPairs(high, row.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD16<Int16>.self))
                    }
                    sums0 &+= step(y[0])
                    sums1 &+= step(y[1])
                    sums2 &+= step(y[2])
                    sums3 &+= step(y[3])
                }
                for i in 0..<4 { minimumDots[i] &+= q4KMinimums(min0, min1, y[i] + blocks * 516, block, pair) }
            }
            let d = Dequantize.half(w, wb), dmin = Dequantize.half(w, wb + 2)
            var dy = SIMD4<Float>()
            for i in 0..<4 { dy[i] = y[i].loadUnaligned(fromByteOffset: blocks * 512 + block &* 4, as: Float.self) }
            let integers = SIMD4<Float>(Float(sums0.wrappedSum()), Float(sums1.wrappedSum()), Float(sums2.wrappedSum()), Float(sums3.wrappedSum()))
            totals.addProduct(integers, d * dy)
            var minimumIntegers = SIMD4<Float>()
            for i in 0..<4 { minimumIntegers[i] = Float(minimumDots[i]) }
            minimums.addProduct(minimumIntegers, dmin * dy)
        }
        return totals - minimums
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

    /// Q6_K weights · widened Q8_K activations, as ggml's AVX2 kernel sums them: the six-bit values, unsigned, times
    /// their int8 scale (at most 8,001 in magnitude, an int16) meet the int16 activations in `vpmaddwd`; each block
    /// leaves eight exact int32 lanes (`quadSums` of every 32 values), less 32 · Σ scale · Σy over the lane's two
    /// groups of 16 (the offset, from the activations' partial sums), which are scaled and added in float lanes.
    public static func q6K(_ w: UnsafeRawPointer, _ y: UnsafeRawPointer, blocks: Int) -> Float {
        var accumulator = SIMD8<Float>()
        let scalesBase = y + blocks * 512
        for block in 0..<blocks {
            let wb = block &* 210, yb = block &* 512
            var low = SIMD8<Int32>(), high = SIMD8<Int32>()
            for half in 0..<2 {
                low &+= q6KSums(q6KQuarters(w, wb, half, 0), y, yb &+ half &* 256)
                high &+= q6KSums(q6KQuarters(w, wb, half, 1), y, yb &+ (half &* 128 &+ 16) &* 2)
            }
            let lanes = quadSums(low, high) &- q6KOffsets(w, wb, y + blocks * 516, block)
            let dy = scalesBase.loadUnaligned(fromByteOffset: block &* 4, as: Float.self)
            accumulator.addProduct(SIMD8<Float>(repeating: dy * Dequantize.half(w, wb + 208)), floatLanes(lanes))
        }
        return ggmlSum(accumulator)
    }

    /// The unsigned offset's share in each of a Q6_K block's eight lanes: 32 · (scale · Σy) over groups 2k and 2k+1.
    @inline(__always)
    static func q6KOffsets(_ w: UnsafeRawPointer, _ wb: Int, _ sums: UnsafeRawPointer, _ block: Int) -> SIMD8<Int32> {
        let groupSums = sums.loadUnaligned(fromByteOffset: block &* 64, as: SIMD16<Int32>.self)
        var scales = SIMD16<Int32>()
        for g in 0..<16 { scales[g] = Int32(w.load(fromByteOffset: wb &+ 192 &+ g, as: Int8.self)) }
        let products = groupSums &* scales
        return (products.evenHalf &+ products.oddHalf) &<< 5
    }

    /// 16 six-bit values times their sub-block's int8 scale.
    @inline(__always)
    static func q6KScaled(_ unsigned: SIMD16<Int16>, _ w: UnsafeRawPointer, _ scale: Int) -> SIMD16<Int16> {
        unsigned &* SIMD16<Int16>(repeating: Int16(w.load(fromByteOffset: scale, as: Int8.self)))
    }

    /// The four quarters of 16 lanes of a Q6_K half-block: the unsigned 6-bit values times their scales, values
    /// 0-15 (`part` 0) or 16-31 (`part` 1) of each 32.
    @inline(__always)
    static func q6KQuarters(_ w: UnsafeRawPointer, _ wb: Int, _ half: Int, _ part: Int) -> (SIMD16<Int16>, SIMD16<Int16>, SIMD16<Int16>, SIMD16<Int16>) {
        let offset = part &* 16
        let low0 = loadInt16Lanes(w, wb &+ half &* 64 &+ offset, signed: false)
        let low1 = loadInt16Lanes(w, wb &+ half &* 64 &+ 32 &+ offset, signed: false)
        let high = loadInt16Lanes(w, wb &+ 128 &+ half &* 32 &+ offset, signed: false)
        let scales = wb &+ 192 &+ half &* 8 &+ part
        return (q6KScaled((low0 & 0x0F) | ((high & 3) &<< 4), w, scales),
                q6KScaled((low1 & 0x0F) | (((high &>> 2) & 3) &<< 4), w, scales &+ 2),
                q6KScaled((low0 &>> 4) | (((high &>> 4) & 3) &<< 4), w, scales &+ 4),
                q6KScaled((low1 &>> 4) | (((high &>> 6) & 3) &<< 4), w, scales &+ 6))
    }

    /// A half-block part's four scaled quarters times one token's widened activations.
    @inline(__always)
    static func q6KSums(_ q: (SIMD16<Int16>, SIMD16<Int16>, SIMD16<Int16>, SIMD16<Int16>), _ y: UnsafeRawPointer, _ values: Int) -> SIMD8<Int32> {
        multiplyAddPairs(q.0, y.loadUnaligned(fromByteOffset: values, as: SIMD16<Int16>.self))
            &+ multiplyAddPairs(q.1, y.loadUnaligned(fromByteOffset: values &+ 64, as: SIMD16<Int16>.self))
            &+ multiplyAddPairs(q.2, y.loadUnaligned(fromByteOffset: values &+ 128, as: SIMD16<Int16>.self))
            &+ multiplyAddPairs(q.3, y.loadUnaligned(fromByteOffset: values &+ 192, as: SIMD16<Int16>.self))
    }

    /// One Q6_K row against four widened Q8_K rows, each weight block unpacked and scaled once for the four; each
    /// result is computed exactly as `q6K` computes it alone.
    public static func q6K(_ w: UnsafeRawPointer, _ y: FourRows, blocks: Int) -> SIMD4<Float> {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        for block in 0..<blocks {
            let wb = block &* 210, yb = block &* 512
            var low0 = SIMD8<Int32>(), low1 = SIMD8<Int32>(), low2 = SIMD8<Int32>(), low3 = SIMD8<Int32>()
            var high0 = SIMD8<Int32>(), high1 = SIMD8<Int32>(), high2 = SIMD8<Int32>(), high3 = SIMD8<Int32>()
            for half in 0..<2 {
                let first = q6KQuarters(w, wb, half, 0), second = q6KQuarters(w, wb, half, 1)
                let values = yb &+ half &* 256, later = yb &+ (half &* 128 &+ 16) &* 2
                low0 &+= q6KSums(first, y[0], values); high0 &+= q6KSums(second, y[0], later)
                low1 &+= q6KSums(first, y[1], values); high1 &+= q6KSums(second, y[1], later)
                low2 &+= q6KSums(first, y[2], values); high2 &+= q6KSums(second, y[2], later)
                low3 &+= q6KSums(first, y[3], values); high3 &+= q6KSums(second, y[3], later)
            }
            let d = Dequantize.half(w, wb + 208)
            @inline(__always) func scale(_ i: Int) -> SIMD8<Float> {
                SIMD8(repeating: y[i].loadUnaligned(fromByteOffset: blocks * 512 + block &* 4, as: Float.self) * d)
            }
            @inline(__always) func lanes(_ low: SIMD8<Int32>, _ high: SIMD8<Int32>, _ i: Int) -> SIMD8<Float> {
                floatLanes(quadSums(low, high) &- q6KOffsets(w, wb, y[i] + blocks * 516, block))
            }
            acc0.addProduct(scale(0), lanes(low0, high0, 0))
            acc1.addProduct(scale(1), lanes(low1, high1, 1))
            acc2.addProduct(scale(2), lanes(low2, high2, 2))
            acc3.addProduct(scale(3), lanes(low3, high3, 3))
        }
        return SIMD4(ggmlSum(acc0), ggmlSum(acc1), ggmlSum(acc2), ggmlSum(acc3))
    }
}
