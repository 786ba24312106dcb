import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// llama.cpp's own tokenizer test vectors (Fixtures/llama-vocab, MIT, from llama.cpp's models/ folder):
/// every case must produce exactly the ids llama.cpp produces.
@Suite("tokenizer vectors")
struct TokenizerVectorTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/llama-vocab")

    struct Case: Sendable, CustomTestStringConvertible {
        var vocabulary: String
        var index: Int
        var text: String
        var expected: [Int]
        var testDescription: String { "\(vocabulary) #\(index): \(text.debugDescription.prefix(40))" }
    }

    static func cases(_ name: String) -> [Case] {
        let base = fixtures.appendingPathComponent("ggml-vocab-\(name).gguf")
        guard let inputs = try? String(contentsOf: URL(fileURLWithPath: base.path + ".inp"), encoding: .utf8),
              let outputs = try? String(contentsOf: URL(fileURLWithPath: base.path + ".out"), encoding: .utf8) else { return [] }
        let texts = inputs.components(separatedBy: "\n__ggml_vocab_test__\n")
        let ids = outputs.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(separator: " ").compactMap { Int($0) }
        }
        return texts.indices.compactMap { index in
            guard index < ids.count else { return nil }
            var text = texts[index]
            if index == texts.count - 1, text.hasSuffix("\n__ggml_vocab_test__") { text.removeLast("\n__ggml_vocab_test__".count) }
            return Case(vocabulary: name, index: index, text: text, expected: ids[index])
        }
    }

    static let spm: Tokenizer? = {
        guard let file = try? GGUFFile.open(fixtures.appendingPathComponent("ggml-vocab-llama-spm.gguf").path),
              let vocabulary = try? Vocabulary(file) else { return nil }
        return try? Tokenizer(vocabulary)
    }()

    @Test("the fixtures are there and complete")
    func fixturesPresent() throws {
        let cases = Self.cases("llama-spm")
        #expect(cases.count >= 30)
        #expect(Self.spm != nil)
    }

    @Test("SentencePiece (llama-spm) matches llama.cpp", arguments: cases("llama-spm"))
    func sentencePiece(_ test: Case) throws {
        let tokenizer = try #require(Self.spm)
        #expect(tokenizer.encode(test.text) == test.expected)
    }

    static func bpe(_ name: String) -> Tokenizer? {
        guard let file = try? GGUFFile.open(fixtures.appendingPathComponent("ggml-vocab-\(name).gguf").path),
              let vocabulary = try? Vocabulary(file) else { return nil }
        return try? Tokenizer(vocabulary)
    }

    static let llama3 = bpe("llama-bpe")
    static let qwen2 = bpe("qwen2")

    @Test("byte-level BPE (llama-bpe, Llama 3) matches llama.cpp", arguments: cases("llama-bpe"))
    func llama3BPE(_ test: Case) throws {
        #expect(try #require(Self.llama3).encode(test.text) == test.expected)
    }

    @Test("byte-level BPE (qwen2) matches llama.cpp", arguments: cases("qwen2"))
    func qwen2BPE(_ test: Case) throws {
        #expect(try #require(Self.qwen2).encode(test.text) == test.expected)
    }
}
