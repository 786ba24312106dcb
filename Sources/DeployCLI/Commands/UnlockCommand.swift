import AWS
import Plan
import Stack

/// `deploy unlock LOCK_ID`: removes a state lock left behind by a run that is gone.
struct UnlockCommand: Command {
    static let name = "unlock"
    // a shared state is read (and locked) in the bucket, through the AWS options
    static let usesAWS = true
    static let abstract = "Remove a stale state lock, given the id that the locked-state error printed."
    static let discussion = """
        Only the lock with exactly this id is removed; make sure the run that holds it has really stopped. A lock that \
        cannot be read at all (empty or damaged) has no id to give: remove it with --force and no LOCK_ID. A shared \
        state's lock object is removed only if it is still the one read (a delete conditional on its ETag).
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
            let configuration = try options.loadConfiguration()
            let source = options.source(context)
            if let settings = try source.sharedSettings(for: configuration.stack), let connect = source.connect {
                let s3 = S3(client: try connect(configuration.stack).inRegion(settings.region))
                let holder = try await S3StateLock.forceUnlock(s3: s3, bucket: settings.bucket, key: settings.lockKey, url: settings.url,
                                                               id: parsed.positionals.first)
                report(holder, lock: "s3://\(settings.bucket)/\(settings.lockKey)", context)
                return ExitCode.success
            }
            statePath = source.localStore(stackName: configuration.stack.name).path
        }
        report(try StateLock.forceUnlock(statePath: statePath, id: parsed.positionals.first), lock: StateLock.lockPath(forState: statePath),
               context)
        return ExitCode.success
    }

    private static func report(_ holder: LockInfo?, lock: String, _ context: CommandContext) {
        guard let holder else {
            context.console.out("Removed the unreadable lock \(lock).")
            return
        }
        let shown = holder.quoted  // a lock can be written by anyone who can write where it is kept
        context.console.out("Removed the lock \(shown.id) (\(shown.operation) by \(shown.who) on \(shown.host), pid \(shown.pid), since \(shown.created)).")
    }
}
