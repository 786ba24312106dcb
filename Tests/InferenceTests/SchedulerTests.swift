import Foundation
import GGUF
import Synchronization
import Testing
@testable import InferenceEngine

/// Continuous batching through the scheduler: the same text as generating alone, whatever runs beside it; a shared
/// prompt beginning reused; cancellation, a full queue and an oversize prompt handled.
@Suite("scheduler")
struct SchedulerTests {
    /// Collects one request's events; `wait` returns them once it has finished.
    final class Collector: Sendable {
        private let state = Mutex<(text: String, summary: CompletionSummary?, failure: String?)>(("", nil, nil))
        private let done = DispatchSemaphore(value: 0)

        func receive(_ event: CompletionEvent) {
            switch event {
            case .text(let piece): state.withLock { $0.text += piece }
            case .token: break
            case .finished(let summary): state.withLock { $0.summary = summary }; done.signal()
            case .failed(let message), .unsatisfiable(let message): state.withLock { $0.failure = message }; done.signal()
            }
        }

        func wait() -> (text: String, summary: CompletionSummary?, failure: String?) {
            done.wait()
            return state.withLock { $0 }
        }

        var text: String { state.withLock { $0.text } }
    }

    static func load(_ file: String) throws -> (Transformer, Tokenizer) {
        let gguf = try GGUFFile.open(ModelFixtureTests.directory.appendingPathComponent(file).path)
        return (try Transformer(gguf, workers: Workers(threads: 2)), try Tokenizer(Vocabulary(gguf)))
    }

    static func request(_ prompt: [Int], maxTokens: Int, sampling: SamplingSettings = .greedy, stop: [String] = [],
                        cancellation: Cancellation = Cancellation()) -> (CompletionRequest, Collector) {
        let collector = Collector()
        return (CompletionRequest(prompt: prompt, sampling: sampling, maxTokens: maxTokens, stop: stop, cancellation: cancellation,
                                  events: { collector.receive($0) }), collector)
    }

    @Test("greedy text through the scheduler, alone and beside 7 others, equals generating alone",
          arguments: ["llama-q4_0.gguf", "qwen2-q4_k_m.gguf"])
    func sameAsAlone(_ file: String) throws {
        let (model, tokenizer) = try Self.load(file)
        let prompts = (0..<8).map { index in tokenizer.encode("Story \(index): once upon a time there was", addBOS: true) }
        let generator = Generator(model: model, tokenizer: tokenizer)
        let expected = try prompts.map { prompt in
            try generator.generate(prompt: prompt, maxTokens: 12, sampling: .greedy, cache: model.makeCache(capacity: 64)).text
        }
        let scheduler = Scheduler(model: model, tokenizer: tokenizer, configuration: .init(parallel: 8, contextPerSlot: 64, prefillChunk: 4))
        scheduler.start()
        defer { scheduler.drain() }
        let (alone, aloneResult) = Self.request(prompts[0], maxTokens: 12)
        try scheduler.submit(alone)
        #expect(aloneResult.wait().text == expected[0])

        let requests = prompts.map { Self.request($0, maxTokens: 12) }
        for (request, _) in requests { try scheduler.submit(request) }
        for (index, (_, collector)) in requests.enumerated() {
            let result = collector.wait()
            #expect(result.text == expected[index], "sequence \(index)")
            #expect(result.summary?.completionTokens == 12 && result.summary?.finishReason == .length)
            #expect(result.summary?.promptTokens == prompts[index].count)
        }
        #expect(scheduler.statistics.steps < 8 * 12, "the sequences shared steps")
    }

    @Test("a prompt that begins like an earlier one reuses its cache and gives the same text")
    func prefixReuse() throws {
        let (model, tokenizer) = try Self.load("llama-q8_0.gguf")
        let history = tokenizer.encode("The first turn of a long conversation about llamas and their wool", addBOS: true)
        let scheduler = Scheduler(model: model, tokenizer: tokenizer, configuration: .init(parallel: 2, contextPerSlot: 128))
        scheduler.start()
        defer { scheduler.drain() }
        let (first, firstResult) = Self.request(history, maxTokens: 4)
        try scheduler.submit(first)
        let firstSummary = try #require(firstResult.wait().summary)
        #expect(firstSummary.reusedPromptTokens == 0)

        let next = history + firstSummary.tokens + tokenizer.encode(" and then", addBOS: false)
        let (second, secondResult) = Self.request(next, maxTokens: 6)
        try scheduler.submit(second)
        let reused = secondResult.wait()
        // the first request's last token was sampled but never run through the model, so the cache ends just before it
        #expect(reused.summary?.reusedPromptTokens == history.count + firstSummary.tokens.count - 1, "the history came from the cache")

        let expected = try Generator(model: model, tokenizer: tokenizer)
            .generate(prompt: next, maxTokens: 6, sampling: .greedy, cache: model.makeCache(capacity: 128)).text
        #expect(reused.text == expected)
    }

    @Test("a cancelled request frees its slot at the next step; a full queue and an oversize prompt are refused")
    func cancellationAndRefusals() throws {
        let (model, tokenizer) = try Self.load("llama-q4_0.gguf")
        let scheduler = Scheduler(model: model, tokenizer: tokenizer, configuration: .init(parallel: 1, contextPerSlot: 64, queueLimit: 1))
        scheduler.start()
        defer { scheduler.drain() }
        let cancellation = Cancellation()
        let (long, longResult) = Self.request([1, 2, 3], maxTokens: 60, sampling: SamplingSettings(), cancellation: cancellation)
        try scheduler.submit(long)
        while longResult.text.isEmpty { usleep(1_000) }
        let (queued, queuedResult) = Self.request([1, 4], maxTokens: 2)
        try scheduler.submit(queued)
        #expect(throws: Scheduler.Refusal.busy) { try scheduler.submit(Self.request([1], maxTokens: 1).0) }
        cancellation.cancel()
        #expect(queuedResult.wait().summary?.completionTokens == 2, "the slot the cancelled request held went to the next")
        #expect(throws: Scheduler.Refusal.promptTooLong(tokens: 64, context: 64)) {
            try scheduler.submit(Self.request(Array(repeating: 1, count: 64), maxTokens: 1).0)
        }
    }

    @Test("drain lets queued and running requests finish, then refuses new ones")
    func drain() throws {
        let (model, tokenizer) = try Self.load("llama-q4_0.gguf")
        let scheduler = Scheduler(model: model, tokenizer: tokenizer, configuration: .init(parallel: 1, contextPerSlot: 64))
        scheduler.start()
        let requests = (0..<3).map { Self.request([1, 10 + $0], maxTokens: 5) }
        for (request, _) in requests { try scheduler.submit(request) }
        scheduler.drain()
        for (_, collector) in requests { #expect(collector.wait().summary?.completionTokens == 5) }
        #expect(throws: Scheduler.Refusal.stopping) { try scheduler.submit(Self.request([1], maxTokens: 1).0) }
    }
}
