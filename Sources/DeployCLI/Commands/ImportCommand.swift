import Plan
import Provision
import Stack
import TextSafety

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
        var run = try StackRun.open(try parsed.stack.required(command: name), console: context.console)
        let configuration = run.configuration
        var expander = Expander(configuration)
        let declared = try expander.expand().resources
        guard let desired = declared.first(where: { $0.address == address }) else {
            throw UsageError(message: Suggestion.message("the stack declares no \(address)", for: address.description,
                                                         among: declared.map(\.address.description)), command: name)
        }
        let client = try StackSession.client(context, configuration.stack)
        try await ApplySupport.checkAccount(client, configuration.stack)
        try run.lock(name, context.console)
        defer { run.release() }
        var state = try run.state()
        if let recorded = state.resource(address) {
            throw NotConfirmed(description: "\(address) is already in the state as \(recorded.id ?? "a pending create"); "
                + "remove it first with deploy state rm \(address) to import another")
        }
        let handlerContext = ApplySupport.handlerContext(client, configuration.stack, emptyBuckets: false, force: false)
        let probe = ResourceState(address: address, type: desired.type, id: id, attributes: [:])
        let read = try await HandlerReader(context: handlerContext).read(type: desired.type, resources: [probe],
                                                                           stack: handlerContext.stack)
        guard let live = read.live[address] else {
            throw NotConfirmed(description: "no \(desired.type) with id '\(SafeText.quoted(id))' in account \(configuration.stack.account), "
                + "region \(configuration.stack.region); nothing was imported")
        }
        state.record(ResourceState(address: address, type: desired.type, id: id, attributes: live, sensitive: Array(desired.sensitive).sorted(),
                                   dependencies: desired.dependencies))
        state.serial += 1
        try run.store.write(state)
        context.console.out("Imported \(desired.type) \(id) as \(address). Run deploy plan to see what apply would change to match the stack.")
        return ExitCode.success
    }
}
