import Plan
import Stack

/// `deploy unlock LOCK_ID`: removes a state lock left behind by a run that is gone.
struct UnlockCommand: Command {
    static let name = "unlock"
    static let abstract = "Remove a stale state lock, given the id that the locked-state error printed."
    static let discussion = """
        Only the lock with exactly this id is removed; make sure the run that holds it has really stopped. A lock that \
        cannot be read at all (empty or damaged) has no id to give: remove it with --force and no LOCK_ID.
        """
    static let positionals = ["[LOCK_ID]"]

    struct Options: CommandOptions {
        var stack = StackSelection()
        /// Unlock's own --force: a lock that cannot be read goes without its id.
        var force = false
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack) + [
            .flag("force", "Remove a lock that cannot be read (a readable lock still needs its id).", \.force),
        ]

        func validate() throws(UsageError) {
            guard positionals.count <= 1 else {
                throw UsageError(message: "unexpected argument '\(positionals[1])'", command: name)
            }
            guard !positionals.isEmpty || force else {
                throw UsageError(message: "missing LOCK_ID (or --force, for a lock that cannot be read)", command: name)
            }
            guard stack.statePath != nil || stack.stackPath != nil else {
                throw UsageError(message: "give --state <path> or --stack <file> to say whose lock", command: name)
            }
        }
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let statePath: String
        if let explicit = parsed.stack.statePath {
            statePath = explicit
        } else {
            let options = try parsed.stack.required(command: name)
            statePath = options.stateStore(for: try options.loadConfiguration()).path
        }
        guard let holder = try StateLock.forceUnlock(statePath: statePath, id: parsed.positionals.first) else {
            context.console.out("Removed the unreadable lock \(StateLock.lockPath(forState: statePath)).")
            return ExitCode.success
        }
        context.console.out("Removed the lock \(holder.id) (\(holder.operation) by \(holder.who) on \(holder.host), pid \(holder.pid), since \(holder.created)).")
        return ExitCode.success
    }
}
