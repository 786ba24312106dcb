import Deployment
import Plan
import Stack

/// `deploy taint ADDRESS`: the next apply replaces the resource (delete, then create), as after a failed create.
struct TaintCommand: Command {
    static let name = "taint"
    // a shared state is read (and locked) in the bucket, through the AWS options
    static let usesAWS = true
    static let abstract = "Mark a recorded resource for replacement by the next apply."
    static let discussion = "Nothing in the account changes now; deploy plan shows the replacement, deploy untaint takes it back."
    static let positionals = ["ADDRESS"]

    static func run(_ options: TaintMarking.Options, _ context: CommandContext) async throws -> Int32 {
        try await TaintMarking.mark(options, context, command: name, status: .tainted)
    }
}

/// `deploy untaint ADDRESS`: takes back a taint, so the next apply keeps the resource.
struct UntaintCommand: Command {
    static let name = "untaint"
    // a shared state is read (and locked) in the bucket, through the AWS options
    static let usesAWS = true
    static let abstract = "Take back a taint, so that the next apply keeps the resource."
    static let positionals = ["ADDRESS"]

    static func run(_ options: TaintMarking.Options, _ context: CommandContext) async throws -> Int32 {
        try await TaintMarking.mark(options, context, command: name, status: .created)
    }
}

/// What taint and untaint share: one address, whose recorded status changes under the lock.
enum TaintMarking {
    /// The stack and the one ADDRESS.
    struct Options: CommandOptions {
        var stack = StackSelection()
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack)

        /// The errors name no command: the one run fills it in.
        func validate() throws(UsageError) {
            guard positionals.count == 1 else {
                throw UsageError(message: positionals.isEmpty ? "missing ADDRESS" : "takes one ADDRESS")
            }
            _ = try StateEditing.address(positionals[0], command: nil)
        }
    }

    static func mark(_ options: Options, _ context: CommandContext, command: String, status: ResourceState.Status) async throws -> Int32 {
        let address = try StateEditing.address(options.positionals[0], command: command)
        var message = ""
        try await StateEditing.mutate(options.stack, context, command: command) { state in
            var resource = try StateEditing.recorded(address, in: state)
            guard resource.status != .pending else {
                throw NotConfirmed(description: "\(address) is pending (its create was never confirmed); the next apply settles it")
            }
            guard resource.status != status else {
                message = "\(address) is already \(status == .tainted ? "tainted" : "not tainted"); nothing changed."
                return false
            }
            resource.status = status
            state.record(resource)
            message = status == .tainted ? "\(address) is tainted: the next apply replaces it." : "\(address) is no longer tainted."
            return true
        }
        context.console.out(message)
        return ExitCode.success
    }
}
