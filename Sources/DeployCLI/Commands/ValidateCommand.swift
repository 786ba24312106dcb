import Plan
import Stack

/// `deploy validate`: every static check on a stack and its templates, without state or network.
struct ValidateCommand: Command {
    static let name = "validate"
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Check a stack and its templates without touching state or the network."
    static let discussion = """
        Parses the stack and the four phase templates, checks parameters, resource types, properties, references, \
        counts, CIDR blocks and the dependency graph, and evaluates every expression. Errors name file:line:column \
        and exit with code 2.
        """

    struct Options: CommandOptions {
        var stack = StackSelection()
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack, state: false)
    }

    struct Report: Encodable {
        var valid: Bool
        var stack: String
        var digest: String
        var resources: Int
        var phases: [String: Int]
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let options = try parsed.stack.required(command: name)
        let loaded = try await options.load(context, readingState: false)
        let (configuration, expanded) = (loaded.configuration, loaded.expanded)
        var phases: [String: Int] = [:]
        for resource in expanded.resources { phases[resource.address.phase, default: 0] += 1 }
        let report = Report(valid: true, stack: configuration.stack.name, digest: loaded.digest,
                            resources: expanded.resources.count, phases: phases)
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(report))
        case .text:
            let counts = Phase.allCases.map { "\($0.rawValue) \(phases[$0.rawValue] ?? 0)" }.joined(separator: ", ")
            context.console.out("Stack \(report.stack) is valid: \(report.resources) resources (\(counts)).")
        }
        return ExitCode.success
    }
}
