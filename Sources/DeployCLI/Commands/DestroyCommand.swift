import Deployment
import Foundation
import Plan
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

        /// What destroy may do to protected resources and full buckets: destroy's flags, which no other command has.
        var request: Deployment.DestroyRequest {
            Deployment.DestroyRequest(force: force, keepProtected: keepProtected, emptyBuckets: emptyBuckets)
        }
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let loaded = try await parsed.stack.required(command: name).load(context)
        let deployment = Deployment(loaded, context, autoApprove: parsed.autoApprove, parallelism: parsed.parallelism)
        return RunReporter(context).finish(try await deployment.destroy(parsed.request), .destroy, stack: loaded.stack.name)
    }
}
