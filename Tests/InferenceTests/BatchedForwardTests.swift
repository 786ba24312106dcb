import Foundation
import Testing
@testable import InferenceEngine

/// Several sequences in one pass (continuous batching) give each sequence exactly the logits it gets alone.
@Suite("batched forward")
struct BatchedForwardTests {
    @Test("segments of one step equal each sequence alone, bit for bit, through prompts and decoding",
          arguments: ["llama-q4_0.gguf", "qwen2-q4_k_m.gguf", "llama-q8_0.gguf", "llama-f16.gguf"])
    func equalsAlone(_ file: String) throws {
        let model = try Transformer(path: ModelFixtureTests.directory.appendingPathComponent(file).path, workers: Workers(threads: 2))
        let prompts = [[1, 17, 300, 42, 9], [1, 800], [1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]]
        let next = [[33, 44, 55], [66, 77, 88], [99, 111, 122]]

        var alone: [[[Float]]] = []
        for (prompt, continuation) in zip(prompts, next) {
            let cache = model.makeCache(capacity: 64)
            var steps = [try model.forward(prompt, cache: cache)]
            for token in continuation { steps.append(try model.forward([token], cache: cache)) }
            alone.append(steps)
        }

        let caches = prompts.map { _ in model.makeCache(capacity: 64) }
        // the long prompt goes in two chunks, the first without logits, while the others run
        var together = [[[Float]]](repeating: [], count: prompts.count)
        let first = try model.forward(segments: [
            .init(tokens: prompts[0], cache: caches[0]), .init(tokens: prompts[1], cache: caches[1]),
            .init(tokens: Array(prompts[2].prefix(8)), cache: caches[2], wantsLogits: false),
        ])
        #expect(first[2].isEmpty)
        together[0].append(first[0])
        together[1].append(first[1])
        let second = try model.forward(segments: [
            .init(tokens: [next[0][0]], cache: caches[0]), .init(tokens: [next[1][0]], cache: caches[1]),
            .init(tokens: Array(prompts[2].dropFirst(8)), cache: caches[2]),
        ])
        together[0].append(second[0])
        together[1].append(second[1])
        together[2].append(second[2])
        for step in 1..<3 {
            let logits = try model.forward(segments: [
                .init(tokens: [next[0][step]], cache: caches[0]), .init(tokens: [next[1][step]], cache: caches[1]),
                .init(tokens: [next[2][step - 1]], cache: caches[2]),
            ])
            for index in 0..<3 { together[index].append(logits[index]) }
        }
        together[2].append(try model.forward(segments: [.init(tokens: [next[2][2]], cache: caches[2])])[0])

        for index in prompts.indices {
            #expect(together[index].count == alone[index].count)
            for (step, logits) in together[index].enumerated() {
                #expect(logits == alone[index][step], "\(file): sequence \(index), step \(step)")
            }
        }
    }

    @Test("a step refuses a full cache, a token outside the vocabulary and two segments on one cache")
    func refusals() throws {
        let model = try Transformer(path: ModelFixtureTests.directory.appendingPathComponent("llama-q4_0.gguf").path, workers: Workers(threads: 1))
        let cache = model.makeCache(capacity: 4)
        #expect(throws: ModelError.self) { try model.forward(segments: [.init(tokens: [1, 2, 3, 4, 5], cache: cache)]) }
        #expect(throws: ModelError.self) { try model.forward(segments: [.init(tokens: [model.vocabularySize], cache: cache)]) }
        #expect(throws: ModelError.self) { try model.forward(segments: [.init(tokens: [1], cache: cache), .init(tokens: [2], cache: cache)]) }
        #expect(cache.count == 0, "a refused step writes nothing")
    }
}
