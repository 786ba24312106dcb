import Provision

/// How an apply or a destroy ended.
public enum RunOutcome: Sendable {
    /// Nothing needed doing, and nothing was called.
    case unchanged
    /// The executor ran; the report says what it did and whether all of it succeeded.
    case executed(ExecutionReport)
}
