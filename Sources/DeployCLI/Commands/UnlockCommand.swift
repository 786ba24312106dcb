import Plan
import Stack

/// `deploy unlock LOCK_ID`: removes a state lock left behind by a run that is gone.
struct UnlockCommand: Command {
    static let name = "unlock"
    static let abstract = "Remove a stale state lock, given the id that the locked-state error printed."
    static let discussion = "Only the lock with exactly this id is removed; make sure the run that holds it has really stopped."
    static let options = StackOptions.specs + StackOptions.stateSpecs
    static let positionals = ["LOCK_ID"]

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.count == 1 else {
            throw UsageError(message: arguments.positionals.isEmpty ? "missing LOCK_ID" : "unexpected argument '\(arguments.positionals[1])'",
                             command: name)
        }
    }

    static func run(_ context: CommandContext) async throws -> Int32 {
        let statePath: String
        if let explicit = context.arguments.value("state") {
            statePath = explicit
        } else {
            let options = try StackOptions(context.arguments, command: name)
            statePath = options.stateStore(for: try options.loadConfiguration()).path
        }
        let holder = try StateLock.forceUnlock(statePath: statePath, id: context.arguments.positionals[0])
        context.console.out("Removed the lock \(holder.id) (\(holder.operation) by \(holder.who) on \(holder.host), pid \(holder.pid), since \(holder.created)).")
        return ExitCode.success
    }
}
