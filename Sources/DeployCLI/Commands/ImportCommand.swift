import Deployment
import Plan
import Stack

/// `deploy import ADDRESS ID`: adopts a resource that already exists in the account (made by hand, or by another
/// tool) as the stack's resource at ADDRESS, read through its handler; the next plan shows how it differs.
struct ImportCommand: Command {
    static let name = "import"
    static let usesAWS = true
    static let abstract = "Adopt an existing resource into the state at ADDRESS, read from the account by its ID."
    static let discussion = """
        ADDRESS must be declared by the stack and not yet recorded. The resource is read by its id (vpc-..., a bucket \
        or role name, a key id) through the same handler a refresh uses; nothing in the account changes. Run deploy plan \
        afterwards to see what apply would change to make it match the stack.
        """
    static let positionals = ["ADDRESS", "ID"]

    struct Options: CommandOptions {
        var stack = StackSelection()
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack)

        func validate() throws(UsageError) {
            guard positionals.count == 2 else { throw UsageError(message: "import takes ADDRESS and ID", command: name) }
            _ = try StateEditing.address(positionals[0], command: name)
            guard !positionals[1].isEmpty else { throw UsageError(message: "the ID is empty", command: name) }
        }
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let address = try StateEditing.address(parsed.positionals[0], command: name)
        let id = parsed.positionals[1]
        let loaded = try await parsed.stack.required(command: name).load(context)
        let imported = try await Deployment(loaded, context).importResource(address, id: id)
        context.console.out("Imported \(imported.type) \(id) as \(address). Run deploy plan to see what apply would change to match the stack.")
        return ExitCode.success
    }
}
