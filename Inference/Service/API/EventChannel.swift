import Foundation
import InferenceEngine

/// Hands a request's events from the scheduler's thread to the connection's: the scheduler never waits, the
/// connection waits with a timeout so that it can notice its client leaving.
final class EventChannel: @unchecked Sendable {
    // @unchecked: `events` is touched only under `condition`'s lock
    private let condition = NSCondition()
    private var events: [CompletionEvent] = []

    func send(_ event: CompletionEvent) {
        condition.lock()
        events.append(event)
        condition.signal()
        condition.unlock()
    }

    /// The events that arrived, waiting up to `timeout` for the first; empty on timeout.
    func receive(timeout: TimeInterval) -> [CompletionEvent] {
        condition.lock()
        defer { condition.unlock() }
        if events.isEmpty { _ = condition.wait(until: Date(timeIntervalSinceNow: timeout)) }
        defer { events.removeAll() }
        return events
    }
}
