import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// Each tensor type's dequantisation against gguf-py's reference on random blocks
/// (Fixtures/dequant, made by scripts/make_dequant_fixtures.py).
@Suite("dequantisation")
struct DequantizeTests {
    @Test("matches gguf-py", arguments: [("f16", TensorType.f16), ("bf16", .bf16), ("q8_0", .q8_0), ("q4_0", .q4_0),
                                         ("q4_1", .q4_1), ("q5_0", .q5_0), ("q5_1", .q5_1), ("q2_k", .q2_K), ("q3_k", .q3_K),
                                         ("q4_k", .q4_K), ("q5_k", .q5_K), ("q6_k", .q6_K)])
    func matches(_ name: String, _ type: TensorType) throws {
        let url = TokenizerVectorTests.fixtures.deletingLastPathComponent().appendingPathComponent("dequant/\(name).bin")
        let data = try Data(contentsOf: url)
        let count = Int(data.prefix(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
        let (elements, blockBytes) = type.block
        let rawCount = count / elements * blockBytes
        let raw = data.subdata(in: 4..<(4 + rawCount))
        let expected = data.subdata(in: (4 + rawCount)..<data.count).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(expected.count == count)
        var output = [Float](repeating: .nan, count: count)
        try raw.withUnsafeBytes { bytes in
            try output.withUnsafeMutableBufferPointer { try Dequantize.run(type, bytes, into: $0) }
        }
        let worst = zip(output, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(worst < 1e-6, "largest relative difference \(worst)")
    }

    /// A weight matrix checks its type once, against both the kernels' activation formats and the dequantiser, so
    /// that reading a row of it cannot fail: the two must accept the same types, or one check hides the other.
    @Test("the dequantiser and the kernels accept the same stored types", arguments: TensorType.allCases)
    func sameTypes(_ type: TensorType) {
        #expect((Dequantize.Format(type) != nil) == (ActivationFormat(weights: type) != nil), "\(type.name)")
        if let format = Dequantize.Format(type) { #expect(format.type == type) }
    }

    @Test("a type without a dequantiser is refused", arguments: TensorType.allCases.filter { Dequantize.Format($0) == nil })
    func unsupported(_ type: TensorType) {
        #expect(throws: Dequantize.Unsupported.self) {
            try [UInt8](repeating: 0, count: 0).withUnsafeBytes { bytes in
                var output: [Float] = []
                try output.withUnsafeMutableBufferPointer { try Dequantize.run(type, bytes, into: $0) }
            }
        }
    }
}
