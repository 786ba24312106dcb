import AWS
import Bundling
import Plan
import Provision
import Stack
import Diagnostics
import Foundation
import TextSafety

/// The `deploy` command line: parses, dispatches to a command, and turns errors into messages and exit codes
/// (0 success, 1 failure, 2 bad usage or bad input).
public enum DeployCLI {
    public static let version = "0.1.0"

    static let commands: [any Command.Type] = [
        ValidateCommand.self, PlanCommand.self, ApplyCommand.self, DestroyCommand.self, BootstrapCommand.self, OutputCommand.self,
        StateCommand.self, ImportCommand.self, TaintCommand.self, UntaintCommand.self, BundleCommand.self,
        PermissionsCommand.self, GraphCommand.self, UnlockCommand.self, BreakevenCommand.self, WhoamiCommand.self, CheckCommand.self,
        VersionCommand.self,
    ]

    /// Runs one invocation; returns the process exit code.
    public static func main(arguments: [String], environment: [String: String]) async -> Int32 {
        await main(arguments: arguments, environment: environment, console: .standard(environment: environment))
    }

    static func main(arguments: [String], environment: [String: String], console: Console) async -> Int32 {
        // with --detailed-exitcode, 2 means "there are changes", so every error is 1, as Terraform does
        let errorCode = { (code: Int32) in arguments.contains("--detailed-exitcode") ? ExitCode.failure : code }
        let errors = ErrorOutput(json: wantsJSON(arguments), console: console)
        do {
            if arguments.first == "--version" {
                console.out("deploy \(version)")
                return ExitCode.success
            }
            guard let first = commandWord(arguments) else {
                guard arguments.contains("--help") || arguments.contains("-h") else {
                    guard arguments.isEmpty else {
                        _ = try ArgumentParser.scan(arguments, specs: GlobalOptions.specs, command: nil)
                        throw UsageError(message: "missing command", command: nil)
                    }
                    // as git and terraform do: no command at all is a mistake, answered with the usage on standard error
                    console.err(Help.root(commands))
                    return ExitCode.usage
                }
                console.out(Help.root(commands))
                return ExitCode.success
            }
            if first == "help" {
                let words = arguments.drop { $0 != "help" }.dropFirst().filter { !$0.hasPrefix("-") }
                if words.count > 1 { throw UsageError(message: "unexpected argument '\(SafeText.quoted(words[1]))'; help takes one COMMAND", command: nil) }
                let topic = words.first
                guard let topic else {
                    console.out(Help.root(commands))
                    return ExitCode.success
                }
                guard let command = commands.first(where: { $0.name == topic }) else {
                    throw unknownCommand(topic)
                }
                console.out(Help.command(command))
                return ExitCode.success
            }
            guard let command = commands.first(where: { $0.name == first }) else { throw unknownCommand(first) }
            var rest = arguments
            rest.remove(at: rest.firstIndex(of: first) ?? 0)
            return try await command.invoke(rest, environment: environment, console: console)
        } catch {
            let report = UserFacingReport(error)
            errors.report(report)
            return errorCode(report.exitCode)
        }
    }

    /// Whether the invocation asks for `--output json`, read before parsing so that even a parsing error comes as JSON.
    static func wantsJSON(_ arguments: [String]) -> Bool {
        arguments.contains("--output=json") || zip(arguments, arguments.dropFirst()).contains { $0 == "--output" && $1 == "json" }
    }

    /// The first positional word, skipping global options and their values.
    static func commandWord(_ arguments: [String]) -> String? {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { return index + 1 < arguments.count ? arguments[index + 1] : nil }
            if !argument.hasPrefix("-") { return argument }
            let name = argument.drop { $0 == "-" }
            if !name.contains("="), GlobalOptions.specs.contains(where: { $0.name == name && $0.valueName != nil }) {
                index += 1
            }
            index += 1
        }
        return nil
    }

    private static func unknownCommand(_ name: String) -> UsageError {
        var message = "unknown command '\(name)'"
        if let suggestion = Suggestion.closest(to: name, among: commands.map { $0.name }) {
            message += "; did you mean '\(suggestion)'?"
        }
        return UsageError(message: message, command: nil)
    }
}

/// The process exit codes.
enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}
