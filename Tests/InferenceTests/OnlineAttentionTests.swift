import Foundation
import Testing
@testable import InferenceEngine

/// The one-pass attention (online softmax) against the exact three-pass one on random caches: the same outputs to
/// f32 rounding, for every query range a sliding window or a causal mask gives, and the same bits for a query
/// whichever queries share its tile.
@Suite("online-softmax attention")
struct OnlineAttentionTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        var width: Int
        var positions: Int
        var testDescription: String { "\(width) wide, \(positions) positions" }
    }

    /// Heads of TinyLlama's width and of Gemma 3's, short and long caches, lengths on and off a block.
    static let shapes = [Shape(width: 64, positions: 1), Shape(width: 64, positions: 37), Shape(width: 64, positions: 1_000),
                         Shape(width: 256, positions: 300), Shape(width: 128, positions: 2_049), Shape(width: 8, positions: 70)]

    /// A cache of `positions` keys and values (two KV heads side by side, so the stride is not the width) and queries
    /// whose scores spread over tens of units, as a trained model's do.
    struct Case {
        var keys: [Float16], values: [Float16], queries: [[Float]]
        let width: Int, stride: Int, scale: Float

        init(_ shape: Shape, queries count: Int, seed: UInt64) {
            var random = SplitMix64(seed: seed)
            func normal() -> Float {
                let u = Float(random.next() % 1_000_000 + 1) / 1_000_001, v = Float(random.next() % 1_000_000) / 1_000_000
                return (-2 * logf(u)).squareRoot() * cosf(2 * .pi * v)
            }
            width = shape.width
            stride = 2 * shape.width
            scale = 1 / Float(shape.width).squareRoot()
            keys = (0..<(shape.positions * stride)).map { _ in Float16(normal()) }
            values = (0..<(shape.positions * stride)).map { _ in Float16(normal()) }
            queries = (0..<count).map { _ in (0..<shape.width).map { _ in normal() * 3 } }
        }

        func exact(_ query: Int, _ range: Range<Int>) -> [Float] {
            let scratch = Attention.Scratch(positions: range.upperBound + 16, width: width)
            defer { scratch.free() }
            var out = [Float](repeating: .nan, count: width)
            keys.withUnsafeBufferPointer { k in
                values.withUnsafeBufferPointer { v in
                    out.withUnsafeMutableBufferPointer { o in
                        Attention.heads(1, queries: queries[query], keys: k.baseAddress! + width, values: v.baseAddress! + width, stride: stride,
                                        first: range.lowerBound, length: range.upperBound, scale: scale, scratch: scratch, into: o.baseAddress!)
                    }
                }
            }
            return out
        }

        /// The attention in double precision, straight from the definition (the query rounded to f16, as both
        /// paths round it).
        func reference(_ query: Int, _ range: Range<Int>) -> [Double] {
            let q = queries[query].map { Double(Float(Float16($0))) }
            let scores = range.map { p in Double(scale) * (0..<width).reduce(0.0) { $0 + q[$1] * Double(keys[p * stride + width + $1]) } }
            let top = scores.max()!, weights = scores.map { Foundation.exp($0 - top) }, total = weights.reduce(0, +)
            return (0..<width).map { i in zip(range, weights).reduce(0.0) { $0 + $1.1 * Double(values[$1.0 * stride + width + i]) } / total }
        }

        /// The online attention of `queries` (index and range) as one tile.
        func online(_ tile: [(Int, Range<Int>)]) -> [[Float]] {
            let scratch = OnlineAttention.Scratch(queries: tile.count, width: width)
            defer { scratch.free() }
            let outputs = UnsafeMutablePointer<Float>.allocate(capacity: tile.count * width)
            defer { outputs.deallocate() }
            outputs.initialize(repeating: .nan, count: tile.count * width)
            let rows = tile.map { item in
                let row = UnsafeMutablePointer<Float>.allocate(capacity: width)
                row.initialize(from: queries[item.0], count: width)
                return row
            }
            defer { rows.forEach { $0.deallocate() } }
            let items = tile.enumerated().map { OnlineAttention.Query(row: rows[$0.offset], positions: $0.element.1, output: outputs + $0.offset * width) }
            keys.withUnsafeBufferPointer { k in
                values.withUnsafeBufferPointer { v in
                    items.withUnsafeBufferPointer {
                        OnlineAttention.tile($0, keys: k.baseAddress! + width, values: v.baseAddress! + width, stride: stride, scale: scale, scratch: scratch)
                    }
                }
            }
            return tile.indices.map { Array(UnsafeBufferPointer(start: outputs + $0 * width, count: width)) }
        }
    }

    /// Causal ranges ending at the last positions, and sliding windows of 7 and 512 that start off a block.
    static func ranges(_ positions: Int) -> [Range<Int>] {
        let ends = Set([1, positions / 2 + 1, positions - 1, positions].filter { $0 >= 1 && $0 <= positions })
        return ends.sorted().flatMap { end in [0..<end, max(0, end - 7)..<end, max(0, end - 512)..<end] }
    }

    /// Against attention in double precision: the online softmax to f32 rounding, the exact path (which rounds each
    /// probability to f16 before it meets the values, as llama.cpp's non-flash product does) to f16's.
    @Test("one pass gives attention to f32 rounding, closer than the three passes", arguments: shapes)
    func matchesDefinition(_ shape: Shape) {
        let ranges = Self.ranges(shape.positions)
        let test = Case(shape, queries: ranges.count, seed: UInt64(shape.width * 10_000 + shape.positions))
        let online = test.online(ranges.enumerated().map { ($0.offset, $0.element) })
        for (index, range) in ranges.enumerated() {
            let reference = test.reference(index, range), exact = test.exact(index, range)
            let worst = zip(reference, online[index]).map { abs($0 - Double($1)) }.max() ?? .nan
            let worstExact = zip(reference, exact).map { abs($0 - Double($1)) }.max() ?? .nan
            #expect(worst <= 3e-6, "\(shape) positions \(range): online off by \(worst)")
            #expect(worstExact <= 2e-3, "\(shape) positions \(range): exact off by \(worstExact)")
        }
    }

    @Test("a query's outputs are the same bits alone or in any tile", arguments: shapes)
    func tileInvariant(_ shape: Shape) {
        let ranges = Self.ranges(shape.positions)
        let test = Case(shape, queries: ranges.count, seed: 7)
        let together = test.online(ranges.enumerated().map { ($0.offset, $0.element) })
        let reversed = test.online(ranges.enumerated().reversed().map { ($0.offset, $0.element) })
        for (index, range) in ranges.enumerated() {
            let alone = test.online([(index, range)])[0]
            #expect(alone.map(\.bitPattern) == together[index].map(\.bitPattern), "\(shape) positions \(range)")
            #expect(alone.map(\.bitPattern) == reversed[ranges.count - 1 - index].map(\.bitPattern), "\(shape) positions \(range)")
        }
    }

    /// Heads of one token share their positions and go through in pairs; five of them, so one goes alone.
    @Test("queries over the same positions, taken in pairs, give the same bits as alone", arguments: shapes)
    func pairsInvariant(_ shape: Shape) {
        for range in Self.ranges(shape.positions) {
            let test = Case(shape, queries: 5, seed: UInt64(range.lowerBound * 7 + range.upperBound))
            let together = test.online((0..<5).map { ($0, range) })
            for index in 0..<5 {
                #expect(test.online([(index, range)])[0].map(\.bitPattern) == together[index].map(\.bitPattern), "\(shape) positions \(range), query \(index)")
            }
        }
    }

    @Test("a score far above the rest takes all the weight; equal scores share it evenly")
    func extremes() {
        var test = Case(Shape(width: 64, positions: 40), queries: 1, seed: 3)
        // the query along key 33, which no other key comes near: all the weight on position 33
        let along = (0..<64).map { Float(test.keys[33 * test.stride + 64 + $0]) * 100 }
        test.queries = [along, [Float](repeating: 0, count: 64)]
        let result = test.online([(0, 0..<40), (1, 0..<40)])
        let expected = (0..<64).map { Float(test.values[33 * test.stride + 64 + $0]) }
        #expect(zip(result[0], expected).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(result[0].prefix(4)) vs \(expected.prefix(4))")
        // a zero query scores every position 0: the plain mean of the values
        let mean = (0..<64).map { i in (0..<40).reduce(Float(0)) { $0 + Float(test.values[$1 * test.stride + 64 + i]) } / 40 }
        #expect(zip(result[1], mean).allSatisfy { abs($0 - $1) <= 1e-5 })
    }
}
