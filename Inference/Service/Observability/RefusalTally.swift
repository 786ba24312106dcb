import Foundation
import Synchronization

/// Requests refused for rate (or, with their own tally, refused by the HTTP layer past their address's budget of
/// records), counted instead of recorded one by one. Every audit record is synced to disk, so a flood of refusals
/// written one record each would turn a client's request rate into the server's disk writes and fill the disk;
/// instead the tally is written as one summary record at most every `interval`, and at shutdown.
final class RefusalTally: Sendable {
    /// Distinct callers named in one summary; the rest are counted together as "others".
    static let namedCallers = 100

    private struct State {
        var counts: [String: Int] = [:]
        var total = 0
        var first: Date?
        var lastSummary: ContinuousClock.Instant
    }
    private let state: Mutex<State>
    let interval: Duration
    /// The summary's `status` and `event`.
    private let status: Int
    private let event: String

    init(interval: Duration = .seconds(10), status: Int = 429, event: String = "rate-limited requests, counted not recorded one by one") {
        self.interval = interval
        self.status = status
        self.event = event
        state = Mutex(State(lastSummary: .now))
    }

    /// Counts one refusal of `caller` (a scope and an address or identity); returns a summary record when one is due.
    func add(_ caller: String, now: ContinuousClock.Instant = .now) -> AuditRecord? {
        state.withLock { state in
            if state.first == nil { state.first = Date() }
            state.total += 1
            if state.counts[caller] != nil || state.counts.count < Self.namedCallers {
                state.counts[caller, default: 0] += 1
            } else {
                state.counts["others", default: 0] += 1
            }
            guard now - state.lastSummary >= interval else { return nil }
            state.lastSummary = now
            return take(&state)
        }
    }

    /// The summary of what was counted since the last one, or nil if nothing was (at shutdown).
    func drain() -> AuditRecord? {
        state.withLock { state in state.total == 0 ? nil : take(&state) }
    }

    private func take(_ state: inout State) -> AuditRecord {
        let formatter = ISO8601DateFormatter.withMilliseconds
        let now = Date()
        var record = AuditRecord(time: formatter.string(from: now), route: "summary", status: status)
        record.event = event
        record.requests = state.total
        record.since = formatter.string(from: state.first ?? now)
        record.callers = state.counts
        state = State(lastSummary: state.lastSummary)
        return record
    }
}
