import Foundation

/// Chooses tokens: logit bias, penalties, then greedy or top-k, top-p, min-p and temperature, then a draw from a
/// seeded generator (the order of llama.cpp's default sampler chain).
public struct Sampler: Sendable {
    public let settings: SamplingSettings
    private var random: SplitMix64

    public init(_ settings: SamplingSettings) {
        self.settings = settings
        random = SplitMix64(seed: settings.seed)
    }

    /// The next token for `logits`, given the tokens so far (`history`, for the penalties).
    ///
    /// `allowed`, when given, is the caller's constraint (a JSON grammar, say): only a token it allows is returned.
    /// It is asked lazily, about the candidates the sampler considers, not the whole vocabulary. Greedy takes the
    /// most likely allowed token; a draw is made from the candidates top-k, top-p and min-p leave, restricted to the
    /// allowed ones (a rejected draw leaves the pool and the draw is repeated; after a few, the rest are asked in
    /// order of probability). When no candidate is allowed, the most likely allowed token of the whole vocabulary is
    /// taken; when no token at all is allowed, the most likely token is returned regardless, and the caller decides.
    public mutating func sample(_ logits: [Float], history: [Int], allowed: ((Int) -> Bool)? = nil) -> SampledToken {
        var logits = logits
        applyBias(&logits)
        applyPenalties(&logits, history.suffix(settings.penaltyWindow))
        for index in logits.indices where logits[index].isNaN { logits[index] = -.infinity }
        let token = settings.temperature <= 0 ? mostLikely(logits, allowed) : draw(logits, allowed)
        return report(token, logits)
    }

    private mutating func draw(_ logits: [Float], _ allowed: ((Int) -> Bool)?) -> Int {
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
        for attempt in 0..<Self.redraws {
            var draw = Float(random.next() >> 40) / Float(1 << 24) * probabilities.reduce(0, +)
            var chosen = candidates.count - 1
            for (index, probability) in probabilities.enumerated() {
                draw -= probability
                if draw < 0 { chosen = index; break }
            }
            guard let allowed, !allowed(candidates[chosen]) else { return candidates[chosen] }
            candidates.remove(at: chosen)
            probabilities.remove(at: chosen)
            if candidates.isEmpty || attempt == Self.redraws - 1 { break }
        }
        guard let allowed else { return candidates.last ?? 0 }
        let permitted = candidates.indices.filter { allowed(candidates[$0]) }
        guard !permitted.isEmpty else { return mostLikely(logits, allowed) }
        var draw = Float(random.next() >> 40) / Float(1 << 24) * permitted.reduce(0) { $0 + probabilities[$1] }
        for index in permitted {
            draw -= probabilities[index]
            if draw < 0 { return candidates[index] }
        }
        return candidates[permitted[permitted.count - 1]]
    }

    /// Draws from the candidates before asking `allowed` about the rest in order.
    static let redraws = 8

    private func mostLikely(_ logits: [Float], _ allowed: ((Int) -> Bool)?) -> Int {
        let best = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) } ?? 0
        guard let allowed, !allowed(best) else { return best }
        return Self.best(logits, 0).first(where: allowed) ?? best
    }

    private func report(_ token: Int, _ logits: [Float]) -> SampledToken {
        guard let count = settings.logprobs else { return SampledToken(token: token) }
        let maximum = logits.max() ?? 0
        let logTotal = maximum + log(logits.reduce(Float(0)) { $0 + expf($1 - maximum) })
        let top = Self.best(logits, min(max(0, count), SamplingSettings.maximumLogprobs)).prefix(max(0, count))
        return SampledToken(token: token, logprob: logits[token] - logTotal,
                            top: top.map { TokenLogprob(token: $0, logprob: logits[$0] - logTotal) })
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

    private func applyBias(_ logits: inout [Float]) {
        for (token, bias) in settings.logitBias where token >= 0 && token < logits.count && !bias.isNaN {
            logits[token] = bias <= -100 ? -.infinity : logits[token] + min(bias, 100)
        }
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
