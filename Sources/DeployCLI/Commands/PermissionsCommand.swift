import Plan
import Provision
import Stack

/// `deploy permissions`: the least IAM policy the deploying identity needs for this stack.
struct PermissionsCommand: Command {
    static let name = "permissions"
    static let abstract = "Print the minimal IAM policy that applying, refreshing and destroying this stack needs."
    static let discussion = """
        Derived from the actions each resource handler declares it calls, for the resource types this stack uses. \
        Actions on named resources (roles, instance profiles, buckets, tables, trails, log groups) are limited to those \
        resources' ARNs; --resources any prints the same actions on every resource, for endpoints that cannot evaluate \
        resource-level permissions.
        """

    /// Which resources the policy's actions name.
    enum Scope: String, Sendable {
        case named, any
    }

    struct Options: CommandOptions {
        var stack = StackSelection()
        var resources: Scope?
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack, state: false) + BackendSelection.bindings(\.stack.backend) + [
            .choice("resources", "scope", "named (default) or any.", \.resources) { "--resources must be named or any, not '\($0)'" },
        ]
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let options = try parsed.stack.required(command: name)
        let loaded = try await options.load(context, readingState: false)
        let policy = try PermissionsPolicy.build(loaded.expanded, stack: loaded.stack, scoped: parsed.resources != .any,
                                                 sharedState: try loaded.source.sharedSettings(for: loaded.stack))
        context.console.out(try JSONText.encode(policy))
        return ExitCode.success
    }
}
