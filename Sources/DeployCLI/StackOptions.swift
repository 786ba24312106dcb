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

    init(stackPath: String, templates: String?, statePath: String?, bundledArtifacts: [String: LocalArtifact] = [:]) {
        self.stackPath = stackPath
        self.templates = templates
        self.statePath = statePath
        self.bundledArtifacts = bundledArtifacts
    }

    /// The options given, or nil without --stack (apply takes a plan file or a bundle instead).
    static func optional(_ arguments: ParsedArguments) -> StackOptions? {
        arguments.value("stack").map { StackOptions(stackPath: $0, templates: arguments.value("templates"), statePath: arguments.value("state")) }
    }

    init(_ arguments: ParsedArguments, command: String) throws(UsageError) {
        guard let stack = arguments.value("stack") else {
            throw UsageError(message: "--stack <file> is required", command: command)
        }
        stackPath = stack
        templates = arguments.value("templates")
        statePath = arguments.value("state")
    }

    /// Loads and checks the stack and its templates without expanding them: for commands that read only the state
    /// (an expansion, and the checks on it, come with `load`).
    func loadConfiguration() throws -> StackConfiguration {
        try StackConfiguration.load(stackPath: stackPath, templatesDirectory: templates)
    }

    func stateStore(for configuration: StackConfiguration) -> StateStore {
        StateStore(path: statePath ?? StateStore.defaultPath(stackFile: stackPath, stackName: configuration.stack.name))
    }
}
