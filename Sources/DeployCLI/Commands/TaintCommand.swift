import Deployment
import Plan
import Stack

/// `deploy taint ADDRESS`: the next apply replaces the resource (delete, then create), as after a failed create.
struct TaintCommand: Command {
    static let name = "taint"
    static let abstract = "Mark a recorded resource for replacement by the next apply."
    static let discussion = "Nothing in the account changes now; deploy plan shows the replacement, deploy untaint takes it back."
    static let options = StackOptions.specs + StackOptions.stateSpecs
    static let positionals = ["ADDRESS"]

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        try TaintMarking.validate(arguments, command: name)
    }

    static func run(_ context: CommandContext) async throws -> Int32 {
        try TaintMarking.mark(context, command: name, status: .tainted)
    }
}

/// `deploy untaint ADDRESS`: takes back a taint, so the next apply keeps the resource.
struct UntaintCommand: Command {
    static let name = "untaint"
    static let abstract = "Take back a taint, so that the next apply keeps the resource."
    static let options = StackOptions.specs + StackOptions.stateSpecs
    static let positionals = ["ADDRESS"]

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        try TaintMarking.validate(arguments, command: name)
    }

    static func run(_ context: CommandContext) async throws -> Int32 {
        try TaintMarking.mark(context, command: name, status: .created)
    }
}

/// What taint and untaint share: one address, whose recorded status changes under the lock.
enum TaintMarking {
    static func validate(_ arguments: ParsedArguments, command: String) throws(UsageError) {
        guard arguments.positionals.count == 1 else {
            throw UsageError(message: arguments.positionals.isEmpty ? "missing ADDRESS" : "takes one ADDRESS", command: command)
        }
        _ = try StateEditing.address(arguments.positionals[0], command: command)
    }

    static func mark(_ context: CommandContext, command: String, status: ResourceState.Status) throws -> Int32 {
        let address = try StateEditing.address(context.arguments.positionals[0], command: command)
        var message = ""
        try StateEditing.mutate(context, command: command) { state in
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
