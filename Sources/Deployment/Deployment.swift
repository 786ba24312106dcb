import AWS
import Foundation
import Plan
import Provision
import Stack

/// The workflow of plan, apply, destroy, check and import over one loaded stack, every gate included: the CLI
/// parses and renders around it. What it touches comes in as parameters (the handlers, the account, the clock,
/// the observer, the stop flag), so that each gate runs in a test without an endpoint.
public struct Deployment: Sendable {
    public let loaded: LoadedStack
    public let handlers: HandlerRegistry
    public let account: any Account
    public let observer: any DeploymentObserver
    public let stop: StopFlag
    /// How many resources to work on at once.
    public let parallelism: Int
    public let now: @Sendable () -> Date

    public init(_ loaded: LoadedStack, account: any Account, observer: any DeploymentObserver, handlers: HandlerRegistry = .standard,
                stop: StopFlag = StopFlag(), parallelism: Int = 8, now: @escaping @Sendable () -> Date = Date.init) {
        self.loaded = loaded
        self.handlers = handlers
        self.account = account
        self.observer = observer
        self.stop = stop
        self.parallelism = parallelism
        self.now = now
    }

    var stack: StackFile { loaded.stack }

    var identity: StackIdentity { StackIdentity(name: stack.name, account: stack.account, region: stack.region) }

    /// STS must name the stack's account before anything is written.
    func checkAccount() async throws {
        let identity = try await account.callerIdentity()
        guard identity.account == stack.account else {
            throw AccountMismatch(expected: stack.account, actual: identity.account, arn: identity.arn)
        }
    }

    /// Runs `body` holding the state lock for `operation`.
    func locked<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let lock = try await loaded.store.lock(operation: operation, timeout: loaded.source.lockTimeout, now: now)
        if let warning = lock.warning { observer.warning(warning) }
        // a run that no longer holds its lock (another took it, or it could not be renewed within its lease) starts
        // nothing more: what is running finishes, and the state write over the other run's fails rather than wins
        let stop = stop, observer = observer, location = loaded.store.location
        lock.onLost {
            stop.stop()
            observer.warning("the lock on \(location) was lost (taken by another run, or not renewed within its lease): launching nothing new")
        }
        do {
            let result = try await body()
            await lock.release()
            return result
        } catch {
            await lock.release()
            throw error
        }
    }

    /// What handlers work with. `emptyBuckets` and `force` are destroy's to give.
    func handlerContext(emptyBuckets: Bool = false, force: Bool = false) throws -> HandlerContext {
        HandlerContext(client: try account.client(), stack: identity, partition: stack.partition, emptyBuckets: emptyBuckets, force: force)
    }

    /// What the account holds of the resources `state` records, read through the handlers (one batched read a type).
    func read(_ state: State) async throws -> RefreshResult {
        try await Refresher(readers: [HandlerReader(context: try handlerContext(), handlers: handlers)]).refresh(state)
    }

    /// Refreshes `state` through the handlers, unless told not to or nothing is recorded, and plans against it,
    /// refining the loaded expansion.
    func plan(_ state: State, refresh: Bool) async throws -> (plan: Plan, expanded: ExpandedStack) {
        let refreshed = refresh && !state.resources.isEmpty ? try await read(state) : nil
        return try Planner(configuration: loaded.configuration, state: LoadedStack.recorded(state), refresh: refreshed,
                           stackDigest: loaded.digest, base: loaded.expanded).planned()
    }

    /// An executor over `expanded` and `state`, its progress sent to the observer.
    func executor(expanded: ExpandedStack, state: State, context: HandlerContext) -> Executor {
        let observer = observer
        observer.starting()
        return Executor(configuration: loaded.configuration, expanded: expanded, journal: Journal(state: state, store: loaded.store),
                        context: context, handlers: handlers, parallelism: parallelism, stop: stop, events: { observer.progress($0) })
    }
}
