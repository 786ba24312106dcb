/// Everything a command runs with.
struct CommandContext: Sendable {
    var options: GlobalOptions
    var arguments: ParsedArguments
    var environment: [String: String]
    var console: Console
}

/// One `deploy` subcommand.
protocol Command: Sendable {
    static var name: String { get }
    static var abstract: String { get }
    /// Extra lines of help after the abstract.
    static var discussion: String { get }
    static var options: [OptionSpec] { get }
    /// Names of positional arguments, for the usage line.
    static var positionals: [String] { get }
    /// Whether the command talks to AWS, and so takes --profile, --region, --endpoint-url, --ca-bundle and --debug.
    static var usesAWS: Bool { get }
    /// The --output formats the command honours; with only text, it takes no --output at all.
    static var outputFormats: [OutputFormat] { get }

    /// Checks the arguments before anything touches the network or disk.
    static func validate(_ arguments: ParsedArguments) throws(UsageError)

    static func run(_ context: CommandContext) async throws -> Int32
}

extension Command {
    static var discussion: String { "" }
    static var options: [OptionSpec] { [] }
    static var positionals: [String] { [] }
    static var usesAWS: Bool { false }
    static var outputFormats: [OutputFormat] { [.text] }

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else {
            throw UsageError(message: "unexpected argument '\(arguments.positionals[0])'", command: name)
        }
    }
}
