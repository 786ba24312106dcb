import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// A model whose numbers overflow (NaN, infinity, 1e30 in a norm weight) must not end the process: every quantised
/// type's activation quantiser meets those values, and llama.cpp runs such files.
@Suite("non-finite weights")
struct NonFiniteWeightTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var value: Float
        var testDescription: String { "\(file) with \(value)" }
    }

    static let cases: [Case] = ModelFixtureTests.models.filter { $0.type != "F32" && $0.type != "F16" && $0.type != "BF16" }
        .flatMap { model in [Float.nan, .infinity, -.infinity, 1e30].map { Case(file: model.file, value: $0) } }

    @Test("a planted value in the first norm weight runs to the end", arguments: cases)
    func planted(_ test: Case) throws {
        let source = ModelFixtureTests.directory.appendingPathComponent(test.file)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("nonfinite-\(UUID().uuidString).gguf")
        try FileManager.default.copyItem(at: source, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }

        let original = try GGUFFile.open(copy.path)
        let norm = try #require(original.tensor("blk.0.attn_norm.weight"))
        try #require(norm.type == .f32)
        let handle = try FileHandle(forWritingTo: copy)
        try handle.seek(toOffset: UInt64(original.dataOffset + norm.offset + 4 * 3))
        try handle.write(contentsOf: withUnsafeBytes(of: test.value.bitPattern.littleEndian) { Data($0) })
        try handle.close()

        let transformer = try Transformer(try GGUFFile.open(copy.path), workers: Workers(threads: 2))
        let cache = transformer.makeCache(capacity: 32)
        var logits = try transformer.forward([1, 2, 3, 4, 5, 6, 7, 8], cache: cache)
        for _ in 0..<4 {
            #expect(logits.count == transformer.vocabularySize)
            var sampler = Sampler(SamplingSettings())
            let sampled = sampler.sample(logits, history: [])
            let next = try #require(sampled).token
            #expect((0..<transformer.vocabularySize).contains(next))
            logits = try transformer.forward([next], cache: cache)
        }
    }

    @Test("the quantisers saturate as ggml's x86 kernels do")
    func saturation() {
        #expect(Saturating.int8(.nan) == -128)
        #expect(Saturating.int8(.infinity) == -128)
        #expect(Saturating.int8(-.infinity) == -128)
        #expect(Saturating.int8(1e30) == -128)
        #expect(Saturating.int8(300) == 127)
        #expect(Saturating.int8(-300) == -128)
        #expect(Saturating.int8(2.5) == 2)
        #expect(Saturating.int8(-126.5) == -126)
    }
}
