import AWS
import Foundation
import Plan
import Provision
import Stack

/// `deploy destroy`: deletes everything the stack created, dependants first.
struct DestroyCommand: Command {
    static let name = "destroy"
    static let usesAWS = true
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Delete every resource of the stack, in reverse dependency order."
    static let discussion = """
        Protected resources (by default the KMS key and the audit bucket) are refused unless --force, or kept with \
        --keep-protected. KMS keys are scheduled for deletion with their pending window. A bucket that still holds \
        objects is refused unless --empty-buckets.
        """

    struct Options: CommandOptions {
        var stack = StackSelection()
        var parallelism = 8
        var autoApprove = false
        var force = false
        var keepProtected = false
        var emptyBuckets = false
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack) + [
            ApplySupport.parallelismBinding(\.parallelism),
            .flag("auto-approve", "Destroy without asking.", \.autoApprove),
            .flag("force", "Destroy protected resources too, lifting a table's deletion protection.", \.force),
            .flag("keep-protected", "Destroy everything except the protected resources, which stay in the state.", \.keepProtected),
            .flag("empty-buckets", "Delete the objects of non-empty buckets first.", \.emptyBuckets),
        ]

        func validate() throws(UsageError) {
            guard positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(positionals[0])'", command: name) }
            if force, keepProtected {
                throw UsageError(message: "--force and --keep-protected contradict each other", command: name)
            }
        }

        /// The handlers may empty buckets (--empty-buckets) and delete protected resources (--force).
        func handlerContext(_ client: AWSClient, _ stack: StackFile) -> HandlerContext {
            ApplySupport.handlerContext(client, stack, emptyBuckets: emptyBuckets, force: force)
        }
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        var run = try StackRun.open(try parsed.stack.required(command: name), console: context.console)
        let configuration = run.configuration
        let client = try StackSession.client(context, configuration.stack)
        try await ApplySupport.checkAccount(client, configuration.stack)
        try run.lock(name, context.console)
        defer { run.release() }
        let state = try run.state()
        let reporter = RunReporter(context)
        guard !state.resources.isEmpty else {
            reporter.note("Nothing to destroy: the state of \(configuration.stack.name) records no resources.")
            return reporter.unchanged(.destroy)
        }
        let expanded = run.expanded
        let declaredProtected = Set(expanded.resources.filter(\.protected).map(\.address))
        let protected = Set(state.resources.map(\.address)).intersection(declaredProtected)
        let keep = parsed.keepProtected
        if !protected.isEmpty, !parsed.force, !keep {
            throw NotConfirmed(description: "destroy would delete protected resources: \(protected.sorted().map(\.description).joined(separator: ", ")). "
                + "Pass --force to delete them too, or --keep-protected to keep them; nothing was changed")
        }
        let doomed = state.resources.filter { !(keep && protected.contains($0.address)) }.sorted { $0.address > $1.address }
        reporter.note("Destroy \(doomed.count) resources of stack \(configuration.stack.name) in account \(configuration.stack.account):\n"
            + doomed.map { "  - \($0.address) (\($0.type)) \($0.id ?? "")" }.joined(separator: "\n"))
        try Confirmation.ask("\nDestroy these resources?", autoApprove: parsed.autoApprove, context)
        return try await ApplySupport.execute(.destroy, run: run, expanded: expanded, state: state,
                                              handlerContext: parsed.handlerContext(client, configuration.stack),
                                              parallelism: parsed.parallelism, context) {
            try await $0.destroy(protected: protected, keepProtected: keep)
        }
    }
}
