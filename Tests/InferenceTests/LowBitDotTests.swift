import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// The Q5_0, Q4_1 and Q5_1 kernels: each scalar form against the dequantised product it computes (Dequantize is
/// itself checked against gguf-py; for the types with a minimum, with Q8_1's f16 `s` in the minimum's share, as
/// ggml takes it), each SIMD form against its scalar one, and four tokens at once against each alone.
@Suite("Q5_0, Q4_1 and Q5_1 dot products")
struct LowBitDotTests {
    struct Kind: Sendable, CustomTestStringConvertible {
        var type: TensorType
        /// Offsets of the block's f16 fields (scale, and minimum where there is one).
        var halves: [Int]
        var scalar: @Sendable (UnsafeRawPointer, UnsafeRawPointer, Int) -> Float
        var simd: @Sendable (UnsafeRawPointer, UnsafeRawPointer, Int) -> Float
        var four: @Sendable (UnsafeRawPointer, FourRows, Int) -> SIMD4<Float>

        var testDescription: String { type.name }
    }

    static let kinds: [Kind] = [
        Kind(type: .q5_0, halves: [0], scalar: { QuantizedDot.q5_0Scalar($0, $1, blocks: $2) },
             simd: { QuantizedDot.q5_0($0, $1, blocks: $2) }, four: { QuantizedDot.q5_0($0, $1, blocks: $2) }),
        Kind(type: .q4_1, halves: [0, 2], scalar: { QuantizedDot.q4_1Scalar($0, $1, blocks: $2) },
             simd: { QuantizedDot.q4_1($0, $1, blocks: $2) }, four: { QuantizedDot.q4_1($0, $1, blocks: $2) }),
        Kind(type: .q5_1, halves: [0, 2], scalar: { QuantizedDot.q5_1Scalar($0, $1, blocks: $2) },
             simd: { QuantizedDot.q5_1($0, $1, blocks: $2) }, four: { QuantizedDot.q5_1($0, $1, blocks: $2) }),
    ]

    /// Random blocks of `kind` with finite, modest f16 scales and minimums.
    static func randomBlocks(_ kind: Kind, _ blocks: Int, _ generator: inout some RandomNumberGenerator) -> [UInt8] {
        let size = kind.type.block.bytes
        var bytes = (0..<(blocks * size)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for block in 0..<blocks {
            for offset in kind.halves {
                let bits = Float16(Float.random(in: -0.1...0.1, using: &generator)).bitPattern
                bytes[block * size + offset] = UInt8(bits & 0xFF)
                bytes[block * size + offset + 1] = UInt8(bits >> 8)
            }
        }
        return bytes
    }

    @Test("scalar equals the dequantised product; SIMD equals scalar",
          arguments: kinds.flatMap { kind in [1, 3, 7, 64].map { (kind, $0) } })
    func kernels(_ kind: Kind, _ blocks: Int) throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let weights = Self.randomBlocks(kind, blocks, &generator)
            let values = QuantizedDotTests.randomFloats(blocks * 32, &generator)
            let (q8, wide) = QuantizedDotTests.activations(values)
            let q8_1 = values.withUnsafeBufferPointer { QuantizedDot.quantizeQ8_1($0) }
            var w = [Float](repeating: 0, count: blocks * 32), x = [Float](repeating: 0, count: blocks * 32)
            try weights.withUnsafeBytes { bytes in try w.withUnsafeMutableBufferPointer { try Dequantize.run(kind.type, bytes, into: $0) } }
            try q8.withUnsafeBytes { bytes in try x.withUnsafeMutableBufferPointer { try Dequantize.run(.q8_0, bytes, into: $0) } }
            var reference = zip(w, x).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            if kind.halves.count == 2 {
                // the minimum meets Q8_1's s rather than the exact d · Σy
                for block in 0..<blocks {
                    let minimum = weights.withUnsafeBytes { Dequantize.half($0, block * kind.type.block.bytes + 2) }
                    let exact = x[(block * 32)..<(block * 32 + 32)].reduce(0, +)
                    reference += minimum * (q8_1.withUnsafeBytes { Dequantize.half($0, block * 36 + 2) } - exact)
                }
            }
            let activations = kind.halves.count == 2 ? q8_1 : q8
            weights.withUnsafeBytes { a in
                activations.withUnsafeBytes { b in
                    wide.withUnsafeBytes { wide in
                        let scalar = kind.scalar(a.baseAddress!, b.baseAddress!, blocks)
                        let simd = kind.simd(a.baseAddress!, wide.baseAddress!, blocks)
                        #expect(abs(scalar - reference) <= 1e-5 * Float(blocks) * max(1, abs(reference)), "scalar \(scalar) vs \(reference)")
                        #expect(abs(simd - scalar) <= 2e-6 * Float(blocks) * max(1, abs(scalar)), "SIMD \(simd) vs \(scalar)")
                    }
                }
            }
        }
    }

    @Test("one row against four tokens at once gives, bit for bit, what each gives alone",
          arguments: kinds.flatMap { kind in [1, 5, 64].map { (kind, $0) } })
    func fourTokens(_ kind: Kind, _ blocks: Int) {
        var generator = SystemRandomNumberGenerator()
        let weights = Self.randomBlocks(kind, blocks, &generator)
        let rows = (0..<4).map { _ in QuantizedDotTests.activations(QuantizedDotTests.randomFloats(blocks * 32, &generator)).widened }
        let packed = rows.flatMap { $0 }
        packed.withUnsafeBytes { p in
            let four = FourRows(p.baseAddress!, stride: rows[0].count)
            weights.withUnsafeBytes { w in
                let alone = SIMD4<Float>((0..<4).map { kind.simd(w.baseAddress!, four[$0], blocks) })
                #expect(kind.four(w.baseAddress!, four, blocks) == alone)
            }
        }
    }
}
