import Foundation
@testable import InferenceEngine

/// The sampler as it was before selection replaced sorting: logit bias, penalties, the whole vocabulary sorted (or a
/// top-k heap), top-p over the sorted prefix, min-p against the first, softmax at the temperature. The new sampler's
/// pool is held against this one's, token for token.
enum ReferenceSampler {
    struct Outcome {
        /// Each surviving token's probability.
        var probabilities: [Int: Double]
        /// Whether a cut fell so near its bound that float rounding may move it by a token.
        var fragile: Bool
    }

    static func adjusted(_ logits: [Float], _ history: [Int], _ settings: SamplingSettings) -> [Float] {
        var logits = logits
        for (token, bias) in settings.logitBias where token >= 0 && token < logits.count && !bias.isNaN {
            logits[token] = bias <= -100 ? -.infinity : logits[token] + min(bias, 100)
        }
        if settings.repetitionPenalty != 1 || settings.presencePenalty != 0 || settings.frequencyPenalty != 0 {
            var counts: [Int: Int] = [:]
            for token in history.suffix(settings.penaltyWindow) where token >= 0 && token < logits.count { counts[token, default: 0] += 1 }
            for (token, count) in counts {
                var logit = logits[token]
                logit = logit > 0 ? logit / settings.repetitionPenalty : logit * settings.repetitionPenalty
                logit -= Float(count) * settings.frequencyPenalty + settings.presencePenalty
                logits[token] = logit
            }
        }
        return logits
    }

    static func outcome(_ logits: [Float], _ history: [Int], _ settings: SamplingSettings) -> Outcome {
        let logits = adjusted(logits, history, settings)
        var candidates = best(logits, settings.topK)
        var probabilities = softmax(candidates.map { logits[$0] })
        var fragile = false
        let margin: Float = 1e-4
        if settings.topP < 1 {
            var total: Float = 0, keep = 0
            while keep < probabilities.count {
                total += probabilities[keep]
                keep += 1
                if abs(total - settings.topP) < margin { fragile = true }
                if total >= settings.topP { break }
            }
            candidates = Array(candidates.prefix(keep))
            probabilities = Array(probabilities.prefix(keep))
        }
        if settings.minP > 0, let top = probabilities.first {
            if probabilities.contains(where: { abs($0 / top - settings.minP) < margin }) { fragile = true }
            let keep = probabilities.prefix { $0 >= settings.minP * top }.count
            candidates = Array(candidates.prefix(max(1, keep)))
        }
        probabilities = softmax(candidates.map { logits[$0] / settings.temperature })
        var result: [Int: Double] = [:]
        for (token, probability) in zip(candidates, probabilities) where probability > 0 { result[token] = Double(probability) }
        return Outcome(probabilities: result, fragile: fragile)
    }

    /// The indices of the `k` largest logits (all of them when `k` is 0), best first, ties to the lower index.
    static func best(_ logits: [Float], _ k: Int) -> [Int] {
        let sorted = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        return k > 0 ? Array(sorted.prefix(k)) : sorted
    }

    static func softmax(_ values: [Float]) -> [Float] {
        guard let maximum = values.max() else { return [] }
        let exponentials = values.map { expf($0 - maximum) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    /// The log-softmax in double precision.
    static func logSoftmax(_ logits: [Float]) -> [Double] {
        let maximum = Double(logits.max() ?? 0)
        let total = logits.reduce(0.0) { $0 + exp(Double($1) - maximum) }
        return logits.map { Double($0) - maximum - log(total) }
    }
}
