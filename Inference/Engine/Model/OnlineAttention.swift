/// Attention in one pass over the f16 cache with an online softmax (flash-attention style): the cached positions go
/// in blocks of sixteen, each block's keys and values converted to f32 once and met there by every query of a tile
/// (the query heads that share a KV head, for up to `tokens` consecutive tokens of one sequence); each query keeps a
/// running maximum, a running sum of exponentials and f32 value accumulators, rescaled when the maximum rises. No
/// score array over the context, and each KV head's cache is read from memory once per tile, not once per query head.
///
/// A query's sums depend only on the query and its own positions: blocks are aligned at position 0 and visited in
/// order, the same whichever other queries share the tile, so a token gives the same numbers in any batch and on any
/// number of threads. They are not `Attention`'s (llama.cpp's non-flash order): the two differ in the last bits, as
/// llama.cpp's own flash path differs from its non-flash one. The query meets the keys rounded to f16, as in both.
enum OnlineAttention {
    typealias Eight = SIMD8<Float>
    typealias Lanes = SIMD16<Float>

    /// Cached positions per block (one score vector).
    static let block = 16
    /// Each lane's position in a block.
    private static let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    /// Consecutive tokens of one sequence in a tile.
    static let tokens = 8

    /// One query of a tile: its f32 row, the cached positions it attends to, and where its `width` outputs go.
    struct Query {
        let row: UnsafePointer<Float>
        let positions: Range<Int>
        let output: UnsafeMutablePointer<Float>
    }

    /// Scratch for one tile of up to `queries` queries of `width` values.
    struct Scratch {
        let keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>
        let queries: UnsafeMutablePointer<Float>, accumulators: UnsafeMutablePointer<Float>
        let maxima: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>
        /// The current block's weights of one query, or two (read position by position as scalars: a dynamic lane
        /// of a vector is a store and a load each time).
        let weights: UnsafeMutablePointer<Float>
        let width: Int, capacity: Int

        init(queries capacity: Int, width: Int) {
            keys = .allocate(capacity: OnlineAttention.block * width)
            values = .allocate(capacity: OnlineAttention.block * width)
            queries = .allocate(capacity: capacity * width)
            accumulators = .allocate(capacity: capacity * width)
            maxima = .allocate(capacity: capacity)
            sums = .allocate(capacity: capacity)
            weights = .allocate(capacity: 2 * OnlineAttention.block)
            self.width = width
            self.capacity = capacity
        }

        func free() {
            [keys, values, queries, accumulators, maxima, sums, weights].forEach { $0.deallocate() }
        }
    }

    /// The tile's queries against one KV head: `keys` and `values` point at position 0 of that head, `stride` values
    /// apart; scores are scaled by `scale`.
    static func tile(_ queries: UnsafeBufferPointer<Query>, keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>,
                     stride: Int, scale: Float, scratch: Scratch) {
        let d = scratch.width
        precondition(queries.count <= scratch.capacity && d % 8 == 0, "a tile fits its scratch; heads are a multiple of 8 wide")
        for (index, query) in queries.enumerated() {
            for i in 0..<d { scratch.queries[index * d + i] = Float(Float16(query.row[i])) }
            scratch.accumulators.advanced(by: index * d).initialize(repeating: 0, count: d)
            scratch.maxima[index] = -.infinity
            scratch.sums[index] = 0
        }
        var lower = Int.max, upper = 0
        for query in queries {
            lower = min(lower, query.positions.lowerBound)
            upper = max(upper, query.positions.upperBound)
        }
        for start in Swift.stride(from: lower / block * block, to: upper, by: block) {
            let count = min(block, upper - start)
            convert(keys + start * stride, stride: stride, rows: count, width: d, into: scratch.keys)
            convert(values + start * stride, stride: stride, rows: count, width: d, into: scratch.values)
            var index = 0
            while index < queries.count {
                let range = queries[index].positions
                let first = max(range.lowerBound, start) - start, end = min(range.upperBound, start + block) - start
                @inline(__always) func masked(_ scores: Lanes) -> Lanes {
                    guard first > 0 || end < block else { return scores * scale }
                    return (scores * scale).replacing(with: -.infinity, where: (lane .< Int32(first)) .| (lane .>= Int32(end)))
                }
                if first >= end {
                    index += 1
                } else if index + 1 < queries.count, queries[index + 1].positions == range {
                    // two queries over the same positions (two heads of one token): each key and value loaded once
                    // for both, every sum the same chain as for one
                    let (s0, s1) = blockScores(scratch.keys, scratch.queries + index * d, scratch.queries + (index + 1) * d, width: d)
                    accumulate(masked(s0), masked(s1), positions: first..<end, query: index, scratch: scratch)
                    index += 2
                } else {
                    accumulate(masked(blockScores(scratch.keys, scratch.queries + index * d, width: d)), positions: first..<end,
                               query: index, scratch: scratch)
                    index += 1
                }
            }
        }
        for (index, query) in queries.enumerated() {
            let sum = scratch.sums[index], accumulator = scratch.accumulators + index * d
            let inverse = sum == 0 ? 0 : 1 / sum
            for i in 0..<d { query.output[i] = accumulator[i] * inverse }
        }
    }

    /// Rows `0..<rows` of f16 values, `stride` apart, into `rows × width` f32 values; the rows after them, to a
    /// block, set to zero (their scores are masked, but a NaN of stale scratch would survive a zero weight).
    private static func convert(_ source: UnsafePointer<Float16>, stride: Int, rows: Int, width: Int, into target: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let from = UnsafeRawPointer(source + r * stride), to = UnsafeMutableRawPointer(target + r * width)
            var i = 0
            while i + 16 <= width {
                to.storeBytes(of: floatLanes(from.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<Float16>.self)), toByteOffset: i * 4, as: Lanes.self)
                i += 16
            }
            while i < width {
                to.storeBytes(of: Float(from.loadUnaligned(fromByteOffset: i * 2, as: Float16.self)), toByteOffset: i * 4, as: Float.self)
                i += 1
            }
        }
        if rows < block { (target + rows * width).initialize(repeating: 0, count: (block - rows) * width) }
    }

    /// The sixteen dot products of the block's keys (`16 × width` f32) with `query`: eight positions at a time, one
    /// eight-lane accumulator each, then folded and added across lanes together.
    @inline(__always)
    private static func blockScores(_ keys: UnsafePointer<Float>, _ query: UnsafePointer<Float>, width d: Int) -> Lanes {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Eight { UnsafeRawPointer(p).loadUnaligned(as: Eight.self) }
        @inline(__always) func eight(_ base: UnsafePointer<Float>) -> Eight {
            var a0 = Eight(), a1 = Eight(), a2 = Eight(), a3 = Eight(), a4 = Eight(), a5 = Eight(), a6 = Eight(), a7 = Eight()
            var i = 0
            while i < d {
                let q = load(query + i)
                a0.addProduct(load(base + i), q)
                a1.addProduct(load(base + d + i), q)
                a2.addProduct(load(base + 2 * d + i), q)
                a3.addProduct(load(base + 3 * d + i), q)
                a4.addProduct(load(base + 4 * d + i), q)
                a5.addProduct(load(base + 5 * d + i), q)
                a6.addProduct(load(base + 6 * d + i), q)
                a7.addProduct(load(base + 7 * d + i), q)
                i &+= 8
            }
            return Eight(lowHalf: sums(a0, a1, a2, a3), highHalf: sums(a4, a5, a6, a7))
        }
        return Lanes(lowHalf: eight(keys), highHalf: eight(keys + 8 * d))
    }

    /// `blockScores` for two queries at once, four positions at a time: each key loaded once for both; each
    /// score the same chain and the same fold as alone.
    @inline(__always)
    private static func blockScores(_ keys: UnsafePointer<Float>, _ query0: UnsafePointer<Float>, _ query1: UnsafePointer<Float>,
                                    width d: Int) -> (Lanes, Lanes) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Eight { UnsafeRawPointer(p).loadUnaligned(as: Eight.self) }
        @inline(__always) func four(_ base: UnsafePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>) {
            var a0 = Eight(), a1 = Eight(), a2 = Eight(), a3 = Eight(), b0 = Eight(), b1 = Eight(), b2 = Eight(), b3 = Eight()
            var i = 0
            while i < d {
                let q0 = load(query0 + i), q1 = load(query1 + i)
                let k0 = load(base + i), k1 = load(base + d + i), k2 = load(base + 2 * d + i), k3 = load(base + 3 * d + i)
                a0.addProduct(k0, q0)
                b0.addProduct(k0, q1)
                a1.addProduct(k1, q0)
                b1.addProduct(k1, q1)
                a2.addProduct(k2, q0)
                b2.addProduct(k2, q1)
                a3.addProduct(k3, q0)
                b3.addProduct(k3, q1)
                i &+= 8
            }
            return (sums(a0, a1, a2, a3), sums(b0, b1, b2, b3))
        }
        let (p0, q0) = four(keys), (p1, q1) = four(keys + 4 * d), (p2, q2) = four(keys + 8 * d), (p3, q3) = four(keys + 12 * d)
        return (Lanes(lowHalf: Eight(lowHalf: p0, highHalf: p1), highHalf: Eight(lowHalf: p2, highHalf: p3)),
                Lanes(lowHalf: Eight(lowHalf: q0, highHalf: q1), highHalf: Eight(lowHalf: q2, highHalf: q3)))
    }

    /// The lane sums of four vectors, as one vector: halves added, then pairs twice.
    @inline(__always)
    private static func sums(_ a: Eight, _ b: Eight, _ c: Eight, _ d: Eight) -> SIMD4<Float> {
        @inline(__always) func pairs(_ x: SIMD4<Float>, _ y: SIMD4<Float>) -> SIMD4<Float> {
            SIMD4(lowHalf: x.evenHalf + x.oddHalf, highHalf: y.evenHalf + y.oddHalf)
        }
        return pairs(pairs(a.lowHalf + a.highHalf, b.lowHalf + b.highHalf), pairs(c.lowHalf + c.highHalf, d.lowHalf + d.highHalf))
    }

    /// Query `index`'s running maximum and sum after one block's scores (masked ones -∞): the block's weights
    /// `e^(score - maximum)`, stored at `into`, and the factor what was summed before is scaled by, `e^(old - new)`
    /// when the maximum rose.
    @inline(__always)
    private static func softmaxStep(_ scores: Lanes, query index: Int, scratch: Scratch, into target: UnsafeMutablePointer<Float>) -> Float {
        let old = scratch.maxima[index], maximum = Swift.max(old, largest(scores))
        // a weight below e^-87 (1.6e-38 of the largest) counts as none: masked positions (-∞) and far smaller
        // scores would otherwise take the exponential's lane-by-lane path for results below f32's normal range
        var exponents = scores - maximum
        let negligible = exponents .< -87
        exponents.replace(with: -87, where: negligible)
        var weights = VectorExp.exp(exponents)
        weights.replace(with: 0, where: negligible)
        let drop = old - maximum
        let rescale: Float = old == maximum ? 1 : drop < -87 ? 0 : VectorExp.exp(Lanes(repeating: drop))[0]
        scratch.maxima[index] = maximum
        scratch.sums[index] = scratch.sums[index] * rescale + VectorExp.laneSum(weights)
        UnsafeMutableRawPointer(target).storeBytes(of: weights, as: Lanes.self)
        return rescale
    }

    /// Queries `index` and `index + 1`, over the same positions, as `accumulate` takes each: one load of each value
    /// for both.
    @inline(__always)
    private static func accumulate(_ scores0: Lanes, _ scores1: Lanes, positions: Range<Int>, query index: Int, scratch: Scratch) {
        let d = scratch.width, first = scratch.accumulators + index * d, second = first + d
        let weights0 = UnsafePointer(scratch.weights), weights1 = weights0 + block
        let rescale0 = softmaxStep(scores0, query: index, scratch: scratch, into: scratch.weights)
        let rescale1 = softmaxStep(scores1, query: index + 1, scratch: scratch, into: scratch.weights + block)
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Eight { UnsafeRawPointer(p).loadUnaligned(as: Eight.self) }
        @inline(__always) func store(_ v: Eight, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Eight.self) }
        let factor0 = Eight(repeating: rescale0), factor1 = Eight(repeating: rescale1), values = UnsafePointer(scratch.values)
        var i = 0
        while i + 32 <= d {
            var s0 = load(first + i) * factor0, s1 = load(first + i + 8) * factor0
            var s2 = load(first + i + 16) * factor0, s3 = load(first + i + 24) * factor0
            var t0 = load(second + i) * factor1, t1 = load(second + i + 8) * factor1
            var t2 = load(second + i + 16) * factor1, t3 = load(second + i + 24) * factor1
            for p in positions {
                let w = Eight(repeating: weights0[p]), x = Eight(repeating: weights1[p]), row = values + p * d + i
                let v0 = load(row), v1 = load(row + 8), v2 = load(row + 16), v3 = load(row + 24)
                s0.addProduct(v0, w)
                t0.addProduct(v0, x)
                s1.addProduct(v1, w)
                t1.addProduct(v1, x)
                s2.addProduct(v2, w)
                t2.addProduct(v2, x)
                s3.addProduct(v3, w)
                t3.addProduct(v3, x)
            }
            store(s0, first + i)
            store(s1, first + i + 8)
            store(s2, first + i + 16)
            store(s3, first + i + 24)
            store(t0, second + i)
            store(t1, second + i + 8)
            store(t2, second + i + 16)
            store(t3, second + i + 24)
            i += 32
        }
        while i < d {
            var s = load(first + i) * factor0, t = load(second + i) * factor1
            for p in positions {
                let v = load(values + p * d + i)
                s.addProduct(v, Eight(repeating: weights0[p]))
                t.addProduct(v, Eight(repeating: weights1[p]))
            }
            store(s, first + i)
            store(t, second + i)
            i += 8
        }
    }

    /// One block's scores (masked ones -∞) into query `index`'s running maximum, sum and accumulators: when the
    /// maximum rises, what was summed is scaled by `e^(old - new)` first.
    @inline(__always)
    private static func accumulate(_ scores: Lanes, positions: Range<Int>, query index: Int, scratch: Scratch) {
        let d = scratch.width, accumulator = scratch.accumulators + index * d
        let weights = UnsafePointer(scratch.weights)
        let rescale = softmaxStep(scores, query: index, scratch: scratch, into: scratch.weights)
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Eight { UnsafeRawPointer(p).loadUnaligned(as: Eight.self) }
        @inline(__always) func store(_ v: Eight, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Eight.self) }
        let factor = Eight(repeating: rescale), values = UnsafePointer(scratch.values)
        var i = 0
        while i + 32 <= d {
            var s0 = load(accumulator + i) * factor, s1 = load(accumulator + i + 8) * factor
            var s2 = load(accumulator + i + 16) * factor, s3 = load(accumulator + i + 24) * factor
            for p in positions {
                let w = Eight(repeating: weights[p]), row = values + p * d + i
                s0.addProduct(load(row), w)
                s1.addProduct(load(row + 8), w)
                s2.addProduct(load(row + 16), w)
                s3.addProduct(load(row + 24), w)
            }
            store(s0, accumulator + i)
            store(s1, accumulator + i + 8)
            store(s2, accumulator + i + 16)
            store(s3, accumulator + i + 24)
            i += 32
        }
        while i < d {
            var s = load(accumulator + i) * factor
            for p in positions { s.addProduct(load(values + p * d + i), Eight(repeating: weights[p])) }
            store(s, accumulator + i)
            i += 8
        }
    }

    /// The largest of sixteen lanes (-∞ when all are), by halves: compare and blend on concrete types (a generic
    /// blend, or the standard library's float `max()`, goes lane by lane).
    @inline(__always)
    private static func largest(_ v: Lanes) -> Float {
        var eight = v.lowHalf
        eight.replace(with: v.highHalf, where: v.highHalf .> eight)
        var four = eight.lowHalf
        four.replace(with: eight.highHalf, where: eight.highHalf .> four)
        return Swift.max(Swift.max(four[0], four[1]), Swift.max(four[2], four[3]))
    }
}
