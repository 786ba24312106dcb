import Diagnostics
import Stack

/// Declares an option a command accepts.
struct OptionSpec: Sendable {
    var name: String
    var valueName: String?
    var help: String
    var short: Character?
    /// Whether the option may be given more than once (`--model a --model b`).
    var repeatable = false

    /// `--name <value>`
    static func value(_ name: String, _ valueName: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help)
    }

    /// `--name <value>`, as many times as wanted.
    static func values(_ name: String, _ valueName: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, repeatable: true)
    }

    /// `--name`
    static func flag(_ name: String, short: Character? = nil, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help, short: short)
    }

    var usage: String {
        let long = valueName.map { "--\(name) <\($0)>" } ?? "--\(name)"
        return short.map { "-\($0), \(long)" } ?? long
    }
}

/// Options and positional arguments after parsing.
struct ParsedArguments: Sendable {
    var values: [String: String] = [:]
    var repeated: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []

    func value(_ name: String) -> String? { values[name] }
    /// Every value of a repeatable option, in the order given.
    func values(_ name: String) -> [String] { repeated[name] ?? [] }
    func flag(_ name: String) -> Bool { flags.contains(name) }
}

/// A mistake on the command line; exit code 2, with a pointer to the command's help.
struct UsageError: UserFacingError {
    var message: String
    /// The command whose usage to point at, if any.
    var command: String?

    var description: String { message }
    var failureKind: FailureKind { .usage }
    var hint: String? { "See '\(command.map { "deploy \($0) --help" } ?? "deploy --help")'." }
}

/// Parses `--name value`, `--name=value`, flags and `-h`, anywhere among the positionals; `--` ends options.
enum ArgumentParser {
    static func parse(_ arguments: [String], options: [OptionSpec], command: String?) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            let (name, inlineValue) = split(argument)
            guard let spec = options.first(where: { $0.name == name || (name.count == 1 && $0.short == name.first) }) else {
                var message = "unknown option '\(argument.split(separator: "=").first ?? "")'"
                if let suggestion = Suggestion.closest(to: name, among: options.map(\.name)) {
                    message += "; did you mean '--\(suggestion)'?"
                }
                throw UsageError(message: message, command: command)
            }
            if spec.valueName == nil {
                guard inlineValue == nil else {
                    throw UsageError(message: "option '--\(spec.name)' takes no value", command: command)
                }
                parsed.flags.insert(spec.name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else {
                    throw UsageError(message: "option '--\(spec.name)' needs a value <\(spec.valueName ?? "value")>",
                                     command: command)
                }
                value = arguments[index]
                index += 1
            }
            if spec.repeatable {
                parsed.repeated[spec.name, default: []].append(value)
                continue
            }
            guard parsed.values[spec.name] == nil else {
                throw UsageError(message: "option '--\(spec.name)' given more than once", command: command)
            }
            parsed.values[spec.name] = value
        }
        return parsed
    }

    private static func split(_ argument: String) -> (String, String?) {
        let body = argument.hasPrefix("--") ? argument.dropFirst(2) : argument.dropFirst()
        guard let equals = body.firstIndex(of: "=") else { return (String(body), nil) }
        return (String(body[..<equals]), String(body[body.index(after: equals)...]))
    }
}
