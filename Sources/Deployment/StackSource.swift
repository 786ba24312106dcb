import Plan
import Stack

/// Where a stack comes from: its file, its templates, its state, and the artifacts a verified bundle supplies.
public struct StackSource: Sendable {
    public var stackPath: String
    /// Nil: the stack's own `templates`, else Templates/ beside Stacks/.
    public var templatesDirectory: String?
    /// Nil: .deploy/<stack>.state.json beside the stack file.
    public var statePath: String?
    /// Artifacts read from a verified bundle (`apply --bundle`), by absolute path.
    public var bundledArtifacts: [String: LocalArtifact]

    public init(stackPath: String, templatesDirectory: String? = nil, statePath: String? = nil,
                bundledArtifacts: [String: LocalArtifact] = [:]) {
        self.stackPath = stackPath
        self.templatesDirectory = templatesDirectory
        self.statePath = statePath
        self.bundledArtifacts = bundledArtifacts
    }

    /// The state store: `statePath`, else the default beside the stack file for the stack named `stackName`.
    public func store(stackName: String) -> StateStore {
        StateStore(path: statePath ?? StateStore.defaultPath(stackFile: stackPath, stackName: stackName))
    }
}
