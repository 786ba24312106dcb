import Foundation

/// One sequence the scheduler can run: a KV cache that outlives its requests (so a later prompt sharing its
/// beginning reuses it) and, while busy, the request's progress.
final class Slot {
    let cache: KVCache
    /// The tokens whose keys and values `cache` holds, in order.
    var cachedTokens: [Int] = []
    var lastUsed: UInt64 = 0

    var request: CompletionRequest?
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

    var isBusy: Bool { request != nil }

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
        self.request = request
    }

    func release(tick: UInt64) {
        request = nil
        pending = []
        constraint = nil
        lastUsed = tick
    }
}
