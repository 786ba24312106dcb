import Compliance
import Foundation
import Plan
import Stack

/// The options of the commands that work on a stack: which stack, which templates, which state.
struct StackOptions: Sendable {
    static let specs: [OptionSpec] = [
        .value("stack", "file", "The stack file (Stacks/*.json5)."),
        .value("templates", "dir", "The phase templates (default: the stack's 'templates', else Templates/ beside Stacks/)."),
    ]
    static let stateSpecs: [OptionSpec] = [
        .value("state", "path", "The state file (default: .deploy/<stack>.state.json beside the stack file)."),
    ]

    var stackPath: String
    var templates: String?
    var statePath: String?
    /// Artifacts read from a verified bundle (`apply --bundle`), by absolute path.
    var bundledArtifacts: [String: LocalArtifact] = [:]

    init(_ arguments: ParsedArguments, command: String) throws(UsageError) {
        guard let stack = arguments.value("stack") else {
            throw UsageError(message: "--stack <file> is required", command: command)
        }
        stackPath = stack
        templates = arguments.value("templates")
        statePath = arguments.value("state")
    }

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
