/// Everything a command runs with besides its own options.
struct CommandContext: Sendable {
    var options: GlobalOptions
    var environment: [String: String]
    var console: Console
}

/// One `deploy` subcommand.
protocol Command: Sendable {
    /// The command's own options, filled by the parser and checked before `run`.
    associatedtype Options: CommandOptions

    static var name: String { get }
    static var abstract: String { get }
    /// Extra lines of help after the abstract.
    static var discussion: String { get }
    /// Names of positional arguments, for the usage line.
    static var positionals: [String] { get }
    /// Whether the command talks to AWS, and so takes --profile, --region, --endpoint-url, --ca-bundle and --debug.
    static var usesAWS: Bool { get }
    /// The --output formats the command honours; with only text, it takes no --output at all.
    static var outputFormats: [OutputFormat] { get }

    static func run(_ options: Options, _ context: CommandContext) async throws -> Int32
}

extension Command {
    static var discussion: String { "" }
    static var positionals: [String] { [] }
    static var usesAWS: Bool { false }
    static var outputFormats: [OutputFormat] { [.text] }

    /// The command's own options, as help lists them.
    static var optionSpecs: [OptionSpec] { Options.bindings.map(\.spec) }
}
