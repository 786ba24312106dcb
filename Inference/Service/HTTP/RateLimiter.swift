import Synchronization

/// A token bucket per client address: `rate` requests a second on average, bursts of `burst`.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }
    private let buckets = Mutex<[String: Bucket]>([:])
    public let rate: Double
    public let burst: Double

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    /// Whether `client` may make a request now; when not, how many seconds until it may.
    public func admit(_ client: String, now: ContinuousClock.Instant = .now) -> (Bool, retryAfter: Int) {
        buckets.withLock { buckets in
            if buckets.count > 10_000 { buckets.removeAll() }  // bounded memory under an address flood
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            bucket.tokens = min(burst, bucket.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            bucket.updated = now
            defer { buckets[client] = bucket }
            guard bucket.tokens >= 1 else { return (false, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            bucket.tokens -= 1
            return (true, 0)
        }
    }
}
