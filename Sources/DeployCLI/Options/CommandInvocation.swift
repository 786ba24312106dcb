/// One command line for a command: the shared options it takes and its own, filled in one pass.
struct CommandInvocation<Options: CommandOptions>: Sendable {
    var global = GlobalOptions()
    var options = Options()
}

extension Command {
    /// The bindings of every option the command takes: the shared ones first, then its own.
    static var invocationBindings: [OptionBinding<CommandInvocation<Options>>] {
        GlobalOptions.bindings(for: self).map { $0.embedded(in: \.global) } + Options.bindings.map { $0.embedded(in: \.options) }
    }

    /// The shared and own options in `arguments` (the command word taken out), not yet validated.
    static func parse(_ arguments: [String]) throws(UsageError) -> CommandInvocation<Options> {
        try ArgumentParser.parse(arguments, bindings: invocationBindings, into: CommandInvocation<Options>(),
                                 positionals: \.options.positionals, command: name)
    }

    /// Parses `arguments` (the command word taken out), answers --help, validates, and runs.
    static func invoke(_ arguments: [String], environment: [String: String], console: Console) async throws -> Int32 {
        var invocation = try parse(arguments)
        if invocation.global.help {
            console.out(Help.command(self))
            return ExitCode.success
        }
        do {
            try invocation.options.validate()
        } catch {
            throw error.pointing(at: name)
        }
        return try await run(invocation.options, CommandContext(options: invocation.global, environment: environment, console: console))
    }
}
