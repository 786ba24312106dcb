import Foundation
import Stack

/// Where one stack's state is kept and locked: a file on this machine (`StateStore`), or an object in a bucket of
/// the customer's account that a team shares (`S3StateBackend`).
public protocol StateBackend: Sendable {
    /// Where the state is, as messages name it: a path, or `s3://bucket/key`.
    var location: String { get }
    /// The recorded state, or nil when nothing is recorded yet.
    func load() async throws -> State?
    /// Replaces the recorded state with `state` (its serial already bumped). A shared backend writes only over the
    /// state it last read or wrote, so that of two writers exactly one succeeds.
    func write(_ state: State) async throws
    /// Takes the state's lock for `operation` ("apply", "state rm", ...), or throws a `LockError` naming its holder.
    func lock(operation: String, now: Date) async throws -> any StateLease
}

/// A lock held on a state until released.
public protocol StateLease: Sendable {
    /// Set when a lock its holder had left behind was taken over, for the caller to show.
    var warning: String? { get }
    /// Gives the lock up, if it is still ours; never removes another holder's.
    func release() async
    /// Runs `action` once the lock is lost (taken by another run, or unrenewed past its lease); at once if it is.
    func onLost(_ action: @escaping @Sendable () -> Void)
}

extension StateLease {
    /// A lock that cannot be lost while its holder lives (a local file) never calls `action`.
    public func onLost(_ action: @escaping @Sendable () -> Void) {}
}

extension StateBackend {
    /// The state, checked to belong to `stack` (its name and account).
    public func load(for stack: StackFile) async throws -> State? {
        guard let state = try await load() else { return nil }
        guard state.stack == stack.name else {
            throw StateError(.wrongStack, path: location, "records stack '\(state.stack)', not '\(stack.name)'; pass the right --state")
        }
        guard state.account == stack.account else {
            throw StateError(.wrongStack, path: location, "records account \(state.account), but the stack names \(stack.account)")
        }
        return state
    }

    /// Takes the lock, waiting up to `timeout` seconds (polling) while another run holds it.
    public func lock(operation: String, timeout: TimeInterval, now: @Sendable () -> Date = Date.init) async throws -> any StateLease {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                return try await lock(operation: operation, now: now())
            } catch let error as LockError where error.holder != nil && Date() < deadline {
                try await Task.sleep(nanoseconds: UInt64(min(2, max(0.2, deadline.timeIntervalSinceNow)) * 1e9))
            }
        }
    }
}
