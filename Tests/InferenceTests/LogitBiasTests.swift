import Testing
@testable import InferenceEngine

/// `LogitBias`: built once into ascending ids with their biases, applied as OpenAI's `logit_bias` is.
@Suite("logit bias")
struct LogitBiasTests {
    @Test("ids ascending and unique (the last repeat wins), NaN and negative ids dropped, biases above 100 taken as 100")
    func built() {
        let bias = LogitBias([(9, 1), (3, -100), (9, 2), (-4, 5), (5, .nan), (0, 250), (7, -1_000)])
        #expect(bias.tokens == [0, 3, 7, 9])
        #expect(bias.biases == [100, -100, -1_000, 2])
        #expect(bias.bannedCount(below: 10) == 2)
        #expect(bias.bannedCount(below: 5) == 1)
        #expect(LogitBias([Int: Float]()).isEmpty)
    }

    @Test("applied, it is the dictionary's bias: added, or -∞ for a ban, ids past the vocabulary ignored", arguments: [1, 10, 64, 1_000])
    func applied(_ entries: Int) {
        var random = SplitMix64(seed: UInt64(entries))
        let count = 500
        var map: [Int: Float] = [:]
        for _ in 0..<entries { map[Int(random.next() % 700)] = [Float(-100), -150, -3.5, 0, 2, 100, 120][Int(random.next() % 7)] }
        let logits = (0..<count).map { _ in Float(Int(random.next() % 200)) / 10 - 10 }
        var expected = logits
        for (token, value) in map where token < count { expected[token] = value <= -100 ? -.infinity : expected[token] + min(value, 100) }
        var ours = logits
        ours.withUnsafeMutableBufferPointer { LogitBias(map).apply(to: $0.baseAddress!, count: count) }
        #expect(ours == expected)
    }
}
