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
    static let options = StackOptions.specs + [.value("resources", "scope", "named (default) or any.")]

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(arguments.positionals[0])'", command: name) }
        if let scope = arguments.value("resources"), !["named", "any"].contains(scope) {
            throw UsageError(message: "--resources must be named or any, not '\(scope)'", command: name)
        }
    }

    static func run(_ context: CommandContext) async throws -> Int32 {
        let loaded = try StackOptions(context.arguments, command: name).load(context.console, readingState: false)
        let policy = try PermissionsPolicy.build(loaded.expanded, stack: loaded.stack,
                                                 scoped: context.arguments.value("resources") != "any")
        context.console.out(try JSONText.encode(policy))
        return ExitCode.success
    }
}
