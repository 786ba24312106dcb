import Foundation
import Testing
@testable import InferenceEngine

/// The selection-based sampler against the sort-based reference: the same pool with the same probabilities over many
/// random logit vectors and settings; `allowed`, bans, log-probabilities, seeds, and the draws' distribution.
@Suite("sampler")
struct SamplerTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var settings: SamplingSettings
        var testDescription: String { name }
    }

    static func settings(_ temperature: Float, k: Int = 0, p: Float = 1, minP: Float = 0, _ adjust: (inout SamplingSettings) -> Void = { _ in }) -> SamplingSettings {
        var settings = SamplingSettings()
        settings.temperature = temperature
        settings.topK = k
        settings.topP = p
        settings.minP = minP
        adjust(&settings)
        return settings
    }

    static let cases: [Case] = [
        Case(name: "OpenAI defaults", settings: settings(1)),
        Case(name: "llama.cpp defaults", settings: settings(0.8, k: 40, p: 0.95, minP: 0.05)),
        Case(name: "top-p 0.9, hot", settings: settings(1.3, p: 0.9)),
        Case(name: "top-p 0.3 under top-k 100", settings: settings(1, k: 100, p: 0.3)),
        Case(name: "min-p 0.1, cold", settings: settings(0.5, minP: 0.1)),
        Case(name: "top-k 5", settings: settings(1, k: 5)),
        Case(name: "top-k beyond the vocabulary", settings: settings(0.9, k: 100_000, p: 0.99)),
        Case(name: "everything, penalties", settings: settings(2, p: 0.5, minP: 0.02) {
            $0.repetitionPenalty = 1.3
            $0.presencePenalty = 0.5
            $0.frequencyPenalty = 0.2
        }),
        Case(name: "logit bias, top-p 0.8", settings: settings(1, p: 0.8) {
            $0.logitBias = [0: -100, 1: 5, 2: -3, 3: -1000, 7: 100, 99_999: 4]
        }),
        Case(name: "min-p above 1 keeps the top", settings: settings(1, minP: 1.5)),
    ]

    /// Random logits: Gaussian at several spreads, a few quantised so that ties are common, some −∞.
    static func logits(_ seed: UInt64, count: Int) -> [Float] {
        var random = SplitMix64(seed: seed)
        let spread = [0.5, 2, 5, 12][Int(seed % 4)]
        let quantised = seed % 5 == 0
        return (0..<count).map { _ in
            let u1 = max(Double(random.next() >> 11) / Double(1 << 53), 1e-300), u2 = Double(random.next() >> 11) / Double(1 << 53)
            var value = sqrt(-2 * log(u1)) * cos(2 * .pi * u2) * spread
            if quantised { value = (value * 2).rounded() / 2 }
            if random.next() % 97 == 0 { return -.infinity }
            return Float(value)
        }
    }

    static let sizes = [1, 7, 100, 1000, 5000]

    @Test("the pool and its probabilities are the sort-based reference's", arguments: cases)
    func sameAsReference(_ test: Case) {
        var compared = 0
        for seed in 0..<UInt64(40) {
            let count = Self.sizes[Int(seed) % Self.sizes.count]
            let logits = Self.logits(seed &* 7919 &+ 1, count: count)
            let history = (0..<20).map { ($0 * 37 + Int(seed)) % count }
            let reference = ReferenceSampler.outcome(logits, history, test.settings)
            if reference.fragile { continue }
            var sampler = Sampler(test.settings)
            let ours = sampler.probabilities(logits, history: history)
            // below 2^-125 of the top the new sampler takes e^x as 0 where the reference's expf gives a subnormal
            let visible = { (pool: [Int: Double]) in Set(pool.filter { $0.value > 1e-30 }.keys) }
            #expect(visible(ours) == visible(reference.probabilities), "seed \(seed), \(count) tokens")
            for (token, probability) in reference.probabilities {
                let mine = ours[token] ?? 0
                #expect(abs(mine - probability) <= 1e-5 + 1e-4 * probability, "seed \(seed), token \(token): \(mine) against \(probability)")
            }
            let drawn = sampler.sample(logits, history: history)?.token
            // every token banned: no pool, and no token comes
            #expect(drawn.map { reference.probabilities[$0] != nil } ?? reference.probabilities.isEmpty, "drew \(String(describing: drawn)), outside the pool")
            compared += 1
        }
        #expect(compared >= 25, "too many cuts fell on their bound to compare")
    }

    @Test("greedy takes the most likely allowed token, and none when nothing is allowed", arguments: 0..<12)
    func greedyAllowed(_ seed: Int) {
        let logits = Self.logits(UInt64(seed) + 100, count: 3000)
        let divisor = [2, 3, 7, 50][seed % 4], remainder = seed % divisor
        let allowed = { (token: Int) in token % divisor == remainder }
        var sampler = Sampler(.greedy)
        let expected = ReferenceSampler.best(logits, 0).first(where: allowed)
        #expect(sampler.sample(logits, history: [], allowed: allowed)?.token == expected)
        #expect(sampler.sample(logits, history: [], allowed: { _ in false }) == nil)
    }

    @Test("a draw returns only allowed tokens, and asks about few of them when most are allowed", arguments: cases)
    func drawAllowed(_ test: Case) throws {
        let logits = Self.logits(5, count: 4000)
        let asked = AskedCounter()
        var sampler = Sampler(test.settings)
        for round in 0..<200 {
            let rare = { (token: Int) in asked.count(); return token % 11 == round % 11 }
            let sampled = sampler.sample(logits, history: [], allowed: rare)
            let token = try #require(sampled).token
            let pool = ReferenceSampler.outcome(logits, [], test.settings).probabilities
            if pool.keys.contains(where: rare) {
                #expect(token % 11 == round % 11)
                #expect(pool[token] != nil, "an allowed token of the pool is drawn when there is one")
            }
        }
        asked.reset()
        for _ in 0..<100 { _ = sampler.sample(logits, history: [], allowed: { asked.count(); return $0 != 1 }) }
        #expect(asked.value <= 100 * Sampler.redraws, "asked \(asked.value) times for 100 draws")
        #expect(sampler.sample(logits, history: [], allowed: { _ in false }) == nil, "nothing allowed: no token")
    }

    final class AskedCounter: @unchecked Sendable {
        // @unchecked: used on one thread, within one test
        private(set) var value = 0
        func count() { value += 1 }
        func reset() { value = 0 }
    }

    @Test("a token banned by a bias of -100 never comes, greedy or drawn", arguments: [SamplingSettings.greedy, settings(1), settings(1.5, p: 0.9)])
    func banned(_ settings: SamplingSettings) {
        let logits = Self.logits(11, count: 500)
        let favourites = ReferenceSampler.best(logits, 3)
        var settings = settings
        settings.logitBias = LogitBias(favourites.map { ($0, Float(-100)) })
        var sampler = Sampler(settings)
        for _ in 0..<2000 { #expect(sampler.sample(logits, history: []).map { !favourites.contains($0.token) } == true) }
        var everything = settings
        everything.logitBias = LogitBias((0..<500).map { ($0, Float(-100)) })
        sampler = Sampler(everything)
        #expect(sampler.sample(logits, history: []) == nil, "every token banned: none comes")
    }

    @Test("log-probabilities are a double-precision log-softmax after bias and penalties", arguments: [0, 1, 5, 20, 50])
    func logprobs(_ asked: Int) throws {
        for (index, test) in Self.cases.enumerated() {
            let logits = Self.logits(UInt64(index) + 40, count: 2000)
            let history = [3, 3, 8]
            var settings = test.settings
            settings.logprobs = asked
            var sampler = Sampler(settings)
            let sampled = sampler.sample(logits, history: history)
            let result = try #require(sampled)
            let expected = ReferenceSampler.logSoftmax(ReferenceSampler.adjusted(logits, history, settings))
            let logprob = try #require(result.logprob)
            #expect(abs(Double(logprob) - expected[result.token]) < 1e-4 || (logprob == -.infinity && expected[result.token] == -.infinity))
            let top = asked == 0 ? [] : ReferenceSampler.best(ReferenceSampler.adjusted(logits, history, settings), min(asked, 20))
            #expect(result.top.map(\.token) == top, "\(test.name)")
            for entry in result.top { #expect(abs(Double(entry.logprob) - expected[entry.token]) < 1e-4) }
        }
        var sampler = Sampler(Self.settings(1))
        let sampled = sampler.sample(Self.logits(1, count: 100), history: [])
        let none = try #require(sampled)
        #expect(none.logprob == nil && none.top.isEmpty)
    }

    @Test("the same seed draws the same tokens; another seed others", arguments: cases)
    func seeds(_ test: Case) {
        let logits = Self.logits(3, count: 3000)
        func run(_ seed: UInt64) -> [Int] {
            var settings = test.settings
            settings.seed = seed
            var sampler = Sampler(settings)
            return (0..<60).map { sampler.sample(logits, history: [], allowed: $0 % 4 == 0 ? nil : { $0 % 3 != 0 })?.token ?? -1 }
        }
        #expect(run(42) == run(42))
        let pool = ReferenceSampler.outcome(logits, [], test.settings).probabilities
        if pool.count > 20 { #expect(run(42) != run(43)) }
    }

    /// Many seeded draws against the pool's probabilities: Pearson's statistic, bins of expected count ≥ 20 (the
    /// rest pooled), within six standard deviations of its degrees of freedom.
    @Test("draws follow the probabilities, restricted to the allowed tokens", arguments: [
        (settings(1), false), (settings(0.7, k: 40, p: 0.95, minP: 0.05), false), (settings(1.5, p: 0.9), true), (settings(1), true),
    ])
    func distribution(_ settings: SamplingSettings, restricted: Bool) {
        let logits = Self.logits(2, count: 2000)
        let allowed: ((Int) -> Bool)? = restricted ? { $0 % 2 == 0 } : nil
        var probabilities = ReferenceSampler.outcome(logits, [], settings).probabilities
        if let allowed {
            probabilities = probabilities.filter { allowed($0.key) }
            let total = probabilities.values.reduce(0, +)
            probabilities = probabilities.mapValues { $0 / total }
        }
        let draws = 20_000
        var counts: [Int: Int] = [:]
        var sampler = Sampler(settings)
        for _ in 0..<draws { counts[sampler.sample(logits, history: [], allowed: allowed)?.token ?? -1, default: 0] += 1 }
        #expect(counts.keys.allSatisfy { probabilities[$0] != nil }, "a token outside the pool came")
        var bins: [(expected: Double, observed: Int)] = []
        var rest = (expected: 0.0, observed: 0)
        for (token, probability) in probabilities {
            let expected = probability * Double(draws)
            if expected >= 20 { bins.append((expected, counts[token] ?? 0)) } else { rest.expected += expected; rest.observed += counts[token] ?? 0 }
        }
        if rest.expected > 0 { bins.append(rest) }
        let statistic = bins.reduce(0.0) { $0 + pow(Double($1.observed) - $1.expected, 2) / $1.expected }
        let freedom = Double(max(1, bins.count - 1))
        #expect(statistic < freedom + 6 * (2 * freedom).squareRoot() + 10, "chi-square \(statistic) over \(bins.count) bins")
    }

    @Test("NaN and infinite logits: a valid token, never a NaN one")
    func nonFinite() {
        var logits = Self.logits(9, count: 300)
        logits[5] = .nan
        logits[6] = .infinity
        logits[7] = .nan
        for settings in [SamplingSettings.greedy, Self.settings(1), Self.settings(1, p: 0.5)] {
            var sampler = Sampler(settings)
            for _ in 0..<100 {
                #expect(sampler.sample(logits, history: [])?.token == 6)
            }
        }
        var sampler = Sampler(Self.settings(1))
        #expect(sampler.sample([Float](repeating: .nan, count: 40), history: []) == nil, "no finite logit: no token")
    }

    @Test("top-k selection keeps the k best of a full sort, ties to the lower index", arguments: [1, 5, 40, 999])
    func selectBest(_ k: Int) {
        var random = SplitMix64(seed: UInt64(k))
        let logits = (0..<1000).map { _ in Float(Int(random.next() % 50)) / 4 }
        var heap = [Int32](repeating: 0, count: k)
        logits.withUnsafeBufferPointer { x in
            heap.withUnsafeMutableBufferPointer { SamplingKernels.selectBest(x.baseAddress!, 1000, k, into: $0.baseAddress!) }
        }
        #expect(Set(heap.map(Int.init)) == Set(ReferenceSampler.best(logits, k)))
    }
}

/// A ban holds even against the caller's constraint: when every token it allows is banned, no token comes.
@Suite("sampler bans")
struct SamplerBanTests {
    static let settings: [SamplingSettings] = [.greedy, SamplerTests.settings(1), SamplerTests.settings(1, k: 40), SamplerTests.settings(0.7, p: 0.9)]

    @Test("every allowed token banned: nil, greedy or drawn, with or without log-probabilities", arguments: settings)
    func allowedAllBanned(_ settings: SamplingSettings) {
        let logits = SamplerTests.logits(21, count: 1000)
        let allowedSet = Set([3, 17, 400, 999])
        var banning = settings
        banning.logitBias = LogitBias(allowedSet.map { ($0, Float(-100)) })
        for logprobs in [nil, 5] as [Int?] {
            banning.logprobs = logprobs
            var sampler = Sampler(banning)
            for _ in 0..<50 { #expect(sampler.sample(logits, history: [], allowed: { allowedSet.contains($0) }) == nil) }
        }
    }

    @Test("some allowed tokens banned: only the unbanned allowed ones come", arguments: settings)
    func allowedPartlyBanned(_ settings: SamplingSettings) throws {
        // the banned ones are the most likely, so that a fallback to the favourite would show
        let logits = SamplerTests.logits(22, count: 1000)
        let best = ReferenceSampler.best(logits, 30)
        let banned = Set(best.prefix(10)), allowedSet = Set(best.prefix(10)).union([best[29], 777])
        var banning = settings
        banning.logitBias = LogitBias(banned.map { ($0, Float(-100)) })
        var sampler = Sampler(banning)
        for _ in 0..<200 {
            let sampled = sampler.sample(logits, history: [], allowed: { allowedSet.contains($0) })
            let token = try #require(sampled).token
            #expect(allowedSet.contains(token) && !banned.contains(token))
        }
    }
}
