import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The CPU time one request's patterns may take in all, across its messages, stop sequences and streamed answer,
/// on top of each text's own limit: many texts each just under the limit do not add up to a held thread. CPU time
/// of the thread that matches, not wall time, so a loaded machine does not make a text look slow.
public final class PatternClock: Sendable {
    private let remaining: Mutex<Duration>

    public init(budget: Duration) {
        remaining = Mutex(budget)
    }

    /// What is left of the budget.
    var left: Duration { remaining.withLock { $0 } }

    func spend(_ used: Duration) {
        remaining.withLock { $0 -= used }
    }

    /// The CPU time the calling thread has used.
    static func threadTime() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }
}
