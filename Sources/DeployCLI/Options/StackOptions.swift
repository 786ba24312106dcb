import Compliance
import Foundation
import Plan
import Stack

/// A stack selection whose stack file is known (`StackSelection.required`): the stack, its templates and its state.
struct StackOptions: Sendable {
    var stackPath: String
    var templates: String?
    var statePath: String?
    /// Artifacts read from a verified bundle (`apply --bundle`), by absolute path.
    var bundledArtifacts: [String: LocalArtifact] = [:]

    /// Loads and checks the stack, its templates and its instance types; `warnings` receives what is accepted but
    /// worth a second look, one line each with its location.
    func loadConfiguration(warnings console: Console? = nil) throws -> StackConfiguration {
        var configuration = try StackConfiguration.load(stackPath: stackPath, templatesDirectory: templates)
        configuration.bundledArtifacts = bundledArtifacts
        try InstanceTypeCheck.check(configuration)
        try SuppressionCheck.check(configuration)
        for warning in configuration.warnings {
            console?.err("warning: " + (warning.location.map { "\($0): " } ?? "") + warning.message)
        }
        return configuration
    }

    func stateStore(for configuration: StackConfiguration) -> StateStore {
        StateStore(path: statePath ?? StateStore.defaultPath(stackFile: stackPath, stackName: configuration.stack.name))
    }
}
