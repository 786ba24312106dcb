import Foundation

/// One identity's use of its quotas: the last minute in one-second buckets, the tokens of the current UTC day and
/// month, and the tokens reserved by its requests in flight.
struct QuotaUsage: Codable, Sendable, Equatable {
    struct Second: Codable, Sendable, Equatable {
        var second: Int
        var requests = 0
        var tokens = 0
    }

    var seconds: [Second] = []
    var day = ""
    var dayTokens = 0
    var month = ""
    var monthTokens = 0
    /// Request id to tokens reserved (prompt plus max_tokens), until the request settles.
    var reserved: [String: Int] = [:]

    var reservedTokens: Int { reserved.values.reduce(0, +) }

    /// Drops the seconds older than a minute and starts a new day or month at its UTC boundary.
    mutating func advance(to now: QuotaClock.Instant) {
        seconds.removeAll { $0.second <= now.second - 60 }
        if day != now.day { day = now.day; dayTokens = 0 }
        if month != now.month { month = now.month; monthTokens = 0 }
    }

    mutating func record(requests: Int = 0, tokens: Int = 0, at now: QuotaClock.Instant) {
        if let last = seconds.indices.last, seconds[last].second == now.second {
            seconds[last].requests += requests
            seconds[last].tokens += tokens
        } else {
            seconds.append(Second(second: now.second, requests: requests, tokens: tokens))
        }
        dayTokens += tokens
        monthTokens += tokens
    }

    var minuteRequests: Int { seconds.reduce(0) { $0 + $1.requests } }
    var minuteTokens: Int { seconds.reduce(0) { $0 + $1.tokens } }

    /// Seconds until enough of the last minute's `value` expires to bring `used` down to `allowed`.
    func secondsUntilMinuteFrees(_ value: KeyPath<Second, Int>, used: Int, allowed: Int, now: QuotaClock.Instant) -> Int {
        var remaining = used
        for bucket in seconds {
            remaining -= bucket[keyPath: value]
            if remaining <= allowed { return max(1, bucket.second + 60 - now.second) }
        }
        return 60
    }
}

/// The time as quotas count it: whole seconds, and the UTC day and month they fall in.
public struct QuotaClock: Sendable {
    public struct Instant: Sendable {
        public var second: Int
        public var day: String
        public var month: String
        /// Seconds to the next UTC midnight and to the first of the next month.
        public var secondsToNextDay: Int
        public var secondsToNextMonth: Int
    }

    public static func instant(_ date: Date) -> Instant {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        let dayStart = calendar.date(from: parts)!
        let nextDay = calendar.date(byAdding: .day, value: 1, to: dayStart)!
        let monthStart = calendar.date(from: DateComponents(year: parts.year, month: parts.month, day: 1))!
        let nextMonth = calendar.date(byAdding: .month, value: 1, to: monthStart)!
        let second = Int(date.timeIntervalSince1970)
        return Instant(second: second, day: String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!),
                       month: String(format: "%04d-%02d", parts.year!, parts.month!),
                       secondsToNextDay: max(1, Int(nextDay.timeIntervalSince1970) - second),
                       secondsToNextMonth: max(1, Int(nextMonth.timeIntervalSince1970) - second))
    }
}
