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
    /// Added to a token's logit before anything else (penalties, greedy, truncation, log-probabilities), as OpenAI's
    /// `logit_bias`: a bias of -100 or less bans the token outright (its logit becomes -∞), a bias above 100 counts
    /// as 100, a NaN bias and a token outside the vocabulary are ignored. A banned token is never sampled.
    public var logitBias = LogitBias()
    /// Log-probabilities to report with each token: nil, none (and nothing computed); n ≥ 0, the chosen token's and
    /// the n most likely tokens' (n is taken as at most 20). See `SampledToken`.
    public var logprobs: Int?

    public init() {}

    /// Always the most likely token.
    public static var greedy: SamplingSettings {
        var settings = SamplingSettings()
        settings.temperature = 0
        return settings
    }

    /// The most alternatives `logprobs` reports, as OpenAI's `top_logprobs`.
    public static let maximumLogprobs = 20
}
