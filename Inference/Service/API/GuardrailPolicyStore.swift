import Guardrails
import Foundation
import JSON5Source
import Synchronization

/// The policy file as the running server holds it: read at start (a bad file stops the start, with its line and
/// column), then re-read at most once a second when it changes. A bad edit keeps the last good policy and is
/// reported once; the next good edit replaces it.
public final class GuardrailPolicyStore: Sendable {
    /// What a re-read did, for the log, the audit log and the metrics.
    public enum Reload: Sendable, Equatable {
        case loaded(sha256: String)
        case rejected(String)
    }

    public let path: String
    private struct State {
        var policy: GuardrailPolicy
        var stamp: FileStamp?
        var checked = ContinuousClock.now
        /// The file as it was when last refused (`.some(nil)`: missing), so one bad state is reported once.
        var rejected: FileStamp?? = nil
        var failures = 0
    }
    private let state: Mutex<State>

    public init(path: String) throws(StackError) {
        self.path = path
        let stamp = FileStamp(path)
        state = Mutex(State(policy: try Self.read(path), stamp: stamp))
    }

    static func read(_ path: String) throws(StackError) -> GuardrailPolicy {
        try GuardrailPolicyParser.parse(SourceFile.text(path, what: "guardrail policy"), file: path)
    }

    /// The policy in force, after a re-read when one is due; with the re-read's outcome when this call made one.
    public func current() -> (policy: GuardrailPolicy, reload: Reload?) {
        let due = state.withLock { state -> Bool in
            guard ContinuousClock.now - state.checked >= .seconds(1) else { return false }
            state.checked = ContinuousClock.now
            return true
        }
        guard due else { return (state.withLock { $0.policy }, nil) }
        let stamp = FileStamp(path)
        let unchanged = state.withLock { $0.stamp == stamp || $0.rejected == .some(stamp) }
        guard !unchanged else { return (state.withLock { $0.policy }, nil) }
        do {
            let policy = try Self.read(path)
            return state.withLock { state in
                state.policy = policy
                state.stamp = stamp
                state.rejected = nil
                return (policy, .loaded(sha256: policy.sha256))
            }
        } catch {
            return state.withLock { state in
                state.rejected = .some(stamp)
                state.failures += 1
                return (state.policy, .rejected("the guardrail policy was not reloaded; the last good one (SHA-256 \(state.policy.sha256.prefix(16))) "
                                                   + "stays in force: \(error.description)"))
            }
        }
    }

    /// Edits rejected since the start.
    public var reloadFailures: Int { state.withLock { $0.failures } }
}
