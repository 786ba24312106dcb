import Guardrails
import Foundation
import Synchronization

/// Each identity's quotas, enforced exactly under concurrency: admission reserves the most a request can use (its
/// prompt's tokens plus its `max_tokens`) against every limit at once, under one lock, before the request starts;
/// the end settles the real count. Requests in flight and streams therefore cannot together pass a limit, and a
/// request that ends early gives back what it did not use.
public final class QuotaLedger: Sendable {
    /// A request admitted: what it holds until `settle`.
    public struct Reservation: Sendable {
        public var identity: String
        public var requestId: String
        public var tokens: Int
    }

    /// Why a request was refused: the limit's name (as in the policy), its value, and when to retry (nil: never,
    /// the request alone is larger than the limit).
    public struct Refusal: Error, Sendable, Equatable {
        public var limit: String
        public var value: Int
        public var retryAfter: Int?
        public var message: String
    }

    private let usage: Mutex<[String: QuotaUsage]>
    /// Called after every change, outside the lock (the persistence's cue to write).
    private let changed: @Sendable () -> Void

    /// A ledger kept in memory only (`QuotaStateFile.openLedger` gives one kept on disk).
    public convenience init() { self.init(usage: [:]) }

    init(usage: [String: QuotaUsage], changed: @escaping @Sendable () -> Void = {}) {
        self.usage = Mutex(usage)
        self.changed = changed
    }

    /// Reserves `tokens` and one request for `identity` within `limits`, or says which limit refuses it.
    public func reserve(identity: String, requestId: String, tokens: Int, limits: QuotaLimits, now: Date = Date()) -> Result<Reservation, Refusal> {
        let instant = QuotaClock.instant(now)
        let result = usage.withLock { all -> Result<Reservation, Refusal> in
            var mine = all[identity] ?? QuotaUsage()
            mine.advance(to: instant)
            if let refusal = Self.check(mine, tokens: tokens, limits: limits, now: instant) {
                all[identity] = mine
                return .failure(refusal)
            }
            mine.record(requests: 1, at: instant)
            mine.reserved[requestId] = tokens
            all[identity] = mine
            return .success(Reservation(identity: identity, requestId: requestId, tokens: tokens))
        }
        if case .success = result { changed() }
        return result
    }

    /// Ends a reservation with the tokens the request really used (prompt and completion).
    public func settle(_ reservation: Reservation, usedTokens: Int, now: Date = Date()) {
        let instant = QuotaClock.instant(now)
        usage.withLock { all in
            var mine = all[reservation.identity] ?? QuotaUsage()
            mine.advance(to: instant)
            mine.reserved[reservation.requestId] = nil
            mine.record(tokens: usedTokens, at: instant)
            all[reservation.identity] = mine
        }
        changed()
    }

    /// Every identity's usage, for the persisted file.
    var snapshot: [String: QuotaUsage] { usage.withLock { $0 } }

    /// Tokens used and reserved by `identity` now: the minute's, the day's and the month's (for tests and metrics).
    public func used(by identity: String, now: Date = Date()) -> (minute: Int, day: Int, month: Int, inFlight: Int) {
        let instant = QuotaClock.instant(now)
        return usage.withLock { all in
            var mine = all[identity] ?? QuotaUsage()
            mine.advance(to: instant)
            return (mine.minuteTokens, mine.dayTokens, mine.monthTokens, mine.reserved.count)
        }
    }

    private static func check(_ usage: QuotaUsage, tokens: Int, limits: QuotaLimits, now: QuotaClock.Instant) -> Refusal? {
        let held = usage.reservedTokens
        if let limit = limits.concurrentRequests, usage.reserved.count >= limit {
            return Refusal(limit: "concurrent_requests", value: limit, retryAfter: 1,
                           message: "\(usage.reserved.count) requests of this key are in flight; 'concurrent_requests' allows \(limit)")
        }
        if let limit = limits.requestsPerMinute, usage.minuteRequests + 1 > limit {
            let wait = usage.secondsUntilMinuteFrees(\.requests, used: usage.minuteRequests, allowed: limit - 1, now: now)
            return Refusal(limit: "requests_per_minute", value: limit, retryAfter: wait,
                           message: "this key made \(usage.minuteRequests) requests in the last minute; 'requests_per_minute' allows \(limit)")
        }
        let windows: [(String, Int?, Int, Int)] = [
            ("tokens_per_minute", limits.tokensPerMinute, usage.minuteTokens, 0),
            ("tokens_per_day", limits.tokensPerDay, usage.dayTokens, now.secondsToNextDay),
            ("tokens_per_month", limits.tokensPerMonth, usage.monthTokens, now.secondsToNextMonth),
        ]
        for (name, limit, used, reset) in windows {
            guard let limit else { continue }
            if tokens > limit {
                return Refusal(limit: name, value: limit, retryAfter: nil,
                               message: "the request may use \(tokens) tokens (its prompt and max_tokens), more than '\(name)' allows (\(limit)) "
                                   + "at all: lower max_tokens or shorten the prompt")
            }
            guard used + held + tokens > limit else { continue }
            // what requests in flight hold comes back when they end, soon; what was used, when its window moves on
            let wait = used + tokens <= limit ? 1 : name == "tokens_per_minute"
                ? usage.secondsUntilMinuteFrees(\.tokens, used: used, allowed: limit - tokens - held, now: now) : reset
            return Refusal(limit: name, value: limit, retryAfter: wait,
                           message: "this key has used \(used) tokens and holds \(held) for requests in flight; the request may use \(tokens), "
                               + "and '\(name)' allows \(limit)")
        }
        return nil
    }
}
