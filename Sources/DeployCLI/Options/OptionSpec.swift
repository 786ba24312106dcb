/// How an option is written and described: its name, the name of its value, its help line, its short form.
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
