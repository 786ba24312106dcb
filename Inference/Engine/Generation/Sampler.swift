import Foundation

/// Chooses tokens: logit bias, penalties, then greedy or top-k, top-p, min-p and temperature, then a draw from a
/// seeded generator (the order of llama.cpp's default sampler chain).
///
/// Nothing sorts the vocabulary: with nothing cut (OpenAI's defaults) a draw is one pass for the maximum, one for
/// the exponentials and their block sums, and a scan of the block sums; top-k keeps a heap of k, min-p is a
/// threshold on that one exponential pass, and top-p bins the pool by logit to find where the mass reaches p and
/// sorts that bin alone. The survivors and their probabilities are those of sorting and cutting, but the draw walks them
/// in id order, so a seed picks other tokens than a sorted walk would (the same ones run to run). The buffers
/// stay with the sampler from token to token.
public struct Sampler: Sendable {
    public let settings: SamplingSettings
    private var random: SplitMix64
    private var workspace = SamplerWorkspace()

    public init(_ settings: SamplingSettings) {
        self.settings = settings
        random = SplitMix64(seed: settings.seed)
    }

    /// A sampler for `settings` that keeps `previous`'s buffers (a slot's next request).
    init(_ settings: SamplingSettings, reusing previous: Sampler) {
        self.init(settings)
        workspace = previous.workspace
    }

    /// Draws before `allowed` is asked about the rest of the pool in order of likelihood.
    static let redraws = 8

    /// Where the scan in order of likelihood stops: when what it has not yet asked about weighs less than this
    /// share of the allowed weight it found.
    static let negligible = 1e-4

    /// The next token for `logits`, given the tokens so far (`history`, for the penalties); nil when no token is
    /// both allowed and not banned (the caller ends the sequence: nothing it could emit keeps its promises).
    ///
    /// `allowed`, when given, is the caller's constraint (a JSON grammar, say): only a token it allows is returned.
    /// It is asked lazily, about the candidates the sampler considers, never the whole vocabulary up front. Greedy
    /// takes the most likely allowed token. A draw is made from what top-k, top-p and min-p leave, restricted to the
    /// allowed tokens: a rejected token leaves the pool and the draw is repeated; after `redraws` rejections the
    /// rest of the pool is asked in order of likelihood (until what is left weighs a negligible share of what was
    /// allowed) and the draw made among the allowed. When nothing in the pool is allowed, the most likely allowed
    /// token of the whole vocabulary is taken.
    ///
    /// NaN logits count as −∞ and +∞ as the largest finite float. A token whose logit is −∞ (the bias bans it, or
    /// its logit is NaN) is never returned.
    public mutating func sample(_ logits: [Float], history: [Int], allowed: ((Int) -> Bool)? = nil) -> SampledToken? {
        guard !logits.isEmpty else { return nil }
        return withPrepared(logits, history) { sampler, x, count, maximum in
            let token: Int?
            if maximum == -.infinity {
                token = nil
            } else if sampler.settings.temperature <= 0 {
                token = sampler.mostLikely(x, count, maximum, allowed)
            } else {
                token = sampler.draw(x, count, maximum, allowed)
            }
            return token.map { sampler.report($0, x, count, maximum) }
        }
    }

    /// Every token a draw could give and its probability, from the same pool `sample` draws from (what the tests
    /// hold against the sort-based reference). Empty for greedy and when every token is banned.
    mutating func probabilities(_ logits: [Float], history: [Int]) -> [Int: Double] {
        guard !logits.isEmpty, settings.temperature > 0 else { return [:] }
        return withPrepared(logits, history) { sampler, x, count, maximum in
            guard maximum != -.infinity else { return [:] }
            let candidates = sampler.pool(x, count, maximum)
            let weights = sampler.workspace.weights
            var result: [Int: Double] = [:]
            for position in 0..<candidates.size where weights[position] > 0 {
                result[candidates.tokens.map { Int($0[position]) } ?? position] = Double(weights[position]) / candidates.total
            }
            return result
        }
    }

    /// Runs `body` on the logits after bias and penalties, NaN taken as −∞ and +∞ as the largest float (in the
    /// workspace when they had to change, else the caller's array), with their count (> 0) and maximum.
    private mutating func withPrepared<Result>(_ logits: [Float], _ history: [Int],
                                               _ body: (inout Sampler, UnsafePointer<Float>, Int, Float) -> Result) -> Result {
        let count = logits.count
        if !isKnownUniquelyReferenced(&workspace) { workspace = SamplerWorkspace() }
        let space = workspace
        space.reserve(count)
        return logits.withUnsafeBufferPointer { input -> Result in
            let adjusted = UnsafePointer(space.adjusted)
            // the caller checked that count > 0, so the buffer has a base address
            var x = input.baseAddress ?? adjusted
            if adjusts {
                space.adjusted.update(from: x, count: count)
                settings.logitBias.apply(to: space.adjusted, count: count)
                applyPenalties(space.adjusted, count, history.suffix(max(0, settings.penaltyWindow)))
                x = adjusted
            }
            var maximum = SamplingKernels.maximum(x, count)
            if maximum.nonFinite {
                if x != adjusted { space.adjusted.update(from: x, count: count) }
                for i in 0..<count where space.adjusted[i].isNaN || space.adjusted[i] == .infinity {
                    space.adjusted[i] = space.adjusted[i].isNaN ? -.infinity : .greatestFiniteMagnitude
                }
                x = adjusted
                maximum = SamplingKernels.maximum(x, count)
            }
            return body(&self, x, count, maximum.value)
        }
    }

    private var adjusts: Bool {
        !settings.logitBias.isEmpty || settings.repetitionPenalty != 1 || settings.presencePenalty != 0 || settings.frequencyPenalty != 0
    }

    /// What a draw is made from: `size` positions of the workspace's `weights` (and `blockSums`), each a token
    /// (`tokens` nil) or the token at that position of `tokens`; `total` is their sum.
    struct Pool {
        var size: Int
        var tokens: UnsafeMutablePointer<Int32>?
        var total: Double
    }

    /// The pool at the temperature: every token, or what the cuts leave.
    private func pool(_ x: UnsafePointer<Float>, _ count: Int, _ maximum: Float) -> Pool {
        let space = workspace
        let scale = 1 / settings.temperature
        let cutsTopK = settings.topK > 0 && settings.topK < count
        if !cutsTopK && settings.minP <= 0 {
            guard settings.topP < 1 else {
                let total = SamplingKernels.exponentiate(x, count, maximum: maximum, scale: scale, into: space.weights, blockSums: space.blockSums)
                return Pool(size: count, tokens: nil, total: total)
            }
            // top-p alone: the whole vocabulary, cut in place
            let mass = SamplingKernels.exponentiate(x, count, maximum: maximum, scale: 1, into: space.weights, blockSums: space.blockSums)
            SamplingKernels.nucleusInPlace(x, maximum, space.weights, count, mass: Double(settings.topP) * mass,
                                           histogram: space.histogram, scratch: space.order)
            let total = scale == 1 ? SamplingKernels.sumBlocks(space.weights, count, into: space.blockSums)
                : SamplingKernels.rescale(x, count, maximum: maximum, scale: scale, space.weights, blockSums: space.blockSums)
            return Pool(size: count, tokens: nil, total: total)
        }
        let size = cut(x, count, maximum, cutsTopK)
        if scale != 1 {
            for i in 0..<size { space.weights[i] = expf((x[Int(space.tokens[i])] - maximum) * scale) }
        }
        return Pool(size: size, tokens: space.tokens, total: SamplingKernels.sumBlocks(space.weights, size, into: space.blockSums))
    }

    /// A draw from the pool, restricted to what `allowed` allows.
    private mutating func draw(_ x: UnsafePointer<Float>, _ count: Int, _ maximum: Float, _ allowed: ((Int) -> Bool)?) -> Int? {
        let space = workspace
        let candidates = pool(x, count, maximum)
        let (size, tokens) = (candidates.size, candidates.tokens)
        var total = candidates.total
        let tokenAt = { (position: Int) in tokens.map { Int($0[position]) } ?? position }
        for _ in 0..<Self.redraws {
            guard total > 0, let position = SamplingKernels.find(nextUniform() * total, space.weights, size, space.blockSums) else { break }
            let token = tokenAt(position)
            guard let allowed, !allowed(token) else { return token }
            SamplingKernels.remove(position, space.weights, size, space.blockSums)
            total = (0..<(size + SamplingKernels.block - 1) / SamplingKernels.block).reduce(0) { $0 + Double(space.blockSums[$1]) }
        }
        guard let allowed else {
            // only a pool whose weights all rounded to 0 comes here: its most likely token
            return mostLikely(x, count, maximum, nil)
        }
        if let position = scanAllowed(size, tokenAt, allowed) { return tokenAt(position) }
        return mostLikely(x, count, maximum, allowed)
    }

    /// Cuts the vocabulary to the pool top-k or min-p, then top-p, leave, with its weights at temperature 1, into the
    /// workspace's `tokens` and `weights`; returns its size. Top-p's mass is measured against the top-k pool, as the
    /// reference's probabilities are; min-p (a threshold, so a prefix of the same order) is applied before it,
    /// which leaves the same tokens as after and less to select from.
    private func cut(_ x: UnsafePointer<Float>, _ count: Int, _ maximum: Float, _ cutsTopK: Bool) -> Int {
        let space = workspace
        let threshold = min(max(settings.minP, 0), 1)
        var size: Int
        var total: Double = 0
        if cutsTopK {
            size = settings.topK
            SamplingKernels.selectBest(x, count, size, into: space.tokens)
            var kept = 0
            for i in 0..<size {
                let weight = expf(x[Int(space.tokens[i])] - maximum)
                total += Double(weight)
                guard weight >= threshold else { continue }
                space.tokens[kept] = space.tokens[i]
                space.weights[kept] = weight
                kept += 1
            }
            size = kept
        } else {
            (size, total) = SamplingKernels.collect(x, count, maximum: maximum, threshold: threshold,
                                                    tokens: space.tokens, weights: space.weights)
        }
        if settings.topP < 1 {
            size = SamplingKernels.nucleus(x, maximum, space.tokens, space.weights, size, mass: Double(settings.topP) * total,
                                           histogram: space.histogram)
        }
        return size
    }

    /// Asks `allowed` about the pool's remaining positions in order of likelihood, and draws among the allowed
    /// ones; nil when none is.
    private mutating func scanAllowed(_ size: Int, _ tokenAt: (Int) -> Int, _ allowed: (Int) -> Bool) -> Int? {
        let space = workspace
        let weights = space.weights
        var heapSize = 0
        var remaining: Double = 0
        for position in 0..<size where weights[position] > 0 {
            space.order[heapSize] = Int32(position)
            heapSize += 1
            remaining += Double(weights[position])
        }
        let above = { (a: Int32, b: Int32) in weights[Int(a)] > weights[Int(b)] || (weights[Int(a)] == weights[Int(b)] && a < b) }
        SamplingKernels.heapify(space.order, heapSize, above)
        var found: [Int] = []
        var foundWeight: Double = 0
        while heapSize > 0 {
            let position = Int(SamplingKernels.pop(space.order, &heapSize, above))
            remaining -= Double(weights[position])
            if allowed(tokenAt(position)) {
                found.append(position)
                foundWeight += Double(weights[position])
            }
            if foundWeight > 0, remaining <= foundWeight * Self.negligible { break }
        }
        guard !found.isEmpty else { return nil }
        var target = nextUniform() * foundWeight
        for position in found {
            target -= Double(weights[position])
            if target < 0 { return position }
        }
        return found[found.count - 1]
    }

    /// The most likely token (the lowest id among equals), or the most likely allowed one; nil when no token with
    /// a logit above −∞ is allowed. `maximum` is finite.
    private func mostLikely(_ x: UnsafePointer<Float>, _ count: Int, _ maximum: Float, _ allowed: ((Int) -> Bool)?) -> Int? {
        var best = 0
        while best < count - 1, x[best] != maximum { best += 1 }
        guard let allowed, !allowed(best) else { return best }
        let order = workspace.order
        for i in 0..<count { order[i] = Int32(i) }
        let above = { (a: Int32, b: Int32) in SamplingKernels.ranksBefore(x, a, b) }
        SamplingKernels.heapify(order, count, above)
        var heapSize = count
        while heapSize > 0 {
            let token = Int(SamplingKernels.pop(order, &heapSize, above))
            // in order of likelihood: from here on every token is banned
            guard x[token] != -.infinity else { return nil }
            if token != best, allowed(token) { return token }
        }
        return nil
    }

    /// A uniform draw in [0, 1) of 24 bits, as before.
    private mutating func nextUniform() -> Double {
        Double(random.next() >> 40) / Double(1 << 24)
    }

    /// The token with its log-probabilities when the settings ask for them.
    private func report(_ token: Int, _ x: UnsafePointer<Float>, _ count: Int, _ maximum: Float) -> SampledToken {
        guard let asked = settings.logprobs else { return SampledToken(token: token) }
        let logTotal = maximum == -.infinity ? 0 : Double(maximum) + log(SamplingKernels.exponentialSum(x, count, maximum: maximum))
        let logprob = { (token: Int) in Float(Double(x[token]) - logTotal) }
        let k = min(max(0, asked), SamplingSettings.maximumLogprobs, count)
        var top: [TokenLogprob] = []
        if k > 0 {
            let order = workspace.order
            if k < count {
                SamplingKernels.selectBest(x, count, k, into: order)
            } else {
                for i in 0..<count { order[i] = Int32(i) }
            }
            let worse = { (a: Int32, b: Int32) in SamplingKernels.ranksBefore(x, b, a) }
            SamplingKernels.heapify(order, k, worse)
            var heapSize = k
            top.reserveCapacity(k)
            while heapSize > 0 {
                let next = Int(SamplingKernels.pop(order, &heapSize, worse))
                top.append(TokenLogprob(token: next, logprob: logprob(next)))
            }
            top.reverse()
        }
        return SampledToken(token: token, logprob: logprob(token), top: top)
    }

    /// The penalties, each seen token once, counted in the window (no dictionary: the window is short).
    private func applyPenalties(_ logits: UnsafeMutablePointer<Float>, _ count: Int, _ window: ArraySlice<Int>) {
        guard settings.repetitionPenalty != 1 || settings.presencePenalty != 0 || settings.frequencyPenalty != 0 else { return }
        for index in window.indices {
            let token = window[index]
            guard token >= 0, token < count, !window[window.startIndex..<index].contains(token) else { continue }
            let seen = window[index...].reduce(0) { $0 + ($1 == token ? 1 : 0) }
            var logit = logits[token]
            logit = logit > 0 ? logit / settings.repetitionPenalty : logit * settings.repetitionPenalty
            logit -= Float(seen) * settings.frequencyPenalty + settings.presencePenalty
            logits[token] = logit
        }
    }
}
