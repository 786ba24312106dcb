import Plan
import Stack
import TextSafety

/// `deploy state list | show ADDRESS | rm ADDRESS...`: look into the state, or make it forget resources without
/// deleting them (they go on existing in the account, no longer managed); `history`, `push` and `pull` for a state
/// shared in a bucket (`SharedStateVerbs`).
struct StateCommand: Command {
    static let name = "state"
    // a shared state is read (and locked) in the bucket, through the AWS options
    static let usesAWS = true
    static let abstract = "List, show or forget recorded resources; list a shared state's versions, or move a state to or from its bucket."
    static let discussion = """
        list: every recorded address, one a line. show ADDRESS: its id, status, dependencies and attributes (sensitive \
        ones hidden). rm ADDRESS...: removes them from the state under the lock; they stay in the account, and the next \
        plan would create them anew unless the stack stops declaring them or they are imported back. \
        history: the versions of a shared state, newest first, each with its serial and whether it names the one \
        before it. push [FILE]: moves a local state (default .deploy/<stack>.state.json) into the stack's shared \
        state, both locks held, and renames the local file FILE.pushed so nothing applies against it again; --force \
        replaces a shared state that exists (it stays as a version). pull [FILE]: writes the shared state to a local \
        file, both locks held; --force replaces a local state that exists. restore VERSION: writes the state an \
        earlier version holds back as the newest snapshot, under the lock.
        """
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let positionals = ["list|show|rm|history|push|pull|restore", "[ADDRESS...|FILE|VERSION]"]

    struct Options: CommandOptions {
        var stack = StackSelection()
        var positionals: [String] = []
        var force = false
        var limit = 20

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack) + [
            .flag("force", "push: replace a shared state that exists; pull: replace a local state that exists.", \.force),
            .value("limit", "n", "history: how many versions to list (default 20).", \.limit) { text throws(UsageError) in
                guard let limit = Int(text), (1...1000).contains(limit) else {
                    throw UsageError(message: "--limit must be a whole number from 1 to 1000, not '\(text)'")
                }
                return limit
            },
        ]

        func validate() throws(UsageError) {
            switch positionals.first {
            case "list":
                guard positionals.count == 1 else { throw UsageError(message: "state list takes no address", command: name) }
            case "show":
                guard positionals.count == 2 else { throw UsageError(message: "state show takes one ADDRESS", command: name) }
            case "rm":
                guard positionals.count >= 2 else { throw UsageError(message: "state rm takes one or more ADDRESS", command: name) }
            case "history":
                guard positionals.count == 1 else { throw UsageError(message: "state history takes no argument", command: name) }
            case "restore":
                guard positionals.count == 2 else { throw UsageError(message: "state restore takes one VERSION (see state history)", command: name) }
                // S3's version ids are URL-safe text; anything else is no version id, refused before a request is signed
                guard (1...1024).contains(positionals[1].count), !positionals[1].contains(".."),
                      positionals[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-+=/".contains($0)) }) else {
                    throw UsageError(message: "'\(SafeText.quoted(positionals[1]))' is not an S3 version id (see state history)", command: name)
                }
                return
            case "push", "pull":
                guard positionals.count <= 2 else { throw UsageError(message: "state \(positionals[0]) takes at most one FILE", command: name) }
                guard stack.statePath == nil else {
                    throw UsageError(message: "state \(positionals[0]) takes the local file as its FILE argument, not --state", command: name)
                }
                return
            case let other:
                throw UsageError(message: "state needs list, show, rm, history, push, pull or restore" + (other.map { ", not '\($0)'" } ?? ""),
                                 command: name)
            }
            if force { throw UsageError(message: "--force goes with state push or state pull", command: name) }
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
        if let verb = SharedStateVerbs.Verb(rawValue: words[0]) {
            return try await SharedStateVerbs.run(verb, parsed, context)
        }
        let addresses = try words.dropFirst().map { text throws(UsageError) in try StateEditing.address(text, command: name) }
        switch words[0] {
        case "list":
            let (_, state) = try await StateEditing.read(parsed.stack, context, command: name)
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
            let (_, state) = try await StateEditing.read(parsed.stack, context, command: name)
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
            try await StateEditing.mutate(parsed.stack, context, command: name) { state in
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
