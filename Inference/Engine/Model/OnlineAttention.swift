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
        let width: Int, capacity: Int

        init(queries capacity: Int, width: Int) {
            keys = .allocate(capacity: OnlineAttention.block * width)
            values = .allocate(capacity: OnlineAttention.block * width)
            queries = .allocate(capacity: capacity * width)
            accumulators = .allocate(capacity: capacity * width)
            maxima = .allocate(capacity: capacity)
            sums = .allocate(capacity: capacity)
            self.width = width
            self.capacity = capacity
        }

        func free() {
            [keys, values, queries, accumulators, maxima, sums].forEach { $0.deallocate() }
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
        let lower = queries.map(\.positions.lowerBound).min() ?? 0, upper = queries.map(\.positions.upperBound).max() ?? 0
        for start in Swift.stride(from: lower / block * block, to: upper, by: block) {
            let count = min(block, upper - start)
            convert(keys + start * stride, stride: stride, rows: count, width: d, into: scratch.keys)
            convert(values + start * stride, stride: stride, rows: count, width: d, into: scratch.values)
            for (index, query) in queries.enumerated() {
                let first = max(query.positions.lowerBound, start) - start, end = min(query.positions.upperBound, start + block) - start
                guard first < end else { continue }
                var scores = blockScores(scratch.keys, scratch.queries + index * d, width: d) * scale
                if first > 0 || end < block {
                    scores.replace(with: -.infinity, where: (lane .< Int32(first)) .| (lane .>= Int32(end)))
                }
                accumulate(scores, positions: first..<end, query: index, scratch: scratch)
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
                i += 8
            }
            return Eight(lowHalf: sums(a0, a1, a2, a3), highHalf: sums(a4, a5, a6, a7))
        }
        return Lanes(lowHalf: eight(keys), highHalf: eight(keys + 8 * d))
    }

    /// The lane sums of four vectors, as one vector: halves added, then pairs twice.
    @inline(__always)
    private static func sums(_ a: Eight, _ b: Eight, _ c: Eight, _ d: Eight) -> SIMD4<Float> {
        @inline(__always) func pairs(_ x: SIMD4<Float>, _ y: SIMD4<Float>) -> SIMD4<Float> {
            SIMD4(lowHalf: x.evenHalf + x.oddHalf, highHalf: y.evenHalf + y.oddHalf)
        }
        return pairs(pairs(a.lowHalf + a.highHalf, b.lowHalf + b.highHalf), pairs(c.lowHalf + c.highHalf, d.lowHalf + d.highHalf))
    }

    /// One block's scores (masked ones -∞) into query `index`'s running maximum, sum and accumulators: when the
    /// maximum rises, what was summed is scaled by `e^(old - new)` first.
    @inline(__always)
    private static func accumulate(_ scores: Lanes, positions: Range<Int>, query index: Int, scratch: Scratch) {
        let d = scratch.width, accumulator = scratch.accumulators + index * d
        let old = scratch.maxima[index], maximum = Swift.max(old, largest(scores))
        let weights = VectorExp.exp(scores - maximum)
        let rescale: Float = old == maximum ? 1 : VectorExp.exp(Lanes(repeating: old - maximum))[0]
        scratch.maxima[index] = maximum
        scratch.sums[index] = scratch.sums[index] * rescale + VectorExp.laneSum(weights)
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

    /// The largest of sixteen lanes (-∞ when all are), by halves.
    @inline(__always)
    private static func largest(_ v: Lanes) -> Float {
        @inline(__always) func wider<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar == Float { a.replacing(with: b, where: b .> a) }
        let eight = wider(v.lowHalf, v.highHalf), four = wider(eight.lowHalf, eight.highHalf), two = wider(four.lowHalf, four.highHalf)
        return Swift.max(two[0], two[1])
    }
}
