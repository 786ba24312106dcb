/// The options of one command: a struct whose properties the parser fills through its `bindings`, then checks
/// with `validate()` before the command runs.
protocol CommandOptions: Sendable {
    init()
    /// Every option the command takes, each bound to the property it fills; help lists them in this order.
    static var bindings: [OptionBinding<Self>] { get }
    /// The words that are not options, in the order given.
    var positionals: [String] { get set }
    /// Checks the options together, before anything touches the network or disk. A usage error without a command
    /// is pointed at the command being run.
    mutating func validate() throws(UsageError)
}

extension CommandOptions {
    mutating func validate() throws(UsageError) {
        try noPositionals()
    }

    /// Refuses any positional argument.
    func noPositionals() throws(UsageError) {
        guard positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(positionals[0])'") }
    }
}

/// The options of a command that takes none of its own.
struct NoOptions: CommandOptions {
    var positionals: [String] = []
    static let bindings: [OptionBinding<Self>] = []
}
