import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// The real model, Gemma 3 270M in Q4_K_M (installed by scripts/setup from PyPI, never committed), against what
/// llama.cpp recorded on the same file (Fixtures/gemma3/reference.json, written by scripts/make_gemma3_fixtures.py):
/// tokenization, logits at every position, greedy continuations and perplexity.
@Suite("the real model against llama.cpp", .enabled(if: RealModelLocation.path != nil || RealModelLocation.required,
                                                     "set INFERENCE_REAL_MODEL to the Gemma 3 270M file (scripts/test does)"))
struct RealModelTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gemma3")
    static var modelPath: String? { RealModelLocation.path }

    /// Largest |ours - llama.cpp| on a logit (llama.cpp's 32 highest at each position, and the log-sum-exp of the
    /// whole row). Our sums run in ggml's order everywhere (its kernels' lanes, its exponential, its fused
    /// multiply-adds), so the logits are llama.cpp's to the bit; the fixture keeps five decimals, hence the bound.
    static let logitTolerance: Float = 1e-5

    struct Reference: Decodable {
        struct TokenizerCase: Decodable, Sendable {
            var text: String
            var tokens: [Int]
            var special: [Int]
        }

        struct Position: Decodable, Sendable {
            var ids: [Int]
            var logits: [Float]
            var logsumexp: Double
            var spread: Float
        }

        struct Prompt: Decodable, Sendable, CustomTestStringConvertible {
            var text: String
            var tokens: [Int]
            var positions: [Position]
            var greedy: [Int]
            var greedyMargins: [Float]
            var greedyText: String
            var testDescription: String { String(text.prefix(40)) }
        }

        struct PerplexityFigure: Decodable {
            var context: Int
            var tokens: Int
            var chunks: Int
            var perplexity: Double
        }

        var model: String
        var modelBytes: Int
        var tokenizer: [TokenizerCase]
        var prompts: [Prompt]
        var longPrompt: Prompt
        var perplexity: PerplexityFigure
    }

    static let reference: Reference? = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("reference.json")) else { return nil }
        return try? JSONDecoder().decode(Reference.self, from: data)
    }()

    static var prompts: [Reference.Prompt] { (reference?.prompts ?? []) + (reference.map { [$0.longPrompt] } ?? []) }

    static func model(attention: AttentionMode = .exact) throws -> Transformer {
        let path = try #require(modelPath, "INFERENCE_REAL_MODEL is not set: scripts/setup installs the model and scripts/test points at it")
        let reference = try #require(Self.reference)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        #expect(size == reference.modelBytes, "\(path) is not the file the fixtures were recorded on")
        return try Transformer(path: path, workers: Workers(threads: 2), attention: attention)
    }

    @Test("the fixtures cover what the issue asks: 300+ strings, 10+ prompts, a prompt past the window, 4,000+ tokens")
    func coverage() throws {
        let reference = try #require(Self.reference)
        #expect(reference.tokenizer.count >= 300)
        #expect(reference.prompts.count >= 10 && reference.prompts.allSatisfy { $0.greedy.count == 32 })
        #expect(reference.longPrompt.tokens.count > 1_000)
        #expect(reference.perplexity.chunks * reference.perplexity.context >= 4_000)
    }

    @Test("every string tokenizes as llama.cpp tokenized it with the Gemma vocabulary, with and without special tokens")
    func tokenizer() throws {
        let path = try #require(Self.modelPath)
        let tokenizer = try Tokenizer(Vocabulary(GGUFFile.open(path)))
        var mismatches: [String] = []
        for test in try #require(Self.reference).tokenizer {
            if tokenizer.encode(test.text, addBOS: true, parseSpecial: false) != test.tokens { mismatches.append(test.text) }
            if tokenizer.encode(test.text, addBOS: false, parseSpecial: true) != test.special { mismatches.append("(special) " + test.text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) strings differ, first: \(mismatches.prefix(5).map { $0.debugDescription })")
    }

    /// Our logits for `tokens`, row by row, in slices (a whole row is a megabyte over Gemma's vocabulary).
    static func logits(_ model: Transformer, _ tokens: [Int], body: (Int, ArraySlice<Float>) -> Void) throws {
        let cache = model.makeCache(capacity: tokens.count + 1)
        let v = model.vocabularySize
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + 32)
            let rows = try model.forward(Array(tokens[start..<end]), cache: cache, logits: .all)
            for position in start..<end { body(position, rows[((position - start) * v)..<((position - start + 1) * v)]) }
            start = end
        }
    }

    @Test("logits at every position of every prompt equal to llama.cpp's, to the fixture's five decimals", arguments: prompts)
    func logits(_ prompt: Reference.Prompt) throws {
        let model = try Self.model()
        var worst: Float = 0
        try Self.logits(model, prompt.tokens) { position, row in
            let expected = prompt.positions[position]
            for (id, logit) in zip(expected.ids, expected.logits) {
                worst = max(worst, abs(row[row.startIndex + id] - logit))
            }
            worst = max(worst, Float(abs(Perplexity.logSumExp(row) - expected.logsumexp)))
        }
        print("\(prompt.testDescription.debugDescription): largest deviation \(worst) over \(prompt.tokens.count) positions")
        #expect(worst <= Self.logitTolerance)
    }

    @Test("greedy continuations identical to llama.cpp's, every token", arguments: prompts)
    func greedy(_ prompt: Reference.Prompt) throws {
        let model = try Self.model()
        let same = try Self.greedySame(model, prompt)
        #expect(same == prompt.greedy.count, "diverged at token \(same)\(Self.margin(prompt, same))")
    }

    /// How many of llama.cpp's greedy tokens `model` continues `prompt` with before it parts from them.
    static func greedySame(_ model: Transformer, _ prompt: Reference.Prompt) throws -> Int {
        let generator = Generator(model: model, tokenizer: try Tokenizer(Vocabulary(model.file)))
        var settings = SamplingSettings()
        settings.temperature = 0
        let result = try generator.generate(prompt: prompt.tokens, maxTokens: prompt.greedy.count, sampling: settings, stop: [],
                                            cache: model.makeCache(capacity: prompt.tokens.count + prompt.greedy.count + 1)) { _ in true }
        let same = zip(result.tokens, prompt.greedy).prefix { $0 == $1 }.count
        print("\(prompt.testDescription.debugDescription), \(model.attention) attention: \(same) of \(prompt.greedy.count) greedy tokens as llama.cpp's\(margin(prompt, same))")
        return same
    }

    /// llama.cpp's margin between its top two logits where a continuation parts from its, to tell a near-tie from a
    /// real difference.
    static func margin(_ prompt: Reference.Prompt, _ same: Int) -> String {
        same < prompt.greedyMargins.count ? " (llama.cpp's margin there \(prompt.greedyMargins[same]))" : ""
    }

    /// llama.cpp's own flash path against its default on the same prompts (Fixtures/gemma3/flash.json, written by
    /// scripts/make_flash_fixtures.py).
    struct FlashReference: Decodable {
        struct Prompt: Decodable {
            var deviation: Float
            var greedySame: Int
        }

        var prompts: [Prompt]
    }

    /// The online softmax sums attention in another order than llama.cpp's default, as llama.cpp's `--flash-attn on`
    /// does; the real model's continuations then part from the default's at near-ties. Held to llama.cpp's own
    /// flash path: logits no further from the default's than 1.5x its largest difference, and at least as many
    /// continuations unchanged.
    @Test("flash attention: logits as close to llama.cpp's default as its own flash path's, as many continuations kept")
    func flash() throws {
        let model = try Self.model(attention: .flash)
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("flash.json"))
        let theirs = try JSONDecoder().decode(FlashReference.self, from: data).prompts
        try #require(theirs.count == Self.prompts.count)
        var worst: Float = 0, kept = 0
        for prompt in Self.prompts {
            try Self.logits(model, prompt.tokens) { position, row in
                let expected = prompt.positions[position]
                for (id, logit) in zip(expected.ids, expected.logits) { worst = max(worst, abs(row[row.startIndex + id] - logit)) }
            }
            if try Self.greedySame(model, prompt) == prompt.greedy.count { kept += 1 }
        }
        let theirWorst = theirs.map(\.deviation).max() ?? 0, theirKept = theirs.filter { $0.greedySame == 32 }.count
        print("flash attention: largest logit difference \(worst) (llama.cpp's flash \(theirWorst)); \(kept) of \(Self.prompts.count) continuations kept (llama.cpp's flash \(theirKept))")
        #expect(worst <= 1.5 * theirWorst)
        #expect(kept >= theirKept)
    }

    @Test("perplexity over the committed text equal to llama.cpp's, same chunks, same scoring")
    func perplexity() throws {
        let model = try Self.model()
        let reference = try #require(Self.reference).perplexity
        let text = try String(contentsOf: Self.directory.appendingPathComponent("perplexity.txt"), encoding: .utf8)
        let vocabulary = try Vocabulary(model.file)
        let tokens = try Tokenizer(vocabulary).encode(text, addBOS: true)
        #expect(tokens.count == reference.tokens)
        let result = try Perplexity.measure(model, tokens: tokens, context: reference.context, bos: vocabulary.bos)
        #expect(result.chunks == reference.chunks)
        let ratio = result.perplexity / reference.perplexity
        print("perplexity \(result.perplexity) against llama.cpp's \(reference.perplexity) (ratio \(ratio))")
        // the issue asks for 1%; the logits being llama.cpp's, only the order of the double sums may differ
        #expect(abs(ratio - 1) <= 1e-9)
    }
}

/// Where the real model is: `INFERENCE_REAL_MODEL`, which scripts/test sets from scripts/real-model.
enum RealModelLocation {
    static let path = ProcessInfo.processInfo.environment["INFERENCE_REAL_MODEL"].flatMap { $0.isEmpty ? nil : $0 }
    /// scripts/test sets `DEPLOY_REQUIRE_REAL_MODEL=1`, so that a missing model fails there instead of skipping.
    static let required = ProcessInfo.processInfo.environment["DEPLOY_REQUIRE_REAL_MODEL"] == "1"
}
