import Testing
@testable import InferenceService

/// The token bucket per caller: bursts, refill, Retry-After, and bounded memory under a flood of callers that does
/// not forget a caller still spending.
@Suite("rate limiter")
struct RateLimiterTests {
    @Test("a burst, then one a second, with Retry-After")
    func bucket() {
        let limiter = RateLimiter(rate: 1, burst: 3)
        let start = ContinuousClock.now
        #expect((0..<3).allSatisfy { _ in limiter.admit("a", now: start).0 })
        let refused = limiter.admit("a", now: start)
        #expect(!refused.0 && refused.retryAfter == 1)
        #expect(limiter.admit("b", now: start).0, "another caller has its own bucket")
        #expect(limiter.admit("a", now: start + .seconds(1)).0)
    }

    @Test("a flood of new callers drops refilled buckets first and keeps one still spending")
    func flood() {
        let limiter = RateLimiter(rate: 1, burst: 1)
        let start = ContinuousClock.now
        for index in 0..<10_000 { _ = limiter.admit("flood \(index)", now: start) }
        #expect(limiter.admit("spender", now: start + .seconds(5)).0)
        #expect(!limiter.admit("spender", now: start + .seconds(5)).0)
        // past 10,000 callers the flood's buckets, refilled by now, go; the spender's is kept
        #expect(limiter.admit("new", now: start + .seconds(5)).0)
        #expect(!limiter.admit("spender", now: start + .seconds(5)).0, "still spent: not forgotten with the flood")
    }
}
