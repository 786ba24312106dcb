import AWS
import Foundation
import Plan
import Provision
import Stack

/// What plan, apply and destroy share: the checked stack, its state store and lock, and a plan against the
/// state refreshed through the handlers.
struct StackRun {
    var configuration: StackConfiguration
    /// The stack expanded with every computed attribute unknown, made once when it is opened: what the compliance
    /// rules read.
    var expanded: ExpandedStack
    var store: StateStore
    var lock: StateLock?

    /// Loads and checks the stack; any error in it stops here, before the state directory or the lock is touched.
    static func open(_ options: StackOptions, console: Console? = nil) throws -> StackRun {
        let configuration = try options.loadConfiguration(warnings: console)
        var checker = Expander(configuration)
        return StackRun(configuration: configuration, expanded: try checker.expand(), store: options.stateStore(for: configuration))
    }

    /// Takes the state lock for `operation`, warning when a stale one was taken over.
    mutating func lock(_ operation: String, _ console: Console) throws {
        let lock = try StateLock.acquire(statePath: store.path, operation: operation)
        if let warning = lock.warning { console.err("warning: \(warning)") }
        self.lock = lock
    }

    func release() { lock?.release() }

    /// The recorded state, or a new empty one.
    func state() throws -> State {
        let stack = configuration.stack
        return try store.load(for: stack) ?? State(stack: stack.name, account: stack.account, region: stack.region)
    }

    /// The plan against `state`, refreshed unless `refresh` is off or nothing is recorded.
    func plan(_ state: State, refresh: Bool, readers: () throws -> [any ResourceReader]) async throws -> Plan {
        try await planned(state, refresh: refresh, readers: readers).plan
    }

    /// The plan, and the stack as it was expanded to make it, which apply's executor starts from.
    func planned(_ state: State, refresh: Bool,
                 readers: () throws -> [any ResourceReader]) async throws -> (plan: Plan, expanded: ExpandedStack) {
        var refreshed: RefreshResult?
        if refresh, !state.resources.isEmpty {
            refreshed = try await Refresher(readers: try readers()).refresh(state)
        }
        let recorded: State? = state.resources.isEmpty && state.serial == 0 ? nil : state
        return try Planner(configuration: configuration, state: recorded, refresh: refreshed,
                           stackDigest: StackDigest.compute(configuration)).planned()
    }
}
