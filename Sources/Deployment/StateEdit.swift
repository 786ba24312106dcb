import Plan
import Stack

/// The state-editing commands' workflow (`state rm`, `taint`, `untaint`): the state read under its lock, changed,
/// and written back atomically with a new serial only when something changed.
public enum StateEdit {
    /// Reads the state of `configuration` from `store` under the lock for `operation`, lets `change` edit it, and
    /// writes it back when `change` returns true. `warning` hears of a stale lock taken over; `critical` wraps the
    /// read, the change and the write once the lock is held (the CLI keeps an interrupt from cutting them short).
    public static func mutate(_ configuration: StackConfiguration, store: any StateBackend, operation: String, lockTimeout: Double = 0,
                              warning: (String) -> Void, critical: (_ body: () async throws -> Void) async throws -> Void = { try await $0() },
                              _ change: (inout State) throws -> Bool) async throws {
        let lock = try await store.lock(operation: operation, timeout: lockTimeout)
        do {
            if let message = lock.warning { warning(message) }
            try await withoutActuallyEscaping(change) { change in
                try await critical {
                    var state = try await read(configuration, store: store)
                    if try change(&state) {
                        state.serial += 1
                        try await store.write(state)
                    }
                }
            }
        } catch {
            await lock.release()
            throw error
        }
        await lock.release()
    }

    /// The recorded state, or an error saying that nothing is recorded yet.
    public static func read(_ configuration: StackConfiguration, store: any StateBackend) async throws -> State {
        guard let state = try await store.load(for: configuration.stack) else {
            throw NotConfirmed(description: "stack \(configuration.stack.name) has no state yet: nothing is recorded")
        }
        return state
    }
}
