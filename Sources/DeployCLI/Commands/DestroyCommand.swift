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
    static let options = StackOptions.specs + StackOptions.stateSpecs + [
        .value("parallelism", "n", "How many resources to work on at once (default 8)."),
        .flag("auto-approve", "Destroy without asking."),
        .flag("force", "Destroy protected resources too, lifting a table's deletion protection."),
        .flag("keep-protected", "Destroy everything except the protected resources, which stay in the state."),
        .flag("empty-buckets", "Delete the objects of non-empty buckets first."),
    ]

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(arguments.positionals[0])'", command: name) }
        if arguments.flag("force"), arguments.flag("keep-protected") {
            throw UsageError(message: "--force and --keep-protected contradict each other", command: name)
        }
        _ = try ApplySupport.parallelism(arguments, command: name)
    }

    static func run(_ context: CommandContext) async throws -> Int32 {
        var run = try StackRun.open(try StackOptions(context.arguments, command: name), console: context.console)
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
        let keep = context.arguments.flag("keep-protected")
        if !protected.isEmpty, !context.arguments.flag("force"), !keep {
            throw NotConfirmed(description: "destroy would delete protected resources: \(protected.sorted().map(\.description).joined(separator: ", ")). "
                + "Pass --force to delete them too, or --keep-protected to keep them; nothing was changed")
        }
        let doomed = state.resources.filter { !(keep && protected.contains($0.address)) }.sorted { $0.address > $1.address }
        reporter.note("Destroy \(doomed.count) resources of stack \(configuration.stack.name) in account \(configuration.stack.account):\n"
            + doomed.map { "  - \($0.address) (\($0.type)) \($0.id ?? "")" }.joined(separator: "\n"))
        try Confirmation.ask("\nDestroy these resources?", context)
        return try await ApplySupport.execute(.destroy, run: run, expanded: expanded, state: state,
                                              handlerContext: ApplySupport.handlerContext(client, configuration.stack, arguments: context.arguments),
                                              arguments: context.arguments, context) {
            try await $0.destroy(protected: protected, keepProtected: keep)
        }
    }
}
