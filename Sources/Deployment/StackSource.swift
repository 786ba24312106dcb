import AWS
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
    /// A shared state named on the command line (`--backend`), for a stack without a `state` block.
    public var backend: RemoteStateSettings?
    /// Makes the client a shared state is reached with: the stack's account, as the command's options reach it.
    public var connect: (@Sendable (StackFile) throws -> AWSClient)?
    /// How long to wait for a lock another run holds before giving up (0: fail at once).
    public var lockTimeout: Double = 0

    public init(stackPath: String, templatesDirectory: String? = nil, statePath: String? = nil,
                bundledArtifacts: [String: LocalArtifact] = [:]) {
        self.stackPath = stackPath
        self.templatesDirectory = templatesDirectory
        self.statePath = statePath
        self.bundledArtifacts = bundledArtifacts
    }

    /// The local state file: `statePath`, else the default beside the stack file for the stack named `stackName`.
    public func localStore(stackName: String) -> StateStore {
        StateStore(path: statePath ?? StateStore.defaultPath(stackFile: stackPath, stackName: stackName))
    }

    /// Where `stack` shares its state: its `state` block, or `--backend`; nil when it keeps a local file.
    public func sharedSettings(for stack: StackFile) throws -> RemoteStateSettings? {
        if let declared = stack.state, let backend, backend.url != declared.url || backend.kmsKey != declared.kmsKey {
            throw StackError("the stack keeps its state in \(declared.url) (its state block); --backend \(backend.url) differs. "
                             + "Move a state with deploy state pull and push", at: declared.location)
        }
        guard var settings = stack.state ?? backend else { return nil }
        if settings.region.isEmpty { settings.region = stack.region }
        return settings
    }

    /// The stack's state backend: the shared state its settings name, else the local file. A shared state refuses
    /// `--state` (a local path), which only `state push` and `state pull` take beside it.
    public func backend(for stack: StackFile) throws -> any StateBackend {
        guard let settings = try sharedSettings(for: stack) else { return localStore(stackName: stack.name) }
        guard statePath == nil else {
            throw StackError("--state names a local state file, but this stack's state is shared in \(settings.url); "
                             + "deploy state pull and deploy state push move a state between the two", at: stack.state?.location)
        }
        guard let connect else {
            throw StackError("the state in \(settings.url) cannot be reached from here (no AWS session)", at: stack.state?.location)
        }
        return S3StateBackend(settings: settings, client: try connect(stack), unlockCommand: unlockCommand(settings, stack: stack))
    }

    /// `deploy unlock` for this stack's shared state, as a person would paste it.
    public func unlockCommand(_ settings: RemoteStateSettings, stack: StackFile) -> String {
        var words = ["deploy", "unlock", "--stack", ShellQuoting.word(Paths.absolute(stackPath))]
        if stack.state == nil {
            words += ["--backend", ShellQuoting.word(settings.url), "--backend-kms-key", ShellQuoting.word(settings.kmsKey)]
            if settings.region != stack.region { words += ["--backend-region", settings.region] }
        }
        return words.joined(separator: " ")
    }
}
