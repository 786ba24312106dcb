import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// Random strings over every script, NFC and NFD, combining and zero-width characters, whitespace runs, emoji and
/// special tokens, with the ids llama.cpp gave them (Fixtures/tokenizer-fuzz, from scripts/make_tokenizer_fuzz_fixtures.py):
/// plain, with BOS as the vocabulary asks, and with special tokens parsed, each compared exactly; and which tokens
/// llama.cpp types as control and as end-of-generation, including a vocabulary whose `</s>` was left typed normal.
@Suite("tokenizer differential fuzzing")
struct TokenizerFuzzTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Fixture: Decodable {
        struct Case: Decodable {
            var text: String
            var plain: [Int]
            var bos: [Int]
            var special: [Int]
        }
        var vocabulary: String
        var control: [Int]
        var endOfGeneration: [Int]
        var cases: [Case]
    }

    static func load(_ name: String) throws -> (Fixture, Tokenizer) {
        let data = try Data(contentsOf: directory.appendingPathComponent("tokenizer-fuzz/\(name).json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let file = try GGUFFile.open(directory.appendingPathComponent(fixture.vocabulary).path)
        return (fixture, try Tokenizer(try Vocabulary(file)))
    }

    @Test("control and end-of-generation tokens are those llama.cpp settles on",
          arguments: ["llama-spm", "llama-bpe", "qwen2", "llama-spm-retyped"])
    func tokenTypes(_ name: String) throws {
        let (fixture, tokenizer) = try Self.load(name)
        let control = tokenizer.vocabulary.kinds.indices.filter { tokenizer.vocabulary.kinds[$0] == .control }
        #expect(control == fixture.control)
        #expect(tokenizer.endOfGeneration.sorted() == fixture.endOfGeneration)
    }

    @Test("every string tokenizes as llama.cpp tokenizes it", arguments: ["llama-spm", "llama-bpe", "qwen2", "llama-spm-retyped"])
    func matchesLlamaCpp(_ name: String) throws {
        let (fixture, tokenizer) = try Self.load(name)
        #expect(fixture.cases.count >= (name.hasSuffix("retyped") ? 100 : 1_000))
        var mismatches: [String] = []
        for test in fixture.cases {
            let plain = tokenizer.encode(test.text)
            let bos = tokenizer.encode(test.text, addBOS: true)
            let special = tokenizer.encode(test.text, parseSpecial: true)
            for (label, ours, theirs) in [("plain", plain, test.plain), ("bos", bos, test.bos), ("special", special, test.special)]
            where ours != theirs {
                mismatches.append("\(label) \(test.text.debugDescription): ours \(ours), llama.cpp \(theirs)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(fixture.cases.count * 3) differ:\n\(mismatches.prefix(8).joined(separator: "\n"))")
    }
}
