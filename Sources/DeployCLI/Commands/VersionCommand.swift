/// `deploy version`: the version of this binary.
struct VersionCommand: Command {
    static let name = "version"
    static let abstract = "Print the version of deploy."
    static let outputFormats: [OutputFormat] = [.text, .json]

    static func run(_ options: NoOptions, _ context: CommandContext) async throws -> Int32 {
        switch context.options.output {
        case .json: context.console.out(try JSONText.encode(["version": DeployCLI.version]))
        case .text: context.console.out("deploy \(DeployCLI.version)")
        }
        return ExitCode.success
    }
}
