import Deployment
import Plan
import Stack
import TextSafety

/// What the state-editing commands share: the stack's state under its lock, and the addresses they name.
enum StateEditing {
    /// Loads the state under the lock, lets `change` edit it, and writes it back (atomically, with a new serial)
    /// only when `change` returns true.
    static func mutate(_ selection: StackSelection, _ context: CommandContext, command: String,
                       _ change: (inout State) throws -> Bool) async throws {
        let options = try selection.required(command: command)
        let configuration = try options.loadConfiguration()
        try await StateEdit.mutate(configuration, store: options.stateBackend(for: configuration, context), operation: command,
                                   lockTimeout: options.lockTimeout, warning: { context.console.err("warning: \($0)") },
                                   critical: { body in try await SignalTrap.deferring(body) }, change)
    }

    /// The state, read without the lock (for commands that only look).
    static func read(_ selection: StackSelection, _ context: CommandContext, command: String) async throws -> (StackConfiguration, State) {
        let options = try selection.required(command: command)
        let configuration = try options.loadConfiguration()
        return (configuration, try await StateEdit.read(configuration, store: options.stateBackend(for: configuration, context)))
    }

    /// `text` as a resource address, or a usage error that says what one looks like.
    static func address(_ text: String, command: String?) throws(UsageError) -> ResourceAddress {
        guard let address = ResourceAddress(text) else {
            throw UsageError(message: "'\(SafeText.quoted(text))' is not a resource address like network.vpc or network.private_subnet[0]",
                             command: command)
        }
        return address
    }

    /// The recorded resource at `address`, or an error naming the closest recorded one.
    static func recorded(_ address: ResourceAddress, in state: State) throws -> ResourceState {
        guard let resource = state.resource(address) else {
            throw NotConfirmed(description: Suggestion.message("\(address) is not in the state", for: address.description,
                                                                among: state.resources.map(\.address.description)))
        }
        return resource
    }
}
