import Foundation
import Testing
@testable import InferenceEngine

/// The SIMD dot-product kernels against their scalar forms on random data, and Q8_0 quantisation against the
/// dequantised float dot product it approximates.
@Suite("quantised dot products")
struct QuantizedDotTests {
    static func randomFloats(_ count: Int, _ generator: inout some RandomNumberGenerator) -> [Float] {
        (0..<count).map { _ in Float.random(in: -2...2, using: &generator) }
    }

    @Test("SIMD equals scalar, exactly, on random rows", arguments: [1, 3, 64])
    func simdEqualsScalar(_ blocks: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let a = Self.randomFloats(blocks * 32, &generator).withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }
            let b = Self.randomFloats(blocks * 32, &generator).withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }
            var q4 = [UInt8](repeating: 0, count: blocks * 18)
            for index in q4.indices { q4[index] = UInt8.random(in: 0...255, using: &generator) }
            for block in 0..<blocks {  // finite f16 scales
                let bits = Float16(Float.random(in: -0.1...0.1, using: &generator)).bitPattern
                q4[block * 18] = UInt8(bits & 0xFF)
                q4[block * 18 + 1] = UInt8(bits >> 8)
            }
            a.withUnsafeBytes { a in
                b.withUnsafeBytes { b in
                    #expect(QuantizedDot.q8_0(a, b, blocks: blocks) == QuantizedDot.q8_0Scalar(a, b, blocks: blocks))
                    q4.withUnsafeBytes { q4 in
                        #expect(QuantizedDot.q4_0(q4, b, blocks: blocks) == QuantizedDot.q4_0Scalar(q4, b, blocks: blocks))
                    }
                }
            }
        }
    }

    @Test("Q8_0 quantisation keeps the dot product within its rounding error")
    func quantizationError() throws {
        var generator = SystemRandomNumberGenerator()
        let x = Self.randomFloats(256, &generator), y = Self.randomFloats(256, &generator)
        let exact = zip(x, y).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        let a = x.withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }
        let b = y.withUnsafeBufferPointer { QuantizedDot.quantizeQ8_0($0) }
        var back = [Float](repeating: 0, count: 256)
        try a.withUnsafeBytes { bytes in try back.withUnsafeMutableBufferPointer { try Dequantize.run(.q8_0, bytes, into: $0) } }
        #expect(zip(back, x).allSatisfy { abs($0 - $1) <= 2.0 / 127 * 0.51 + 1e-3 }, "each value within half a step")
        let approximate = a.withUnsafeBytes { a in b.withUnsafeBytes { b in QuantizedDot.q8_0(a, b, blocks: 8) } }
        #expect(abs(approximate - exact) < 0.05 * max(1, abs(exact)) + 0.5, "\(approximate) vs \(exact)")
    }
}
