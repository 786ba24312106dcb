import Deployment
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
        let arguments = context.arguments
        let loaded = try StackOptions(arguments, command: name).load(context.console)
        let deployment = Deployment(loaded, context, autoApprove: arguments.flag("auto-approve"),
                                    parallelism: try ApplySupport.parallelism(arguments, command: name))
        let request = Deployment.DestroyRequest(force: arguments.flag("force"), keepProtected: arguments.flag("keep-protected"),
                                                emptyBuckets: arguments.flag("empty-buckets"))
        return RunReporter(context).finish(try await deployment.destroy(request), .destroy, stack: loaded.stack.name)
    }
}
