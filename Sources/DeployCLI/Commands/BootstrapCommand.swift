import Deployment
import Foundation
import Plan
import Stack

/// `deploy bootstrap`: makes the bucket (and the KMS key, when named by an alias) that a stack's shared state lives in.
struct BootstrapCommand: Command {
    static let name = "bootstrap"
    static let usesAWS = true
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Create the bucket and KMS key a stack's shared state (its state block, or --backend) lives in."
    static let discussion = """
        Applies a small stack over Templates/state-backend with the same handlers, plan and checks as any other: a \
        bucket with versioning, SSE-KMS under the state's key, Block Public Access, a TLS-only policy and, with the \
        state block's object_lock_days, S3 Object Lock; and, when the state names its key as alias/NAME, a \
        customer-managed key with rotation. Its own state is a local file in .deploy/bootstrap/ beside the stack. \
        Run it again to see or repair drift; then deploy state push moves an existing local state into the bucket.
        """

    struct Options: CommandOptions {
        var stack = StackSelection()
        var autoApprove = false
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack) + [
            .flag("auto-approve", "Apply without asking.", \.autoApprove),
        ]

        func validate() throws(UsageError) {
            try noPositionals()
            guard stack.statePath == nil else {
                throw UsageError(message: "bootstrap keeps its own state in .deploy/bootstrap/ beside the stack; --state does not apply", command: name)
            }
        }
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let options = try parsed.stack.required(command: name)
        let configuration = try options.loadConfiguration()
        guard let settings = try options.source(context).sharedSettings(for: configuration.stack) else {
            throw UsageError(message: "bootstrap makes what a shared state lives in, but the stack has no state block and no --backend was given",
                             command: name)
        }
        let directory = StateBootstrap.directory(stackFile: options.stackPath)
        let bootName = StateBootstrap.name(for: configuration.stack)
        let text = try StateBootstrap.stackText(for: configuration.stack, settings: settings, templatesDirectory: configuration.templatesDirectory)
        // checked before it is written: a stack that does not load leaves nothing behind
        _ = try StackFile.parse(text, file: "\(directory)/\(bootName).json5")
        try AtomicFile.makeDirectory(directory)
        let stackPath = (directory as NSString).appendingPathComponent("\(bootName).json5")
        try AtomicFile.write(Data(text.utf8), to: stackPath, mode: 0o644)
        let boot = StackOptions(stackPath: stackPath, statePath: (directory as NSString).appendingPathComponent("\(bootName).state.json"),
                                lockTimeout: options.lockTimeout)
        context.console.err("bootstrap: \(settings.url) lives in bucket \(settings.bucket) (\(settings.region)), encrypted under \(settings.kmsKey); "
                            + "stack \(stackPath)")
        let deployment = Deployment(try await boot.load(context), context, autoApprove: parsed.autoApprove)
        return RunReporter(context).finish(try await deployment.apply(Deployment.ApplyRequest()), .apply)
    }
}
