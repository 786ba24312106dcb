import Compliance
import Foundation
import Plan
import Stack

/// A stack selection whose stack file is known (`StackSelection.required`): the stack, its templates and its state.
struct StackOptions: Sendable {
    var stackPath: String
    var templates: String?
    var statePath: String?
    /// A shared state named by `--backend` (its region empty: the stack's).
    var backend: RemoteStateSettings?
    var lockTimeout: Double = 0
    /// Artifacts read from a verified bundle (`apply --bundle`), by absolute path.
    var bundledArtifacts: [String: LocalArtifact] = [:]

    /// Loads and checks the stack and its templates without expanding them: for commands that read only the state
    /// (an expansion, and the checks on it, come with `load`).
    func loadConfiguration() throws -> StackConfiguration {
        try StackConfiguration.load(stackPath: stackPath, templatesDirectory: templates)
    }

    /// The stack's state: shared in a bucket, reached as the command's options reach the account, or a local file.
    func stateBackend(for configuration: StackConfiguration, _ context: CommandContext) throws -> any StateBackend {
        try source(context).backend(for: configuration.stack)
    }
}
