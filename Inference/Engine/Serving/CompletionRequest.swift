import Synchronization

/// One generation asked of the scheduler: the prompt's tokens, how to sample, when to stop, and where its text
/// goes as it is made.
public struct CompletionRequest: Sendable {
    public var prompt: [Int]
    public var sampling: SamplingSettings
    public var maxTokens: Int
    public var stop: [String]
    /// What the output must be (a JSON grammar), enforced token by token; nil for free text.
    public var constraint: JSONGrammar?
    /// Receives the request's events in order, on the scheduler's thread; it must return quickly.
    public var events: @Sendable (CompletionEvent) -> Void
    /// Set by the caller when its client has gone; the scheduler frees the slot at its next step.
    public let cancellation: Cancellation

    public init(prompt: [Int], sampling: SamplingSettings, maxTokens: Int, stop: [String] = [], constraint: JSONGrammar? = nil,
                cancellation: Cancellation = Cancellation(), events: @escaping @Sendable (CompletionEvent) -> Void) {
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stop = stop
        self.constraint = constraint
        self.cancellation = cancellation
        self.events = events
    }
}

/// What a request hears from the scheduler: text as it is released (whole characters, never a part of a stop
/// sequence), then exactly one `finished` or `failed`. When `sampling.logprobs` asks for them, each generated token
/// (not an end-of-generation token) comes as `token` before the text it completes.
public enum CompletionEvent: Sendable {
    case text(String)
    case token(GeneratedToken)
    case finished(CompletionSummary)
    case failed(String)
    /// The request's own constraints left no token to emit: every token the response format allows (or every
    /// token) is banned by its logit bias. The request ends here; this is the client's doing, not the server's.
    case unsatisfiable(String)
}

/// How a generation ended, with the figures the API reports and the metrics record.
public struct CompletionSummary: Sendable, Equatable {
    public var finishReason: FinishReason
    public var promptTokens: Int
    public var completionTokens: Int
    /// Prompt tokens whose keys and values came from the cache of an earlier request instead of being computed.
    public var reusedPromptTokens: Int
    /// From submission to the first generated token, and the mean time per generated token after it.
    public var timeToFirstToken: Double
    public var secondsPerToken: Double
    /// The generated token ids (for tests and the audit log's counts).
    public var tokens: [Int]
}

/// A flag a request's owner raises to cancel it.
public final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// A generated token with its log-probability and the most likely alternatives (`SampledToken`'s).
public struct GeneratedToken: Sendable, Equatable {
    public var id: Int
    public var logprob: Float
    public var top: [TokenLogprob]

    public init(id: Int, logprob: Float, top: [TokenLogprob]) {
        self.id = id
        self.logprob = logprob
        self.top = top
    }
}
