import Diagnostics

/// A mistake on the command line; exit code 2, with a pointer to the command's help.
struct UsageError: UserFacingError {
    var message: String
    /// The command whose usage to point at, if any.
    var command: String?

    var description: String { message }
    var failureKind: FailureKind { .usage }
    var hint: String? { "See '\(command.map { "deploy \($0) --help" } ?? "deploy --help")'." }

    /// This error, pointing at `command` unless it names one already.
    func pointing(at command: String?) -> UsageError {
        UsageError(message: message, command: self.command ?? command)
    }
}
