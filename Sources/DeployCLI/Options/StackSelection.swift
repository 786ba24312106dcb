/// `--stack`, `--templates` and `--state`, as given: the group that every command working on a stack embeds in its
/// options with `bindings(_:)`.
struct StackSelection: Sendable {
    var stackPath: String?
    var templates: String?
    var statePath: String?
    var backend = BackendSelection()

    /// The group's options, filling the selection at `group`; `state: false` leaves out --state.
    static func bindings<Options>(_ group: WritableKeyPath<Options, StackSelection> & Sendable, state: Bool = true) -> [OptionBinding<Options>] {
        (state ? all + BackendSelection.bindings(\.backend) : Array(all.prefix(2))).map { $0.embedded(in: group) }
    }

    private static let all: [OptionBinding<Self>] = [
        .value("stack", "file", "The stack file (Stacks/*.json5).", \.stackPath),
        .value("templates", "dir", "The phase templates (default: the stack's 'templates', else Templates/ beside Stacks/).", \.templates),
        .value("state", "path", "The state file (default: .deploy/<stack>.state.json beside the stack file).", \.statePath),
    ]

    /// The selection with its stack file known; "--stack <file> is required" otherwise.
    func required(command: String) throws(UsageError) -> StackOptions {
        guard let stackPath else { throw UsageError(message: "--stack <file> is required", command: command) }
        return StackOptions(stackPath: stackPath, templates: templates, statePath: statePath, backend: try backend.settings(command: command),
                            lockTimeout: backend.lockTimeout)
    }
}
