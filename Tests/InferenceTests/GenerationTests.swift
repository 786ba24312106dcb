import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// Tokenizing and chat formatting against llama.cpp's own output (recorded in Fixtures/models/manifest.json),
/// and the sampler and text stream's contracts.
@Suite("generation")
struct GenerationTests {
    struct ChatCase: Decodable, Sendable, CustomTestStringConvertible {
        var template: String
        var messages: [ChatMessage]
        var prompt: String
        var testDescription: String { "\(template): \(messages.count) messages" }
    }

    struct Manifest: Decodable {
        var chat: [ChatCase]
    }

    static let chatCases: [ChatCase] = {
        guard let data = try? Data(contentsOf: ModelFixtureTests.directory.appendingPathComponent("manifest.json")) else { return [] }
        return (try? JSONDecoder().decode(Manifest.self, from: data).chat) ?? []
    }()

    static func fixture(_ name: String) throws -> GGUFFile {
        try GGUFFile.open(ModelFixtureTests.directory.appendingPathComponent(name).path)
    }

    @Test("chat formats render exactly as llama.cpp's built-in templates", arguments: chatCases)
    func chatFormats(_ test: ChatCase) throws {
        let template = try #require(ChatTemplate(name: test.template))
        #expect(template.render(test.messages) == test.prompt)
    }

    @Test("chat format detection from the template text, and a clear error for an unknown one")
    func detection() throws {
        #expect(try ChatTemplate.detect(Self.fixture("qwen2-q8_0.gguf").string("tokenizer.chat_template")) == .chatml)
        #expect(try ChatTemplate.detect(Self.fixture("llama-q8_0.gguf").string("tokenizer.chat_template"))
                == .llama2(system: true, bosInHistory: true, strip: false))
        #expect(try ChatTemplate.detect("{{ '<|start_header_id|>' + role + '<|end_header_id|>' }}") == .llama3)
        #expect(try ChatTemplate.detect("{{ '<|user|>' }}{{ '<|assistant|>' }}{{ '<|end|>' }}") == .phi3)
        #expect(try ChatTemplate.detect("{{ '<start_of_turn>' + role + '\\n' }}") == .gemma)
        #expect(try ChatTemplate.detect(nil, architecture: "gemma3") == .gemma, "gemma's own format when the file has no template")
        #expect(try ChatTemplate.detect("[SYSTEM_PROMPT][INST]") == .mistralV7)
        #expect(throws: ChatTemplate.Unknown.self) { try ChatTemplate.detect("{{ messages }}") }
        do {
            _ = try ChatTemplate.detect(nil)
        } catch {
            #expect(error.description.contains("--chat-template"))
        }
    }

    @Test("the fixture vocabularies tokenize as llama.cpp did when it made the fixtures")
    func fixtureTokens() throws {
        for model in ModelFixtureTests.models {
            let tokenizer = try Tokenizer(Vocabulary(Self.fixture(model.file)))
            for test in model.cases {
                #expect(tokenizer.encode(test.text, addBOS: true) == test.tokens, "\(model.file): \(test.text)")
            }
        }
    }

    @Test("special tokens: matched only when asked, never split; text decodes back")
    func specialTokens() throws {
        let tokenizer = try Tokenizer(Vocabulary(Self.fixture("qwen2-q8_0.gguf")))
        let start = try #require(tokenizer.vocabulary.id("<|im_start|>"))
        let parsed = tokenizer.encode("<|im_start|>user\nhi", parseSpecial: true)
        #expect(parsed.first == start)
        #expect(!tokenizer.encode("<|im_start|>user\nhi").contains(start), "not parsed: the text is plain text")
        #expect(tokenizer.decode(parsed) == "user\nhi", "control tokens decode to nothing")
        #expect(tokenizer.decode(parsed, special: true) == "<|im_start|>user\nhi")
        for text in ["Hello world", "Ünïcödé 🦙", "  two  spaces\n"] {
            #expect(tokenizer.decode(tokenizer.encode(text)) == text)
        }
        let spm = try Tokenizer(Vocabulary(Self.fixture("llama-q8_0.gguf")))
        #expect(spm.decode(spm.encode("hello world")) == " hello world", "the space prefix stays")
        #expect(spm.decode(spm.encode("hello🦙ö")) == " hello🦙ö", "byte fallback round-trips")
        #expect(spm.encode("a</s>b", parseSpecial: true).contains(2))
        #expect(tokenizer.endOfGeneration.contains(try #require(tokenizer.vocabulary.id("<|im_end|>"))))
    }

    @Test("a fixed seed samples the same text twice; another seed differs; greedy ignores the seed")
    func seeds() throws {
        let file = try Self.fixture("llama-q4_0.gguf")
        let generator = Generator(model: try Transformer(file, workers: Workers(threads: 2)), tokenizer: try Tokenizer(Vocabulary(file)))
        let prompt = generator.tokenizer.encode("Once upon a time")
        var settings = SamplingSettings()
        settings.temperature = 1.5
        settings.topK = 0
        settings.topP = 1
        settings.minP = 0
        func run(_ seed: UInt64, _ base: SamplingSettings) throws -> [Int] {
            var settings = base
            settings.seed = seed
            return try generator.generate(prompt: prompt, maxTokens: 24, sampling: settings).tokens
        }
        let first = try run(7, settings)
        #expect(first.count == 24)
        #expect(try run(7, settings) == first)
        #expect(try run(8, settings) != first)
        #expect(try run(1, .greedy) == run(2, .greedy))
    }

    @Test("sampler filters: top-k 1 is greedy, penalties move the choice, min-p and top-p cut the tail")
    func samplerFilters() {
        let logits: [Float] = [1, 5, 3, 4.9, -2]
        var settings = SamplingSettings()
        settings.topK = 1
        var sampler = Sampler(settings)
        #expect((0..<20).allSatisfy { _ in sampler.sample(logits, history: [])?.token == 1 })
        var penalised = SamplingSettings.greedy
        penalised.repetitionPenalty = 1.5
        sampler = Sampler(penalised)
        #expect(sampler.sample(logits, history: [1])?.token == 3, "5 / 1.5 falls below 4.9")
        penalised = .greedy
        penalised.presencePenalty = 0.05
        penalised.frequencyPenalty = 0.05
        sampler = Sampler(penalised)
        #expect(sampler.sample(logits, history: [1, 1])?.token == 3)
        var tail = SamplingSettings()
        tail.topK = 0
        tail.topP = 1
        tail.minP = 0.5
        tail.temperature = 5
        sampler = Sampler(tail)
        #expect((0..<200).allSatisfy { _ in [1, 3].contains(sampler.sample(logits, history: [])?.token ?? -1) }, "min-p keeps the two near the top")
        tail.minP = 0
        tail.topP = 0.1
        sampler = Sampler(tail)
        #expect((0..<50).allSatisfy { _ in sampler.sample(logits, history: [])?.token == 1 })
    }

    @Test("the text stream holds back split UTF-8 and possible stop sequences, and cuts at a stop sequence")
    func textStream() {
        var stream = TextStream(stop: ["</answer>"])
        let llama = Array("🦙".utf8)
        #expect(stream.append(Array(llama[0..<2])).0 == "")
        #expect(stream.append(Array(llama[2...]) + Array(" ok </an".utf8)).0 == "🦙 ok ")
        let (text, stopped) = stream.append(Array("swer> more".utf8))
        #expect(text == "" && stopped)
        var plain = TextStream(stop: [])
        #expect(plain.append(Array("abc".utf8)).0 == "abc")
        #expect(plain.append([0xE2, 0x82]).0 == "")
        #expect(plain.finish() == "\u{FFFD}")
    }
}

/// Files that are valid GGUF but not a usable model are refused with the reason, before anything runs.
@Suite("model loading")
struct ModelLoadingTests {
    @Test("a vocabulary-only file, a missing tensor and a wrong shape are each one clear error")
    func refusals() throws {
        let vocabulary = TokenizerVectorTests.fixtures.appendingPathComponent("ggml-vocab-llama-spm.gguf").path
        #expect { try Transformer(path: vocabulary, workers: Workers(threads: 1)) } throws: { error in
            "\(error)".contains("is missing") || "\(error)".contains("architecture")
        }
        let file = try GGUFFile.open(ModelFixtureTests.directory.appendingPathComponent("llama-q8_0.gguf").path)
        var config = try ModelConfig(file)
        config.layers += 1
        #expect { try ModelWeights(file, config) } throws: { "\($0)".contains("'blk.2.attn_norm.weight' is missing") }
        config = try ModelConfig(file)
        config.feedForward *= 2
        #expect { try ModelWeights(file, config) } throws: { "\($0)".contains("has shape [256, 512], expected [256, 1024]") }
    }

    @Test("a prompt longer than a chunk gives the logits that token-by-token decoding gives",
          arguments: ["qwen2-q4_k_m.gguf", "qwen2-q4_0.gguf", "llama-q8_0.gguf"])
    func chunkedPrompt(_ file: String) throws {
        let model = try Transformer(path: ModelFixtureTests.directory.appendingPathComponent(file).path, workers: Workers(threads: 2))
        var generator = SplitMix64(seed: 5)
        let tokens = (0..<(Transformer.chunk * 2 + 7)).map { _ in Int(generator.next() % UInt64(model.vocabularySize)) }
        let together = try model.forward(tokens, cache: model.makeCache(capacity: tokens.count), logits: .all)
        let cache = model.makeCache(capacity: tokens.count)
        var apart: [Float] = []
        for token in tokens { apart += try model.forward([token], cache: cache) }
        #expect(together.count == tokens.count * model.vocabularySize)
        #expect(together == apart, "each token's arithmetic is the same whether it comes alone or in a chunk")
        let last = try model.forward(tokens, cache: model.makeCache(capacity: tokens.count))
        #expect(last == Array(apart.suffix(model.vocabularySize)))
    }

    @Test("the context limit is an error, not a crash")
    func contextFull() throws {
        let model = try Transformer(path: ModelFixtureTests.directory.appendingPathComponent("llama-q4_0.gguf").path, workers: Workers(threads: 1))
        let cache = model.makeCache(capacity: 4)
        _ = try model.forward([1, 2, 3], cache: cache)
        #expect(throws: ModelError.self) { try model.forward([4, 5], cache: cache) }
        #expect(throws: ModelError.self) { try model.forward([model.vocabularySize], cache: model.makeCache(capacity: 4)) }
    }
}
