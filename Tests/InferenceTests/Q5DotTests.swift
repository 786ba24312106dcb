import Foundation
import Testing
@testable import InferenceEngine

/// The Q5_0 kernels: the scalar form against the dequantised product it computes (Dequantize is itself checked
/// against gguf-py), the SIMD form against the scalar one, and four tokens at once against each alone.
@Suite("Q5_0 dot products")
struct Q5DotTests {
    /// Random Q5_0 blocks with finite, modest f16 scales.
    static func randomQ5_0(_ blocks: Int, _ generator: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = (0..<(blocks * 22)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for block in 0..<blocks {
            let bits = Float16(Float.random(in: -0.1...0.1, using: &generator)).bitPattern
            bytes[block * 22] = UInt8(bits & 0xFF)
            bytes[block * 22 + 1] = UInt8(bits >> 8)
        }
        return bytes
    }

    @Test("scalar equals the dequantised product; SIMD equals scalar", arguments: [1, 3, 7, 64])
    func kernels(_ blocks: Int) throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let weights = Self.randomQ5_0(blocks, &generator)
            let (q8, wide) = QuantizedDotTests.activations(QuantizedDotTests.randomFloats(blocks * 32, &generator))
            var w = [Float](repeating: 0, count: blocks * 32), x = [Float](repeating: 0, count: blocks * 32)
            try weights.withUnsafeBytes { bytes in try w.withUnsafeMutableBufferPointer { try Dequantize.run(.q5_0, bytes, into: $0) } }
            try q8.withUnsafeBytes { bytes in try x.withUnsafeMutableBufferPointer { try Dequantize.run(.q8_0, bytes, into: $0) } }
            let reference = zip(w, x).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            weights.withUnsafeBytes { a in
                q8.withUnsafeBytes { b in
                    wide.withUnsafeBytes { wide in
                        let scalar = QuantizedDot.q5_0Scalar(a.baseAddress!, b.baseAddress!, blocks: blocks)
                        let simd = QuantizedDot.q5_0(a.baseAddress!, wide.baseAddress!, blocks: blocks)
                        #expect(abs(scalar - reference) <= 1e-5 * Float(blocks) * max(1, abs(reference)), "scalar \(scalar) vs \(reference)")
                        #expect(abs(simd - scalar) <= 2e-6 * Float(blocks) * max(1, abs(scalar)), "SIMD \(simd) vs \(scalar)")
                    }
                }
            }
        }
    }

    @Test("one row against four tokens at once gives, bit for bit, what each gives alone", arguments: [1, 5, 64])
    func fourTokens(_ blocks: Int) {
        var generator = SystemRandomNumberGenerator()
        let weights = Self.randomQ5_0(blocks, &generator)
        let rows = (0..<4).map { _ in QuantizedDotTests.activations(QuantizedDotTests.randomFloats(blocks * 32, &generator)).widened }
        let packed = rows.flatMap { $0 }
        packed.withUnsafeBytes { p in
            let four = FourRows(p.baseAddress!, stride: rows[0].count)
            weights.withUnsafeBytes { w in
                let alone = SIMD4<Float>((0..<4).map { QuantizedDot.q5_0(w.baseAddress!, four[$0], blocks: blocks) })
                #expect(QuantizedDot.q5_0(w.baseAddress!, four, blocks: blocks) == alone)
            }
        }
    }
}
