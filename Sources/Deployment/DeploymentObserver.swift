import Plan
import Provision

/// What a run shows and asks as it goes; the CLI prints and prompts, a test records. Every gate has been passed
/// when `review` is called, and nothing has changed before `confirm` returns.
public protocol DeploymentObserver: Sendable {
    /// Accepted, but worth a line on standard error (a stale lock taken over, a downgrade allowed).
    func warning(_ message: String)
    /// The plan an apply is about to carry out (`saved`: from a plan file, already reviewed when it was made).
    func review(_ plan: Plan, saved: Bool) throws
    /// The resources a destroy is about to delete, in the order it lists them.
    func reviewDestroy(_ resources: [ResourceState], stack: StackIdentity)
    /// Asks for a yes; throws (`NotConfirmed`) to stop with nothing changed.
    func confirm(_ question: String) throws
    /// Called once, just before the first change.
    func starting()
    /// A resource started, finished, failed or was skipped.
    func progress(_ event: ProgressEvent)
}
