import Foundation

/// One sequence the scheduler can run: a KV cache that outlives its requests (so a later prompt sharing its
/// beginning reuses it) and, while busy, the request's progress.
final class Slot {
    /// Where the slot is in serving a request, as llama.cpp's server names its slot states.
    enum State {
        /// No request; the cache stays for a later prompt that shares its beginning.
        case idle
        /// Running the request's prompt through the model, a chunk a step (`pending` holds what is left).
        case processingPrompt(CompletionRequest)
        /// Sampling the request's next token each step, from the logits of the one before.
        case generating(CompletionRequest)
    }

    let cache: KVCache
    /// The tokens whose keys and values `cache` holds, in order.
    var cachedTokens: [Int] = []
    var lastUsed: UInt64 = 0

    private(set) var state = State.idle
    /// Prompt tokens still to run through the model.
    var pending: [Int] = []
    var history: [Int] = []
    var generated: [Int] = []
    var sampler = Sampler(SamplingSettings())
    var text = TextStream(stop: [])
    var constraint: TokenConstraint?
    var logits: [Float] = []
    var submitted = Date()
    var firstToken: Date?
    var reused = 0

    init(cache: KVCache) {
        self.cache = cache
    }

    /// The request being served, in either busy state.
    var request: CompletionRequest? {
        switch state {
        case .idle: nil
        case .processingPrompt(let request), .generating(let request): request
        }
    }

    var isBusy: Bool { request != nil }

    var isProcessingPrompt: Bool {
        if case .processingPrompt = state { true } else { false }
    }

    var isGenerating: Bool {
        if case .generating = state { true } else { false }
    }

    /// After a step ran part of the prompt: once all of it has run, the slot has the logits of its last token and
    /// generates from the next step on.
    func promptAdvanced() {
        if case .processingPrompt(let request) = state, pending.isEmpty { state = .generating(request) }
    }

    /// How many leading tokens of `prompt` this slot's cache already holds.
    func sharedPrefix(with prompt: [Int]) -> Int {
        var length = 0
        while length < min(prompt.count, cachedTokens.count), prompt[length] == cachedTokens[length] { length += 1 }
        return length
    }

    /// Takes `request`, keeping the cached prefix it shares (all but its last token, whose logits are needed).
    func start(_ request: CompletionRequest, submitted: Date, tick: UInt64, reuse: Bool = true, tokenBytes: () -> TokenBytes) {
        let keep = reuse ? min(sharedPrefix(with: request.prompt), request.prompt.count - 1) : 0
        cache.truncate(to: keep)
        cachedTokens.removeLast(cachedTokens.count - keep)
        reused = keep
        pending = Array(request.prompt[keep...])
        history = request.prompt
        generated = []
        sampler = Sampler(request.sampling, reusing: sampler)
        text = TextStream(stop: request.stop)
        constraint = request.constraint.map { TokenConstraint($0, table: tokenBytes()) }
        logits = []
        self.submitted = submitted
        firstToken = nil
        lastUsed = tick
        // the last prompt token is never kept, so there is always some prompt to run
        state = .processingPrompt(request)
    }

    func release(tick: UInt64) {
        state = .idle
        pending = []
        constraint = nil
        lastUsed = tick
    }
}
