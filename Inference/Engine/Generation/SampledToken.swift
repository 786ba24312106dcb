/// A token the sampler chose, with its log-probabilities when `SamplingSettings.logprobs` asked for them.
///
/// Log-probabilities are of the model's distribution: the log-softmax of the logits after `logitBias` and the
/// penalties, at temperature 1, before top-k, top-p and min-p cut it and whatever `allowed` predicate the caller
/// passed (a banned token's is -∞). They say how likely the model found a token, not how likely this sampler was to
/// draw it.
public struct SampledToken: Sendable {
    public var token: Int
    /// The chosen token's log-probability; nil when `logprobs` is nil.
    public var logprob: Float?
    /// The `logprobs` most likely tokens of the whole vocabulary, most likely first (ties to the lower id); the chosen
    /// token is among them when it is that likely. Empty when `logprobs` is nil or 0.
    public var top: [TokenLogprob]

    public init(token: Int, logprob: Float? = nil, top: [TokenLogprob] = []) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }
}

/// A token and its log-probability.
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int
    public var logprob: Float

    public init(token: Int, logprob: Float) {
        self.token = token
        self.logprob = logprob
    }
}
