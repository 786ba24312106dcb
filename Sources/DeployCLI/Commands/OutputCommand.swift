import Deployment
import Plan
import TextSafety
import Stack

/// `deploy output`: the stack's outputs as recorded by the last apply.
struct OutputCommand: Command {
    static let name = "output"
    // a shared state is read (and locked) in the bucket, through the AWS options
    static let usesAWS = true
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Show the stack's outputs (node addresses, bucket names, key ARN) from the last apply."
    static let discussion = """
        With NAME (phase.output, as listed), only that value: quoted as in plans, as JSON with --output json, or with \
        --raw as bare text for scripts (a string without quotes, a list one item a line).
        """
    static let positionals = ["[NAME]"]

    struct Options: CommandOptions {
        var stack = StackSelection()
        var raw = false
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack) + [
            .flag("raw", "With NAME: print the value bare, for scripts (strings unquoted, lists one item a line).", \.raw),
        ]

        func validate() throws(UsageError) {
            guard positionals.count <= 1 else { throw UsageError(message: "output takes at most one NAME", command: name) }
            if raw, positionals.isEmpty { throw UsageError(message: "--raw needs a NAME", command: name) }
        }
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let options = try parsed.stack.required(command: name)
        let configuration = try options.loadConfiguration()
        guard let state = try await options.stateBackend(for: configuration, context).load(for: configuration.stack) else {
            throw NotConfirmed(description: "stack \(configuration.stack.name) has not been applied: there is no state")
        }
        if let wanted = parsed.positionals.first {
            guard let value = state.outputs[wanted] else {
                throw NotConfirmed(description: Suggestion.message("no output '\(SafeText.quoted(wanted))' is recorded", for: wanted,
                                                                    among: state.outputs.keys))
            }
            if parsed.raw {
                guard let raw = Self.raw(value) else {
                    throw NotConfirmed(description: "\(wanted) is a map; --raw prints strings, numbers, bools and lists of them (use --output json)")
                }
                context.console.out(raw)
            } else {
                context.console.out(context.options.output == .json ? try JSONText.encode(value) : value.description)
            }
            return ExitCode.success
        }
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(state.outputs))
        case .text:
            guard !state.outputs.isEmpty else {
                context.console.out("No outputs recorded; run deploy apply.")
                return ExitCode.success
            }
            context.console.out(TextTable.keyValue(state.outputs.keys.sorted().map { ($0, state.outputs[$0]!.interpolated) }))
        }
        return ExitCode.success
    }

    /// A value as bare text: a string as itself, a list one element a line; nil for a map, which has no bare form.
    static func raw(_ value: Value) -> String? {
        switch value {
        case .list(let items):
            let lines = items.compactMap(raw)
            return lines.count == items.count ? lines.joined(separator: "\n") : nil
        case .map: return nil
        default: return value.interpolated
        }
    }
}
