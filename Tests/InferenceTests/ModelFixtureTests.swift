import Foundation
import Testing
@testable import InferenceEngine

/// The forward pass against llama.cpp on the committed random-weight models (Fixtures/models, written by
/// scripts/make_model_fixtures.py): logits within each type's recorded tolerance, greedy continuations token for token.
@Suite("models against llama.cpp")
struct ModelFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/models")

    struct Manifest: Decodable {
        struct Model: Decodable, Sendable, CustomTestStringConvertible {
            var file: String
            var architecture: String
            var type: String
            var tolerance: Float
            var logits: String
            var vocabularySize: Int
            var cases: [Case]
            var testDescription: String { file }
        }

        struct Case: Decodable, Sendable {
            var text: String
            var tokens: [Int]
            var logitsOffset: Int
            var logitsSpread: Float
            var greedy: [Int]
        }

        var models: [Model]
    }

    static let manifest: Manifest? = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")) else { return nil }
        return try? JSONDecoder().decode(Manifest.self, from: data)
    }()

    static var models: [Manifest.Model] { manifest?.models ?? [] }

    /// How far llama.cpp's own flash-attention logits lie from its default ones on each model, as a fraction of the
    /// spread (Fixtures/models/flash.json, written by scripts/make_flash_fixtures.py).
    struct FlashDeviations: Decodable {
        var models: [String: Float]
    }

    static let flashDeviations: FlashDeviations? = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("flash.json")) else { return nil }
        return try? JSONDecoder().decode(FlashDeviations.self, from: data)
    }()

    static func referenceLogits(_ model: Manifest.Model) throws -> [Float] {
        let data = try Data(contentsOf: directory.appendingPathComponent(model.logits))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test("the fixtures cover every architecture and every tensor type")
    func coverage() throws {
        let models = try #require(Self.manifest).models
        #expect(Set(models.map(\.architecture)) == Set(ModelConfig.architectures))
        #expect(Set(models.map(\.type)).isSuperset(of: ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]))
        #expect(models.reduce(0) { $0 + $1.cases.reduce(0) { $0 + $1.greedy.count } } >= 60, "enough greedy steps to mean something")
    }

    /// Both ways of summing attention against llama.cpp's default logits: in its non-flash order within the recorded
    /// tolerance; with the online softmax, whose attention outputs differ from the default's in the fourth decimal
    /// (the default rounds probabilities to f16), no further than 1.5x llama.cpp's own flash path lies from them.
    @Test("logits match llama.cpp within the recorded tolerance", arguments: models, AttentionMode.allCases)
    func logits(_ model: Manifest.Model, _ attention: AttentionMode) throws {
        let transformer = try Transformer(path: Self.directory.appendingPathComponent(model.file).path, workers: Workers(threads: 2), attention: attention)
        #expect(transformer.vocabularySize == model.vocabularySize)
        var tolerance = model.tolerance
        if attention == .flash {
            let theirs = try #require(Self.flashDeviations?.models[model.file], "flash.json has no figure for \(model.file)")
            tolerance = max(tolerance, 1.5 * theirs)
        }
        let reference = try Self.referenceLogits(model)
        var positions = 0, close = 0
        for test in model.cases {
            let logits = try transformer.forward(test.tokens, cache: transformer.makeCache(capacity: 64), logits: .all)
            let expected = Array(reference[test.logitsOffset..<(test.logitsOffset + logits.count)])
            let v = model.vocabularySize
            let deviations = (0..<test.tokens.count).map { t in
                (0..<v).reduce(Float(0)) { max($0, abs(logits[t * v + $1] - expected[t * v + $1])) } / test.logitsSpread
            }
            let relative = deviations.max() ?? 0
            positions += deviations.count
            close += deviations.filter { $0 <= 0.01 }.count
            #expect(relative <= tolerance, "\(model.file) \(attention) '\(test.text)': max deviation \(relative) of the spread")
        }
        // The tolerance covers a flipped quantisation step, which the positions after it carry along; until one
        // happens the positions match far closer than that. A systematic error (a wrong rounding, a wrong RoPE pair)
        // leaves no position that close; measured: 33% (llama-q8_0) to 100% of positions per model. (The online
        // softmax's differences flip a step from the second position on, as llama.cpp's flash path's do.)
        guard attention == .exact else { return }
        #expect(close * 4 >= positions, "\(model.file) \(attention): only \(close) of \(positions) positions within 0.01 of the spread")
    }

    @Test("greedy continuations match llama.cpp token for token", arguments: models, AttentionMode.allCases)
    func greedy(_ model: Manifest.Model, _ attention: AttentionMode) throws {
        let transformer = try Transformer(path: Self.directory.appendingPathComponent(model.file).path, workers: Workers(threads: 2), attention: attention)
        for test in model.cases where !test.greedy.isEmpty {
            let cache = transformer.makeCache(capacity: 64)
            var logits = try transformer.forward(test.tokens, cache: cache)
            var produced: [Int] = []
            while produced.count < test.greedy.count {
                let next = logits.indices.max { logits[$0] < logits[$1] }!
                produced.append(next)
                logits = try transformer.forward([next], cache: cache)
            }
            #expect(produced == test.greedy, "\(model.file) \(attention) '\(test.text)'")
        }
    }
}
