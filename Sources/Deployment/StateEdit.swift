import Plan
import Stack

/// The state-editing commands' workflow (`state rm`, `taint`, `untaint`): the state read under its lock, changed,
/// and written back atomically with a new serial only when something changed.
public enum StateEdit {
    /// Reads the state of `configuration` from `store` under the lock for `operation`, lets `change` edit it, and
    /// writes it back when `change` returns true. `warning` hears of a stale lock taken over.
    public static func mutate(_ configuration: StackConfiguration, store: StateStore, operation: String, warning: (String) -> Void,
                              _ change: (inout State) throws -> Bool) throws {
        let lock = try StateLock.acquire(statePath: store.path, operation: operation)
        defer { lock.release() }
        if let message = lock.warning { warning(message) }
        var state = try read(configuration, store: store)
        guard try change(&state) else { return }
        state.serial += 1
        try store.write(state)
    }

    /// The recorded state, or an error saying that nothing is recorded yet.
    public static func read(_ configuration: StackConfiguration, store: StateStore) throws -> State {
        guard let state = try store.load(for: configuration.stack) else {
            throw NotConfirmed(description: "stack \(configuration.stack.name) has no state yet: nothing is recorded")
        }
        return state
    }
}
