/// Attention over the f16 cache, with every sum taken in the order llama.cpp's CPU backend takes it for one token
/// (AVX-512 form, without flash attention), whatever the number of tokens in the pass:
/// - each product goes through ggml's `vec_dot_f16`: four 16-lane fused accumulators over 64-value steps, folded
///   pairwise, added across lanes, and any remainder added in double;
/// - the softmax's exponentials and their sum come in blocks of sixteen positions (`VectorExp`).
/// The query meets the keys rounded to f16, the probabilities meet the values rounded to f16.
enum Attention {
    typealias Lanes = SIMD16<Float>

    /// `Σ a[i] · b[i]` over `count` values, f16 `a` against `b` (f16 values held as f32, converted once rather than
    /// for every position), as `vec_dot_f16` sums them.
    @inline(__always)
    static func dot(_ a: UnsafeRawPointer, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let four = quarters(a, b, count: count), two = four.lowHalf + four.highHalf
        var total = Double(two[0] + two[1])
        var index = count / 64 * 64
        while index < count {
            total += Double(Float(a.loadUnaligned(fromByteOffset: index * 2, as: Float16.self)) * b[index])
            index += 1
        }
        return Float(total)
    }

    /// `vec_dot_f16`'s sum of the first `count / 64 · 64` products before its last two additions: the four
    /// accumulators folded, `(0 + 2) + (1 + 3)`, then halved twice (`laneSum`'s first two steps). `key(i)` gives
    /// sixteen key values from `i` on, as f32.
    @inline(__always)
    static func quarters(count: Int, _ b: UnsafePointer<Float>, key: (Int) -> Lanes) -> SIMD4<Float> {
        @inline(__always) func query(_ index: Int) -> Lanes { UnsafeRawPointer(b + index).loadUnaligned(as: Lanes.self) }
        var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes()
        var index = 0
        while index + 64 <= count {
            s0.addProduct(key(index), query(index))
            s1.addProduct(key(index + 16), query(index + 16))
            s2.addProduct(key(index + 32), query(index + 32))
            s3.addProduct(key(index + 48), query(index + 48))
            index += 64
        }
        let folded = (s0 + s2) + (s1 + s3), eight = folded.lowHalf + folded.highHalf
        return eight.lowHalf + eight.highHalf
    }

    /// `quarters` of f16 keys.
    @inline(__always)
    static func quarters(_ a: UnsafeRawPointer, _ b: UnsafePointer<Float>, count: Int) -> SIMD4<Float> {
        quarters(count: count, b) { floatLanes(a.loadUnaligned(fromByteOffset: $0 * 2, as: SIMD16<Float16>.self)) }
    }

    /// `dot` of four keys already in f32 (`count` values each, one after another, `count` a multiple of 64) with
    /// `query`: each position's last two additions taken for the four at once, lane by lane, the same additions
    /// `dot` takes.
    @inline(__always)
    static func fourDots(_ keys: UnsafePointer<Float>, _ query: UnsafePointer<Float>, count: Int) -> SIMD4<Float> {
        @inline(__always) func quarter(_ k: Int) -> SIMD4<Float> {
            let row = UnsafeRawPointer(keys + k * count)
            return quarters(count: count, query) { row.loadUnaligned(fromByteOffset: $0 * 4, as: Lanes.self) }
        }
        let a = quarter(0), b = quarter(1), c = quarter(2), d = quarter(3)
        @inline(__always) func column(_ i: Int) -> SIMD4<Float> { SIMD4(a[i], b[i], c[i], d[i]) }
        return (column(0) + column(2)) + (column(1) + column(3))
    }

    /// Scratch for up to `heads` query heads' attention: their scores over positions, a block of keys in f32, and
    /// the per-lane partial sums of the weighted values (one head at a time).
    struct Scratch {
        let scores: UnsafeMutablePointer<Float>
        /// The queries rounded to f16, held as f32.
        let queries: UnsafeMutablePointer<Float>
        /// Sixteen keys converted once for all the heads.
        let keys: UnsafeMutablePointer<Float>
        /// 64 partial sums (one per lane of `vec_dot_f16`'s four accumulators) of `width` values each.
        let partials: UnsafeMutablePointer<Float>
        /// `width` zeros: the partial sums of a lane no position reaches.
        let zeros: UnsafeMutablePointer<Float>
        let maxima: UnsafeMutablePointer<Float>
        let width: Int, positions: Int, heads: Int

        init(positions: Int, width: Int, heads: Int = 1) {
            scores = .allocate(capacity: heads * positions)
            queries = .allocate(capacity: heads * width)
            keys = .allocate(capacity: 16 * width)
            partials = .allocate(capacity: 64 * width)
            zeros = .allocate(capacity: width)
            zeros.initialize(repeating: 0, count: width)
            maxima = .allocate(capacity: heads)
            self.width = width
            self.positions = positions
            self.heads = heads
        }

        func free() {
            [scores, queries, keys, partials, zeros, maxima].forEach { $0.deallocate() }
        }
    }

    /// `count` query heads of one KV head over the cached positions `first..<length`, each as alone: scores
    /// (already scaled by `scale`), softmax, and the probability-weighted sum of the values into its `width`
    /// outputs. The queries (f32) and the outputs lie `width` apart; `keys` and `values` point at position 0 of the
    /// KV head, `stride` values apart. Each whole block of sixteen keys is converted to f32 once for all the heads.
    static func heads(_ count: Int, queries queryRows: UnsafePointer<Float>, keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>,
                      stride: Int, first: Int, length: Int, scale: Float, scratch: Scratch,
                      into outputs: UnsafeMutablePointer<Float>) {
        let d = scratch.width, n = scratch.positions
        // the softmax runs over blocks of sixteen positions aligned at position 0, as over llama.cpp's cache cells
        let blocks = (first / 16 * 16)..<((length + 15) / 16 * 16)
        precondition(count <= scratch.heads && blocks.upperBound <= n, "the scratch holds the heads and their positions")
        for i in 0..<(count * d) { scratch.queries[i] = Float(Float16(queryRows[i])) }
        for h in 0..<count { scratch.maxima[h] = -.infinity }
        for block in Swift.stride(from: blocks.lowerBound, to: blocks.upperBound, by: 16) {
            guard d % 64 == 0, block >= first, block + 16 <= length else {
                for h in 0..<count { scores(h, block: block, keys: keys, stride: stride, first: first, length: length, scale: scale, scratch: scratch) }
                continue
            }
            for k in 0..<16 {
                let row = UnsafeRawPointer(keys + (block + k) * stride), target = UnsafeMutableRawPointer(scratch.keys + k * d)
                for i in Swift.stride(from: 0, to: d, by: 16) {
                    target.storeBytes(of: floatLanes(row.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<Float16>.self)),
                                      toByteOffset: i * 4, as: Lanes.self)
                }
            }
            for h in 0..<count {
                let scores = scratch.scores + h * n
                var maximum = scratch.maxima[h]
                for quad in 0..<4 {
                    let four = fourDots(scratch.keys + quad * 4 * d, scratch.queries + h * d, count: d) * scale
                    for i in 0..<4 {
                        scores[block + quad * 4 + i] = four[i]
                        maximum = max(maximum, four[i])
                    }
                }
                scratch.maxima[h] = maximum
            }
        }
        for h in 0..<count {
            let scores = scratch.scores + h * n, maximum = scratch.maxima[h]
            var total: Double = 0
            for block in Swift.stride(from: blocks.lowerBound, to: blocks.upperBound, by: 16) {
                let raw = UnsafeMutableRawPointer(scores + block)
                let exponentials = VectorExp.exp(raw.loadUnaligned(as: Lanes.self) - maximum)
                raw.storeBytes(of: exponentials, as: Lanes.self)
                total += Double(VectorExp.laneSum(exponentials))
            }
            let normaliser = Float(1 / total)
            for position in first..<length { scores[position] = Float(Float16(scores[position] * normaliser)) }
            weightedValues(scores, values: values, stride: stride, first: first, length: length, scratch: scratch, into: outputs + h * d)
        }
    }

    /// Head `h`'s scores over one block of sixteen positions, position by position from the f16 keys (a block the
    /// range cuts, or heads whose width is not a multiple of 64); -∞ outside `first..<length`.
    private static func scores(_ h: Int, block: Int, keys: UnsafePointer<Float16>, stride: Int, first: Int, length: Int,
                               scale: Float, scratch: Scratch) {
        let d = scratch.width, scores = scratch.scores + h * scratch.positions, query = UnsafePointer(scratch.queries + h * d)
        var maximum = scratch.maxima[h]
        for position in block..<(block + 16) {
            guard position >= first, position < length else {
                scores[position] = -.infinity
                continue
            }
            scores[position] = dot(UnsafeRawPointer(keys + position * stride), query, count: d) * scale
            maximum = max(maximum, scores[position])
        }
        scratch.maxima[h] = maximum
    }

    /// `out[i] = Σ_p weights[p] · values[p][i]`, each sum as `vec_dot_f16` takes it along the positions of the
    /// transposed value cache: position p feeds lane p mod 64 of its four accumulators. Each lane's partial sums are
    /// taken lane by lane, for 64 output values at a time in registers, over that lane's positions in order (the same
    /// fused chain as position by position, without reading and writing every partial sum at every position), and
    /// the lanes are then added as the kernel adds them. Positions outside `first..<length` weigh zero in llama.cpp,
    /// which leaves every partial sum as it is; they are skipped, and a lane no position reaches (fewer than 64
    /// positions) is read as zeros. (A partial sum is never -0: it starts at +0, and +0 plus a -0 product is +0; so a
    /// missing lane, +0, adds exactly what a cleared one would.)
    static func weightedValues(_ weights: UnsafePointer<Float>, values: UnsafePointer<Float16>, stride: Int,
                                       first: Int, length: Int, scratch: Scratch, into out: UnsafeMutablePointer<Float>) {
        let d = scratch.width, lanes = 64
        let partials = scratch.partials
        let reached = min(lanes, length - first)
        @inline(__always) func value(_ position: Int, _ i: Int) -> Lanes {
            floatLanes(UnsafeRawPointer(values + position * stride).loadUnaligned(fromByteOffset: i * 2, as: SIMD16<Float16>.self))
        }
        @inline(__always) func store(_ sum: Lanes, _ partial: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(partial).storeBytes(of: sum, as: Lanes.self)
        }
        for k in 0..<reached {
            let start = first + k, partial = partials + (start % lanes) * d
            var i = 0
            while i + 64 <= d {
                var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes()
                for position in Swift.stride(from: start, to: length, by: lanes) {
                    let weight = Lanes(repeating: weights[position])
                    s0.addProduct(value(position, i), weight)
                    s1.addProduct(value(position, i + 16), weight)
                    s2.addProduct(value(position, i + 32), weight)
                    s3.addProduct(value(position, i + 48), weight)
                }
                store(s0, partial + i)
                store(s1, partial + i + 16)
                store(s2, partial + i + 32)
                store(s3, partial + i + 48)
                i += 64
            }
            while i + 16 <= d {
                var sum = Lanes()
                for position in Swift.stride(from: start, to: length, by: lanes) { sum.addProduct(value(position, i), Lanes(repeating: weights[position])) }
                store(sum, partial + i)
                i += 16
            }
            while i < d {
                var sum: Float = 0
                for position in Swift.stride(from: start, to: length, by: lanes) {
                    sum = sum.addingProduct(weights[position], Float(UnsafeRawPointer(values + position * stride).loadUnaligned(fromByteOffset: i * 2, as: Float16.self)))
                }
                partial[i] = sum
                i += 1
            }
        }
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: lanes) { rows in
            for l in 0..<lanes { rows[l] = UnsafePointer(scratch.zeros) }
            for k in 0..<reached { rows[(first + k) % lanes] = UnsafePointer(partials + ((first + k) % lanes) * d) }
            // vec_dot_f16 folds its accumulators (0 + 2) + (1 + 3), then adds the sixteen lanes as `laneSum`'s tree
            // does; the same additions for sixteen outputs at once, each output in its own SIMD lane
            var i = 0
            while i + 16 <= d {
                @inline(__always) func lane(_ l: Int) -> Lanes { UnsafeRawPointer(rows[l] + i).loadUnaligned(as: Lanes.self) }
                @inline(__always) func fold(_ l: Int) -> Lanes { (lane(l) + lane(32 + l)) + (lane(16 + l) + lane(48 + l)) }
                let e0 = fold(0) + fold(8), e1 = fold(1) + fold(9), e2 = fold(2) + fold(10), e3 = fold(3) + fold(11)
                let e4 = fold(4) + fold(12), e5 = fold(5) + fold(13), e6 = fold(6) + fold(14), e7 = fold(7) + fold(15)
                let f0 = e0 + e4, f1 = e1 + e5, f2 = e2 + e6, f3 = e3 + e7
                let result = (f0 + f2) + (f1 + f3)
                UnsafeMutableRawPointer(out + i).storeBytes(of: result, as: Lanes.self)
                i += 16
            }
            while i < d {
                var sixteen = Lanes()
                for l in 0..<16 { sixteen[l] = (rows[l][i] + rows[32 + l][i]) + (rows[16 + l][i] + rows[48 + l][i]) }
                out[i] = VectorExp.laneSum(sixteen)
                i += 1
            }
        }
    }
}
