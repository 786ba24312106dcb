import Plan
import Stack

/// `deploy state list | show ADDRESS | rm ADDRESS...`: look into the state, or make it forget resources without
/// deleting them (they go on existing in the account, no longer managed).
struct StateCommand: Command {
    static let name = "state"
    static let abstract = "List or show recorded resources, or forget some without deleting them (list, show, rm)."
    static let discussion = """
        list: every recorded address, one a line. show ADDRESS: its id, status, dependencies and attributes (sensitive \
        ones hidden). rm ADDRESS...: removes them from the state under the lock; they stay in the account, and the next \
        plan would create them anew unless the stack stops declaring them or they are imported back.
        """
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let positionals = ["list|show|rm", "[ADDRESS...]"]

    struct Options: CommandOptions {
        var stack = StackSelection()
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack)

        func validate() throws(UsageError) {
            switch positionals.first {
            case "list":
                guard positionals.count == 1 else { throw UsageError(message: "state list takes no address", command: name) }
            case "show":
                guard positionals.count == 2 else { throw UsageError(message: "state show takes one ADDRESS", command: name) }
            case "rm":
                guard positionals.count >= 2 else { throw UsageError(message: "state rm takes one or more ADDRESS", command: name) }
            case let other:
                throw UsageError(message: "state needs list, show or rm" + (other.map { ", not '\($0)'" } ?? ""), command: name)
            }
            for text in positionals.dropFirst() { _ = try StateEditing.address(text, command: name) }
        }
    }

    struct Listed: Encodable {
        var address: String
        var type: String
        var id: String?
        var status: String
    }

    struct Shown: Encodable {
        var address: String
        var type: String
        var id: String?
        var status: String
        var dependencies: [String]
        var attributes: [String: Value]
        var sensitive: [String]
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let words = parsed.positionals
        let addresses = try words.dropFirst().map { text throws(UsageError) in try StateEditing.address(text, command: name) }
        switch words[0] {
        case "list":
            let (_, state) = try StateEditing.read(parsed.stack, command: name)
            let resources = state.resources.sorted { $0.address < $1.address }
            switch context.options.output {
            case .json:
                context.console.out(try JSONText.encode(resources.map {
                    Listed(address: $0.address.description, type: $0.type, id: $0.id, status: $0.status.rawValue)
                }))
            case .text:
                for resource in resources { context.console.out(resource.address.description) }
            }
        case "show":
            let (_, state) = try StateEditing.read(parsed.stack, command: name)
            let resource = try StateEditing.recorded(addresses[0], in: state)
            let hidden = Set(resource.sensitive)
            var attributes = resource.attributes
            for name in hidden where attributes[name] != nil { attributes[name] = .string("(sensitive)") }
            switch context.options.output {
            case .json:
                context.console.out(try JSONText.encode(Shown(address: resource.address.description, type: resource.type, id: resource.id,
                                                              status: resource.status.rawValue,
                                                              dependencies: resource.dependencies.map(\.description),
                                                              attributes: attributes, sensitive: resource.sensitive.sorted())))
            case .text:
                var rows = [("address", resource.address.description), ("type", resource.type), ("id", resource.id ?? "(none yet)"),
                            ("status", resource.status.rawValue)]
                if !resource.dependencies.isEmpty { rows.append(("depends on", resource.dependencies.map(\.description).joined(separator: ", "))) }
                context.console.out(TextTable.keyValue(rows))
                context.console.out("")
                context.console.out(TextTable.keyValue(attributes.keys.sorted().map { key in
                    (key, hidden.contains(key) ? "(sensitive)" : attributes[key]!.description)
                }))
            }
        default:
            var removed: [ResourceState] = []
            try StateEditing.mutate(parsed.stack, context, command: name) { state in
                for address in addresses {
                    removed.append(try StateEditing.recorded(address, in: state))
                    state.remove(address)
                }
                return true
            }
            for resource in removed {
                context.console.out("Removed \(resource.address) from the state; \(resource.type) \(resource.id ?? "(no id)") still exists in the account, no longer managed.")
            }
        }
        return ExitCode.success
    }
}
