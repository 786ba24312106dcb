import Foundation
import Synchronization

/// Continuous batching: one thread runs the model in steps, and each step advances every active sequence at once,
/// so the weights are read once per step for all of them. A decoding sequence adds one token to a step; a prompt
/// adds a chunk of its tokens, so a long prompt is spread over several steps between the others' tokens instead of
/// stalling them. New requests take a free slot between steps, the slot whose cache holds the longest beginning of
/// their prompt (a multi-turn chat re-sends its history, which is then not computed again).
public final class Scheduler: @unchecked Sendable {
    // @unchecked: `slots` and everything in them are touched only by the scheduler's own thread; what other threads
    // share with it (the queue, the counters, the stopping flag) lives in `shared`, behind a mutex.

    public struct Configuration: Sendable {
        /// Sequences decoded together.
        public var parallel: Int
        /// Positions of each slot's cache.
        public var contextPerSlot: Int
        /// Requests that may wait for a slot; beyond that `submit` refuses.
        public var queueLimit: Int
        /// Most prompt tokens one sequence adds to a step.
        public var prefillChunk: Int
        /// Most tokens in one step across all sequences.
        public var stepBudget: Int
        /// Whether a prompt reuses the cached keys and values of an earlier one that began the same way.
        public var reusePrefixes = true

        public init(parallel: Int = 4, contextPerSlot: Int = 2048, queueLimit: Int? = nil, prefillChunk: Int = 32, stepBudget: Int = 64,
                    reusePrefixes: Bool = true) {
            self.reusePrefixes = reusePrefixes
            self.parallel = max(1, parallel)
            self.contextPerSlot = contextPerSlot
            self.queueLimit = queueLimit ?? 4 * max(1, parallel)
            self.prefillChunk = max(1, prefillChunk)
            self.stepBudget = max(self.parallel, stepBudget)
        }
    }

    /// Why a request was not taken.
    public enum Refusal: Error, Sendable, Equatable {
        /// Every slot is busy and the queue is full: try again later.
        case busy
        /// The scheduler is shutting down.
        case stopping
        /// The prompt does not leave room for one generated token in a slot's context.
        case promptTooLong(tokens: Int, context: Int)
        case emptyPrompt
    }

    /// What the metrics report.
    public struct Statistics: Sendable {
        public var queued: Int
        public var active: Int
        public var cachedTokens: Int
        public var cacheCapacity: Int
        public var steps: Int
    }

    public let configuration: Configuration
    private let model: Transformer
    private let endOfGeneration: Set<Int>
    private let tokenizer: Tokenizer
    private var slots: [Slot]
    /// Every token's bytes for constrained decoding, worked out at the first request that needs them.
    private lazy var tokenBytes = TokenBytes(tokenizer)

    private struct Shared {
        var queue: [(request: CompletionRequest, submitted: Date)] = []
        var stopping = false
        /// When a draining scheduler ends what is still queued or running (`beginDraining(cuttingAfter:)`).
        var cutAt: ContinuousClock.Instant?
        var statistics: Statistics
    }
    private let shared: Mutex<Shared>
    private let wake = NSCondition()
    private let finishedRunning = DispatchSemaphore(value: 0)
    private var thread: Thread?

    public init(model: Transformer, tokenizer: Tokenizer, configuration: Configuration) {
        self.model = model
        self.tokenizer = tokenizer
        self.configuration = configuration
        endOfGeneration = tokenizer.endOfGeneration
        slots = (0..<configuration.parallel).map { _ in Slot(cache: model.makeCache(capacity: configuration.contextPerSlot)) }
        shared = Mutex(Shared(statistics: Statistics(queued: 0, active: 0, cachedTokens: 0,
                                                     cacheCapacity: configuration.parallel * configuration.contextPerSlot, steps: 0)))
    }

    /// Starts the scheduler's thread.
    public func start() {
        let thread = Thread { [self] in
            run()
            finishedRunning.signal()
        }
        thread.name = "scheduler"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues `request`; its events arrive on the scheduler's thread.
    public func submit(_ request: CompletionRequest) throws(Refusal) {
        guard !request.prompt.isEmpty else { throw .emptyPrompt }
        guard request.prompt.count < configuration.contextPerSlot else {
            throw .promptTooLong(tokens: request.prompt.count, context: configuration.contextPerSlot)
        }
        let refusal: Refusal? = shared.withLock { state in
            if state.stopping { return .stopping }
            guard state.queue.count < configuration.queueLimit else { return .busy }
            state.queue.append((request, Date()))
            state.statistics.queued = state.queue.count
            return nil
        }
        if let refusal { throw refusal }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Stops taking requests; those queued or running once `limit` has passed are ended with a failure saying the
    /// server is stopping. Returns at once: `drain` waits for the thread.
    public func beginDraining(cuttingAfter limit: Duration) {
        shared.withLock { state in
            state.stopping = true
            state.cutAt = ContinuousClock.now + limit
        }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Stops taking requests, lets every queued and running one finish (unless `beginDraining` set a limit), and
    /// returns when the thread has ended.
    public func drain() {
        shared.withLock { $0.stopping = true }
        wake.lock()
        wake.signal()
        wake.unlock()
        if thread != nil { finishedRunning.wait() }
    }

    public var statistics: Statistics { shared.withLock { $0.statistics } }

    // MARK: the scheduler's thread

    private var tick: UInt64 = 0

    private func run() {
        while true {
            guard admit() else { return }
            step()
        }
    }

    /// Moves queued requests into free slots; waits while there is nothing to do. False when drained and stopping.
    /// Past a drain's limit, ends everything still queued or running instead, and is drained.
    private func admit() -> Bool {
        while true {
            let (taken, stopping, cutting) = shared.withLock { state -> ([(CompletionRequest, Date)], Bool, Bool) in
                let cutting = state.cutAt.map { ContinuousClock.now >= $0 } ?? false
                let free = cutting ? state.queue.count : slots.filter { !$0.isBusy }.count
                var taken: [(CompletionRequest, Date)] = []
                while taken.count < free, !state.queue.isEmpty { taken.append(state.queue.removeFirst()) }
                state.statistics.queued = state.queue.count
                return (taken, state.stopping, cutting)
            }
            if cutting {
                cut(taken.map(\.0))
                publishStatistics()
                return false
            }
            for (request, submitted) in taken { place(request, submitted: submitted) }
            publishStatistics()
            if slots.contains(where: \.isBusy) { return true }
            if stopping { return false }
            wake.lock()
            if shared.withLock({ $0.queue.isEmpty && !$0.stopping }) { wake.wait() }
            wake.unlock()
        }
    }

    /// The free slot sharing the longest beginning with the prompt, else the one unused longest.
    private func place(_ request: CompletionRequest, submitted: Date) {
        tick += 1
        let free = slots.filter { !$0.isBusy }
        let best = free.max { a, b in
            let (sa, sb) = (a.sharedPrefix(with: request.prompt), b.sharedPrefix(with: request.prompt))
            return sa != sb ? sa < sb : a.lastUsed > b.lastUsed
        }
        best?.start(request, submitted: submitted, tick: tick, reuse: configuration.reusePrefixes, tokenBytes: { tokenBytes })
    }

    /// One step: sample for every sequence that has logits, then run every sequence's next tokens together.
    private func step() {
        var segments: [Transformer.Segment] = []
        var members: [Slot] = []
        var budget = configuration.stepBudget
        for slot in slots where slot.isBusy {
            guard let request = slot.request else { continue }
            if request.cancellation.isCancelled {
                finish(slot, reason: nil)
                continue
            }
            if slot.isGenerating {
                // sampled here, one slot after another: with OpenAI's defaults a slot costs about 25 µs at a
                // 32k vocabulary and 0.2 ms at 262k, under 1% of a step's forward pass (2026-12), which the
                // workers' handoff would not win back
                guard let token = sample(slot) else { continue }
                segments.append(.init(tokens: [token], cache: slot.cache))
                members.append(slot)
                budget -= 1
            }
        }
        for slot in slots where slot.isProcessingPrompt && budget > 0 {
            let count = min(slot.pending.count, configuration.prefillChunk, budget)
            let chunk = Array(slot.pending.prefix(count))
            slot.pending.removeFirst(count)
            segments.append(.init(tokens: chunk, cache: slot.cache, wantsLogits: slot.pending.isEmpty))
            members.append(slot)
            budget -= count
        }
        guard !segments.isEmpty else { return }
        do {
            let logits = try model.forward(segments: segments)
            for (index, slot) in members.enumerated() {
                slot.cachedTokens += segments[index].tokens
                if !logits[index].isEmpty { slot.logits = logits[index] }
                slot.promptAdvanced()
            }
        } catch {
            for slot in members {
                slot.request?.events(.failed("\(error)"))
                slot.cachedTokens = Array(slot.cachedTokens.prefix(slot.cache.count))
                slot.release(tick: tick)
            }
        }
        shared.withLock { $0.statistics.steps += 1 }
        publishStatistics()
    }

    /// Shares the slots' figures with the other threads.
    private func publishStatistics() {
        let active = slots.filter(\.isBusy).count, cached = slots.reduce(0) { $0 + $1.cache.count }
        shared.withLock { state in
            state.statistics.active = active
            state.statistics.cachedTokens = cached
        }
    }

    /// Samples the slot's next token and releases what text it completes. Returns the token when the sequence goes
    /// on (and so needs it run through the model), nil when it has finished.
    private func sample(_ slot: Slot) -> Int? {
        guard let request = slot.request else { return nil }
        guard let sampled = slot.sampler.sample(slot.logits, history: slot.history, allowed: slot.constraint?.checker()) else {
            request.events(.unsatisfiable(slot.constraint == nil
                ? "'logit_bias' bans every token the model could write next"
                : "no token the response format allows next is left: 'logit_bias' bans every one of them"))
            tick += 1
            slot.release(tick: tick)
            return nil
        }
        let token = sampled.token
        if slot.firstToken == nil { slot.firstToken = Date() }
        if var constraint = slot.constraint {
            // the sampler returns only allowed tokens; a refusal here would be the constraint's own inconsistency
            guard constraint.take(token) else {
                request.events(.failed("constrained decoding reached a state that no token of the vocabulary continues"))
                tick += 1
                slot.release(tick: tick)
                return nil
            }
            slot.constraint = constraint
        }
        if endOfGeneration.contains(token) {
            finish(slot, reason: .stop)
            return nil
        }
        if let logprob = sampled.logprob { request.events(.token(GeneratedToken(id: token, logprob: logprob, top: sampled.top))) }
        slot.generated.append(token)
        slot.history.append(token)
        let (ready, stopped) = slot.text.append(tokenizer.piece(token))
        if !ready.isEmpty { request.events(.text(ready)) }
        if stopped {
            finish(slot, reason: .stop, flush: false)
            return nil
        }
        guard slot.generated.count < request.maxTokens, slot.cache.count < slot.cache.capacity else {
            finish(slot, reason: .length)
            return nil
        }
        return token
    }

    /// A drain's time ran out: `queued` and every running request end with a failure their clients are sent.
    private func cut(_ queued: [CompletionRequest]) {
        let message = "the server is stopping and its time to finish requests ran out"
        for request in queued { request.events(.failed(message)) }
        for slot in slots where slot.isBusy {
            slot.request?.events(.failed(message))
            tick += 1
            slot.release(tick: tick)
        }
    }

    /// Ends the slot's request; a nil reason is a cancellation, which sends nothing (the client is gone).
    private func finish(_ slot: Slot, reason: FinishReason?, flush: Bool = true) {
        guard let request = slot.request else { return }
        if let reason {
            if flush {
                let rest = slot.text.finish()
                if !rest.isEmpty { request.events(.text(rest)) }
            }
            let now = Date()
            let first = slot.firstToken ?? now
            let perToken = slot.generated.count > 1 ? now.timeIntervalSince(first) / Double(slot.generated.count - 1) : 0
            request.events(.finished(CompletionSummary(finishReason: reason, promptTokens: request.prompt.count,
                                                       completionTokens: slot.generated.count, reusedPromptTokens: slot.reused,
                                                       timeToFirstToken: first.timeIntervalSince(slot.submitted),
                                                       secondsPerToken: perToken, tokens: slot.generated)))
        }
        tick += 1
        slot.release(tick: tick)
    }
}
