/// An option and the property it fills, as swift-argument-parser's `@Option` is: the parser finds the option by
/// its spec and stores every occurrence through the key path, converting the text on the way. An option that no
/// binding declares has no property to read, so reading it cannot compile.
struct OptionBinding<Options>: Sendable {
    var spec: OptionSpec
    /// Stores one occurrence: its text, or nil for a flag. A conversion that fails throws a usage error; the parser
    /// names the command in it.
    var assign: @Sendable (inout Options, String?) throws(UsageError) -> Void

    /// `--name <value>` into a `String?`.
    static func value(_ name: String, _ valueName: String, _ help: String,
                      _ property: WritableKeyPath<Options, String?> & Sendable) -> Self {
        OptionBinding(spec: .value(name, valueName, help)) { options, text in options[keyPath: property] = text }
    }

    /// `--name <value>` converted by `convert`, which throws the usage error that says what was expected.
    static func value<Value>(_ name: String, _ valueName: String, _ help: String, _ property: WritableKeyPath<Options, Value> & Sendable,
                             _ convert: @escaping @Sendable (String) throws(UsageError) -> Value) -> Self {
        OptionBinding(spec: .value(name, valueName, help)) { options, text throws(UsageError) in
            if let text { options[keyPath: property] = try convert(text) }
        }
    }

    /// `--name <value>`, as many times as wanted, in the order given.
    static func values(_ name: String, _ valueName: String, _ help: String,
                       _ property: WritableKeyPath<Options, [String]> & Sendable) -> Self {
        OptionBinding(spec: .values(name, valueName, help)) { options, text in
            if let text { options[keyPath: property].append(text) }
        }
    }

    /// `--name`, which sets a `Bool`.
    static func flag(_ name: String, short: Character? = nil, _ help: String, _ property: WritableKeyPath<Options, Bool> & Sendable) -> Self {
        OptionBinding(spec: .flag(name, short: short, help)) { options, _ in options[keyPath: property] = true }
    }

    /// The same option filling a group (`StackSelection`, `GlobalOptions`) inside larger options.
    func embedded<Outer>(in group: WritableKeyPath<Outer, Options> & Sendable) -> OptionBinding<Outer> {
        let assign = self.assign
        return OptionBinding<Outer>(spec: spec) { outer, text throws(UsageError) in try assign(&outer[keyPath: group], text) }
    }
}

extension OptionBinding {
    /// A closed set of values, by raw value; anything else is refused with `message(text)`.
    static func choice<Choice: RawRepresentable<String>>(_ name: String, _ valueName: String, _ help: String,
                                                           _ property: WritableKeyPath<Options, Choice?> & Sendable,
                                                           refusing message: @escaping @Sendable (String) -> String) -> Self {
        value(name, valueName, help, property) { text throws(UsageError) in
            guard let choice = Choice(rawValue: text) else { throw UsageError(message: message(text)) }
            return choice
        }
    }
}
