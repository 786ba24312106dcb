import Synchronization

/// Counts full expansions of a stack (each one evaluates every block and hashes every artifact), for the tests
/// that hold a command to its budget of them. Set for a task with `Expander.$observer.withValue(counter) { ... }`;
/// child tasks inherit it, other tasks never see it.
public final class ExpansionCounter: Sendable {
    private let count = Mutex(0)

    public init() {}

    /// Full expansions seen so far.
    public var value: Int { count.withLock { $0 } }

    func fullExpansion() { count.withLock { $0 += 1 } }
}

extension Expander {
    /// The counter full expansions report to, in the task that set it.
    @TaskLocal public static var observer: ExpansionCounter?
}
