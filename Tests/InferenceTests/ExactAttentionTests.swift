import Foundation
import Testing
@testable import InferenceEngine

/// The exact (llama.cpp-order) attention taken for several query heads of one KV head at once, keys converted once
/// per block for all of them and four positions' last additions taken together: every head's outputs the same bits
/// as that head alone, and the four positions' sums the same bits as `dot`'s, position by position.
@Suite("exact attention over heads together")
struct ExactAttentionTests {
    @Test("heads together give each head's bits alone", arguments: OnlineAttentionTests.shapes + [.init(width: 48, positions: 90)])
    func headsTogether(_ shape: OnlineAttentionTests.Shape) {
        for range in OnlineAttentionTests.ranges(shape.positions) {
            let test = OnlineAttentionTests.Case(shape, queries: 3, seed: UInt64(range.upperBound * 31 + range.lowerBound))
            let d = shape.width, capacity = (range.upperBound + 16) / 16 * 16
            let queries = test.queries.flatMap { $0 }
            var together = [Float](repeating: .nan, count: 3 * d)
            let scratch = Attention.Scratch(positions: capacity, width: d, heads: 3)
            defer { scratch.free() }
            test.keys.withUnsafeBufferPointer { k in
                test.values.withUnsafeBufferPointer { v in
                    together.withUnsafeMutableBufferPointer { out in
                        Attention.heads(3, queries: queries, keys: k.baseAddress! + d, values: v.baseAddress! + d, stride: test.stride,
                                        first: range.lowerBound, length: range.upperBound, scale: test.scale, scratch: scratch, into: out.baseAddress!)
                    }
                }
            }
            for h in 0..<3 {
                #expect(Array(together[(h * d)..<((h + 1) * d)]).map(\.bitPattern) == test.exact(h, range).map(\.bitPattern),
                        "\(shape) positions \(range), head \(h)")
            }
        }
    }
}

extension ExactAttentionTests {
    /// The block path's sums against `dot`, the one-position form of `vec_dot_f16`'s order: the same bits.
    @Test("four positions' dots at once, from keys in f32, equal dot's one by one", arguments: [64, 128, 256])
    func fourDots(_ width: Int) {
        let test = OnlineAttentionTests.Case(.init(width: width, positions: 64), queries: 4, seed: UInt64(width))
        let converted = test.keys.map(Float.init)
        for query in test.queries {
            let rounded = query.map { Float(Float16($0)) }
            for start in stride(from: 0, to: 64, by: 4) {
                // four keys of one KV head, one after another in f32, as the block path lays them out
                let keys = (start..<(start + 4)).flatMap { p in converted[(p * test.stride + width)..<(p * test.stride + 2 * width)] }
                let four = Attention.fourDots(keys, rounded, count: width)
                for i in 0..<4 {
                    let one = test.keys.withUnsafeBytes { raw in
                        Attention.dot(raw.baseAddress! + ((start + i) * test.stride + width) * 2, rounded, count: width)
                    }
                    #expect(four[i].bitPattern == one.bitPattern, "width \(width), position \(start + i): \(four[i]) vs \(one)")
                }
            }
        }
    }
}
