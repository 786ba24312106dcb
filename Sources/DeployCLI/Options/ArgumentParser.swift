import Diagnostics
import Stack

/// Parses `--name value`, `--name=value`, flags and `-h`, anywhere among the positionals; `--` ends options.
enum ArgumentParser {
    /// The command line split up: each option as given (which spec, and its text; nil for a flag), and the rest.
    struct Scanned {
        var occurrences: [(spec: Int, text: String?)] = []
        var positionals: [String] = []
    }

    /// Fills `options` from `arguments`, each option through its binding in the order given, the positionals through
    /// `positionals`. A value that does not convert is reported after the whole line is read, and not at all when
    /// `--help` was asked for, which outranks it as it outranks every later check.
    static func parse<Options>(_ arguments: [String], bindings: [OptionBinding<Options>], into options: Options,
                               positionals: WritableKeyPath<Options, [String]>, command: String?) throws(UsageError) -> Options {
        let scanned = try scan(arguments, specs: bindings.map(\.spec), command: command)
        var options = options
        var failure: UsageError?
        for (spec, text) in scanned.occurrences {
            do {
                try bindings[spec].assign(&options, text)
            } catch {
                failure = failure ?? error
            }
        }
        options[keyPath: positionals] = scanned.positionals
        if let failure, !scanned.occurrences.contains(where: { bindings[$0.spec].spec.name == "help" }) {
            throw failure.pointing(at: command)
        }
        return options
    }

    /// Splits `arguments` by `specs`: an unknown option, a flag given a value, a value missing, or a value option
    /// given twice is a usage error.
    static func scan(_ arguments: [String], specs: [OptionSpec], command: String?) throws(UsageError) -> Scanned {
        var scanned = Scanned()
        var given: Set<String> = []
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                scanned.positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            let (name, inlineValue) = split(argument)
            guard let found = specs.firstIndex(where: { $0.name == name || (name.count == 1 && $0.short == name.first) }) else {
                var message = "unknown option '\(argument.split(separator: "=").first ?? "")'"
                if let suggestion = Suggestion.closest(to: name, among: specs.map(\.name)) {
                    message += "; did you mean '--\(suggestion)'?"
                }
                throw UsageError(message: message, command: command)
            }
            let spec = specs[found]
            if spec.valueName == nil {
                guard inlineValue == nil else {
                    throw UsageError(message: "option '--\(spec.name)' takes no value", command: command)
                }
                scanned.occurrences.append((found, nil))
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
                // as swift-argument-parser does: an option in a value's place is a missing value, never taken as one
                // (`--out --no-refresh` would write a file named --no-refresh and refresh anyway)
                if value.hasPrefix("--") || specs.contains(where: { $0.short.map { "-\($0)" } == value }) {
                    throw UsageError(message: "option '--\(spec.name)' needs a value <\(spec.valueName ?? "value")>, not the option '\(value)' "
                                     + "(write --\(spec.name)=\(value) for a value that starts with dashes)", command: command)
                }
                index += 1
            }
            guard spec.repeatable || given.insert(spec.name).inserted else {
                throw UsageError(message: "option '--\(spec.name)' given more than once", command: command)
            }
            scanned.occurrences.append((found, value))
        }
        return scanned
    }

    private static func split(_ argument: String) -> (String, String?) {
        let body = argument.hasPrefix("--") ? argument.dropFirst(2) : argument.dropFirst()
        guard let equals = body.firstIndex(of: "=") else { return (String(body), nil) }
        return (String(body[..<equals]), String(body[body.index(after: equals)...]))
    }
}
