/// Help text, shaped like swift-argument-parser's.
enum Help {
    static func root(_ commands: [any Command.Type]) -> String {
        let width = (commands.map { $0.name.count }.max() ?? 0) + 4
        var lines = [
            "OVERVIEW: Stand up a private AI inference platform in your own AWS account.",
            "",
            "USAGE: deploy <command> [options]",
            "",
            "OPTIONS:",
        ]
        lines += optionLines(GlobalOptions.specs + [.flag("version", "Show the version.")])
        lines += ["", "COMMANDS:"]
        lines += commands.map { "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + $0.abstract }
        lines += ["", "  See 'deploy help <command>' for detailed help.",
                  "", "EXIT CODES: 0 success, 1 failure, 2 bad usage or bad input."]
        return lines.joined(separator: "\n")
    }

    static func command(_ command: any Command.Type) -> String {
        let positionals = command.positionals.map { " <\($0)>" }.joined()
        var lines = ["OVERVIEW: \(command.abstract)"]
        if !command.discussion.isEmpty { lines += ["", command.discussion] }
        lines += ["", "USAGE: deploy \(command.name)\(positionals) [options]", "", "OPTIONS:"]
        lines += optionLines(command.optionSpecs + GlobalOptions.specs(for: command))
        return lines.joined(separator: "\n")
    }

    private static func optionLines(_ specs: [OptionSpec]) -> [String] {
        let width = (specs.map { $0.usage.count }.max() ?? 0) + 2
        return specs.map { "  " + $0.usage.padding(toLength: width, withPad: " ", startingAt: 0) + $0.help }
    }
}
