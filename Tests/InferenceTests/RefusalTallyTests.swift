import Testing
@testable import InferenceService

/// Refusals for rate are summarised, not recorded one by one: one summary at most every interval, every refusal in
/// exactly one summary, callers past the hundredth counted together, nothing lost at shutdown.
@Suite("refusal tally")
struct RefusalTallyTests {
    @Test("one summary per interval, every refusal counted once")
    func summaries() throws {
        let tally = RefusalTally(interval: .seconds(10))
        let start = ContinuousClock.now
        var summaries: [AuditRecord] = []
        for second in 0..<25 {
            for caller in ["health 10.0.0.1", "unauthenticated 10.0.0.2"] {
                if let summary = tally.add(caller, now: start + .seconds(second)) { summaries.append(summary) }
            }
        }
        #expect(summaries.count == 2, "at 10 s and 20 s")
        if let last = tally.drain() { summaries.append(last) }
        #expect(tally.drain() == nil, "nothing left after a drain")
        #expect(summaries.map { $0.requests ?? 0 }.reduce(0, +) == 50)
        let callers = try #require(summaries.first?.callers)
        #expect(callers == ["health 10.0.0.1": 11, "unauthenticated 10.0.0.2": 10], "seconds 0 to 10 of the first, 0 to 9 of the second")
        #expect(summaries.allSatisfy { $0.route == "summary" && $0.status == 429 })
    }

    @Test("callers past the hundredth are counted as others")
    func boundedCallers() throws {
        let tally = RefusalTally(interval: .seconds(3600))
        for index in 0..<250 { _ = tally.add("unauthenticated 10.0.\(index / 256).\(index % 256)") }
        let summary = try #require(tally.drain())
        let callers = try #require(summary.callers)
        #expect(callers.count == RefusalTally.namedCallers + 1 && callers["others"] == 150)
        #expect(summary.requests == 250)
    }
}
