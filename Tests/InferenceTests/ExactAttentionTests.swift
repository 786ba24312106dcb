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

extension ExactAttentionTests {
    /// `vec_dot_f16`'s sum of weights · values along the positions, as written: position p fused into lane p mod 64
    /// of 64, the lanes folded (l + 32 + l) + (16 + l + 48 + l) and the sixteen added as `laneSum` adds them.
    static func referenceWeightedValues(_ weights: [Float], _ values: [Float16], stride: Int, offset: Int, width: Int,
                                        _ range: Range<Int>) -> [Float] {
        (0..<width).map { i in
            var lanes = [Float](repeating: 0, count: 64)
            for p in range { lanes[p % 64] = lanes[p % 64].addingProduct(weights[p], Float(values[p * stride + offset + i])) }
            var sixteen = SIMD16<Float>()
            for l in 0..<16 { sixteen[l] = (lanes[l] + lanes[32 + l]) + (lanes[16 + l] + lanes[48 + l]) }
            return VectorExp.laneSum(sixteen)
        }
    }

    /// The weighted values, taken lane by lane with 64 outputs in registers, against the position-by-position
    /// definition: the same bits, over ranges that start off a lane boundary, reach fewer than 64 lanes or wrap
    /// round them many times, for head widths with and without a whole number of 64 or 16 values.
    @Test("weighted values equal vec_dot_f16's sums position by position, to the bit",
          arguments: [(64, 0..<1), (64, 5..<70), (64, 0..<512), (64, 3..<1_300), (128, 500..<2_049), (48, 7..<600), (8, 0..<530)])
    func weightedValues(_ width: Int, _ range: Range<Int>) {
        let heads = 3, stride = 2 * width, positions = (range.upperBound + 16) / 16 * 16
        var generator = SystemRandomNumberGenerator()
        let values = (0..<(positions * stride)).map { _ in Float16(Float.random(in: -2...2, using: &generator)) }
        let weights = (0..<heads).map { _ in (0..<positions).map { _ in Float(Float16(Float.random(in: 0...0.01, using: &generator))) } }
        let scratch = Attention.Scratch(positions: positions, width: width)
        defer { scratch.free() }
        var out = [Float](repeating: .nan, count: heads * width)
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                for h in 0..<heads {
                    Attention.weightedValues(weights[h], values: v.baseAddress! + width, stride: stride, first: range.lowerBound,
                                             length: range.upperBound, scratch: scratch, into: o.baseAddress! + h * width)
                }
            }
        }
        for h in 0..<heads {
            let expected = Self.referenceWeightedValues(weights[h], values, stride: stride, offset: width, width: width, range)
            #expect(Array(out[(h * width)..<((h + 1) * width)]).map(\.bitPattern) == expected.map(\.bitPattern), "width \(width), positions \(range), head \(h)")
        }
    }
}
