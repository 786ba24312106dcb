import Plan
import Stack

/// `deploy output`: the stack's outputs as recorded by the last apply.
struct OutputCommand: Command {
    static let name = "output"
    static let abstract = "Show the stack's outputs (node addresses, bucket names, key ARN) from the last apply."
    static let options = StackOptions.specs + StackOptions.stateSpecs

    static func run(_ context: CommandContext) async throws -> Int32 {
        let options = try StackOptions(context.arguments, command: name)
        let configuration = try options.loadConfiguration()
        guard let state = try options.stateStore(for: configuration).load(for: configuration.stack) else {
            throw NotConfirmed(description: "stack \(configuration.stack.name) has not been applied: there is no state")
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
}
