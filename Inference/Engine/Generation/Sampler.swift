import Foundation

/// How the next token is chosen from the logits.
public struct SamplingSettings: Sendable, Equatable {
    /// 0 picks the most likely token (greedy); higher values flatten the distribution.
    public var temperature: Float = 0.8
    /// Keep only the k most likely tokens (0: all).
    public var topK: Int = 40
    /// Keep the most likely tokens whose probabilities add up to at least p (1: all).
    public var topP: Float = 0.95
    /// Drop tokens less likely than min-p times the most likely one (0: none).
    public var minP: Float = 0.05
    /// Divides positive logits (multiplies negative ones) of tokens seen in the last `penaltyWindow` tokens.
    public var repetitionPenalty: Float = 1
    /// Subtracted once from the logit of every token seen in the window.
    public var presencePenalty: Float = 0
    /// Subtracted from a token's logit for each time it was seen in the window.
    public var frequencyPenalty: Float = 0
    public var penaltyWindow: Int = 64
    /// Seeds the random choice: the same seed, model, prompt and settings give the same output.
    public var seed: UInt64 = 0

    public init() {}

    /// Always the most likely token.
    public static var greedy: SamplingSettings {
        var settings = SamplingSettings()
        settings.temperature = 0
        return settings
    }
}

/// Chooses tokens: penalties, then greedy or top-k, top-p, min-p and temperature, then a draw from a seeded
/// generator (the order of llama.cpp's default sampler chain).
public struct Sampler: Sendable {
    public let settings: SamplingSettings
    private var random: SplitMix64

    public init(_ settings: SamplingSettings) {
        self.settings = settings
        random = SplitMix64(seed: settings.seed)
    }

    /// The next token for `logits`, given the tokens so far (`history`, for the penalties).
    public mutating func sample(_ logits: [Float], history: [Int]) -> Int {
        var logits = logits
        applyPenalties(&logits, history.suffix(settings.penaltyWindow))
        if settings.temperature <= 0 {
            return logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) } ?? 0
        }
        var candidates = Self.best(logits, settings.topK)
        var probabilities = softmax(candidates.map { logits[$0] })
        if settings.topP < 1 {
            var total: Float = 0, keep = 0
            while keep < probabilities.count {
                total += probabilities[keep]
                keep += 1
                if total >= settings.topP { break }
            }
            candidates = Array(candidates.prefix(keep))
            probabilities = Array(probabilities.prefix(keep))
        }
        if settings.minP > 0, let top = probabilities.first {
            let keep = probabilities.prefix { $0 >= settings.minP * top }.count
            candidates = Array(candidates.prefix(max(1, keep)))
        }
        probabilities = softmax(candidates.map { logits[$0] / settings.temperature })
        var draw = Float(random.next() >> 40) / Float(1 << 24)
        for (index, probability) in probabilities.enumerated() {
            draw -= probability
            if draw < 0 { return candidates[index] }
        }
        return candidates.last ?? 0
    }

    /// The indices of the `k` largest logits (all of them when `k` is 0), best first, ties to the lower index.
    /// A heap of `k` keeps this O(n log k): sorting a 150,000-token vocabulary for every token cost more than a
    /// small model's whole forward pass.
    static func best(_ logits: [Float], _ k: Int) -> [Int] {
        guard k > 0, k < logits.count else {
            return logits.indices.sorted { Ranked(logit: logits[$1], index: $1) < Ranked(logit: logits[$0], index: $0) }
        }
        var heap = BinaryHeap<Ranked>()
        for (index, logit) in logits.enumerated() {
            let candidate = Ranked(logit: logit, index: index)
            if heap.count < k {
                heap.push(candidate)
            } else if let worst = heap.minimum, worst < candidate {
                _ = heap.pop()
                heap.push(candidate)
            }
        }
        var order: [Int] = []
        while let next = heap.pop() { order.append(next.index) }
        return order.reversed()
    }

    /// A token ordered by how likely it is: "less" is a lower logit, or the same logit and a higher index.
    struct Ranked: Comparable {
        var logit: Float
        var index: Int

        static func < (a: Ranked, b: Ranked) -> Bool { a.logit < b.logit || (a.logit == b.logit && a.index > b.index) }
    }

    private func applyPenalties(_ logits: inout [Float], _ window: ArraySlice<Int>) {
        guard settings.repetitionPenalty != 1 || settings.presencePenalty != 0 || settings.frequencyPenalty != 0 else { return }
        var counts: [Int: Int] = [:]
        for token in window where token >= 0 && token < logits.count { counts[token, default: 0] += 1 }
        for (token, count) in counts {
            var logit = logits[token]
            logit = logit > 0 ? logit / settings.repetitionPenalty : logit * settings.repetitionPenalty
            logit -= Float(count) * settings.frequencyPenalty + settings.presencePenalty
            logits[token] = logit
        }
    }

    private func softmax(_ values: [Float]) -> [Float] {
        guard let maximum = values.max() else { return [] }
        let exponentials = values.map { expf($0 - maximum) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64): the same seed gives the same sequence on
/// every platform, which `SystemRandomNumberGenerator` cannot.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
