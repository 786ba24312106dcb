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
            if buckets.count > 10_000 {
                // bounded memory under an address flood: a bucket that has refilled is the same as none, so those
                // go first; only if most are still spending is every bucket forgotten (amortised: at most once per
                // 5,000 new callers)
                buckets = buckets.filter { refilled($0.value, at: now) < burst }
                if buckets.count > 5_000 { buckets.removeAll() }
            }
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = refilled(bucket, at: now)
            bucket.updated = now
            defer { buckets[client] = bucket }
            guard bucket.tokens >= 1 else { return (false, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            bucket.tokens -= 1
            return (true, 0)
        }
    }

    private func refilled(_ bucket: Bucket, at now: ContinuousClock.Instant) -> Double {
        let elapsed = now - bucket.updated
        return min(burst, bucket.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }
}
