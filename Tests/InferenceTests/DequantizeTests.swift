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
}
