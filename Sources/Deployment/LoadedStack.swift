import Compliance
import Plan
import Stack

/// A stack read, checked and expanded once, with what every operation on it starts from: its configuration, its
/// expansion against the recorded state, its digest and the state as it was read.
///
/// The expansion lends recorded ids to what refers to kept resources; the planner refines it with its decisions
/// and the executor with what it creates, so one run evaluates the whole stack, and hashes its artifacts, once.
public struct LoadedStack: Sendable {
    public let source: StackSource
    public let configuration: StackConfiguration
    /// The stack against the recorded state (`Planner.recordedAttributes`).
    public let expanded: ExpandedStack
    /// Of the stack file and its templates (`StackDigest`): what a saved plan is pinned to.
    public let digest: String
    public let store: any StateBackend
    /// The state as read when the stack was loaded, nil when none is recorded. A run that changes the state reads
    /// it again under the lock (`currentState`), since another run may have written it meanwhile.
    public let recorded: State?

    /// Loads and checks the stack, reads its state and expands it; any error stops here, before a lock is taken
    /// or a call made. Without `readingState`, the state is not read (commands that never need it); without
    /// `hashingArtifacts`, artifacts are located and sized but not hashed (a bundle hashes them as it writes them).
    /// Without `requiringExpansion`, a stack that does not expand (an artifact gone missing, say) loads with no
    /// resources: for judging what the state records, where the expansion only lends source locations.
    public static func load(_ source: StackSource, readingState: Bool = true, hashingArtifacts: Bool = true,
                            requiringExpansion: Bool = true) async throws -> LoadedStack {
        var configuration = try StackConfiguration.load(stackPath: source.stackPath, templatesDirectory: source.templatesDirectory)
        configuration.bundledArtifacts = source.bundledArtifacts
        configuration.hashesArtifacts = hashingArtifacts
        let store: any StateBackend = readingState ? try source.backend(for: configuration.stack)
            : source.localStore(stackName: configuration.stack.name)
        let recorded = readingState ? try await Self.recorded(store.load(for: configuration.stack)) : nil
        let expanded: ExpandedStack
        do {
            expanded = try checkedExpansion(configuration, recorded: recorded)
        } catch where !requiringExpansion {
            expanded = ExpandedStack(resources: [], outputs: [:], sensitiveOutputs: [])
        }
        try SuppressionCheck.check(configuration)
        return LoadedStack(source: source, configuration: configuration, expanded: expanded, digest: StackDigest.compute(configuration),
                           store: store, recorded: recorded)
    }

    /// The one full expansion, against the recorded state, with the instance types it names checked.
    private static func checkedExpansion(_ configuration: StackConfiguration, recorded: State?) throws -> ExpandedStack {
        var expander = Expander(configuration)
        let expanded = try expander.expand(computed: Planner.recordedAttributes(recorded))
        try InstanceTypeCheck.check(configuration, expanded: expanded)
        return expanded
    }

    /// What is accepted but worth a second look, with its location.
    public var warnings: [(message: String, location: SourceLocation?)] { configuration.warnings }

    public var stack: StackFile { configuration.stack }

    /// The state as it is on disk now (read again under the lock by a run that changes it), or a new empty one.
    public func currentState() async throws -> State {
        try await store.load(for: stack) ?? State(stack: stack.name, account: stack.account, region: stack.region)
    }

    /// `state`, or nil when it records nothing yet (as a plan made before the first apply records it).
    static func recorded(_ state: State?) -> State? {
        guard let state, state.serial != 0 || !state.resources.isEmpty else { return nil }
        return state
    }
}
