import Foundation
import Stack
import Synchronization

/// A flag that stops a run gently: launch nothing new, let what runs finish. Set by `stop()`, or by SIGINT/SIGTERM
/// through `StopFlag.signalled`, which a signal handler may store to (a lock-free atomic, safe there).
public final class StopFlag: Sendable {
    private let stopped = LockedFlag(false)
    public static let signalled = Atomic<Bool>(false)

    public init() {}

    public func stop() { stopped.store(true) }
    public var isStopped: Bool { stopped.load() || Self.signalled.load(ordering: .relaxed) }
}

/// A boolean behind a lock.
final class LockedFlag: @unchecked Sendable {
    // @unchecked: every access to `value` goes through `lock`
    private let lock = NSLock()
    private var value: Bool

    init(_ value: Bool) { self.value = value }

    func load() -> Bool { lock.withLock { value } }
    func store(_ newValue: Bool) { lock.withLock { value = newValue } }
}

/// Walks a dependency graph with bounded parallelism: a node starts once everything it depends on has succeeded;
/// when a node fails, everything that depends on it is skipped while independent branches go on.
struct GraphWalker {
    enum Outcome: Sendable { case succeeded, failed, skipped(because: ResourceAddress), notStarted }

    var nodes: [ResourceAddress]
    /// Dependencies among `nodes` (edges to nodes outside the set are ignored).
    var dependencies: [ResourceAddress: [ResourceAddress]]
    var parallelism: Int
    var stop: StopFlag

    func walk(_ run: @escaping @Sendable (ResourceAddress) async -> Bool) async -> [ResourceAddress: Outcome] {
        let members = Set(nodes)
        var remaining: [ResourceAddress: Int] = [:]
        var dependants: [ResourceAddress: [ResourceAddress]] = [:]
        for node in nodes {
            let inside = Set(dependencies[node] ?? []).intersection(members).subtracting([node])
            remaining[node] = inside.count
            for dependency in inside { dependants[dependency, default: []].append(node) }
        }
        var ready = nodes.filter { remaining[$0] == 0 }
        var outcomes: [ResourceAddress: Outcome] = [:]
        await withTaskGroup(of: (ResourceAddress, Bool).self) { group in
            var running = 0
            while true {
                while running < max(1, parallelism), !ready.isEmpty, !stop.isStopped {
                    let node = ready.removeFirst()
                    running += 1
                    group.addTask { (node, await run(node)) }
                }
                guard running > 0, let (node, succeeded) = await group.next() else { break }
                running -= 1
                outcomes[node] = succeeded ? .succeeded : .failed
                if succeeded {
                    for dependant in dependants[node] ?? [] {
                        remaining[dependant]! -= 1
                        if remaining[dependant] == 0 { ready.append(dependant) }
                    }
                } else {
                    var queue = dependants[node] ?? []
                    while let next = queue.popLast() {
                        guard outcomes[next] == nil else { continue }
                        outcomes[next] = .skipped(because: node)
                        queue += dependants[next] ?? []
                    }
                }
            }
        }
        for node in nodes where outcomes[node] == nil { outcomes[node] = .notStarted }
        return outcomes
    }
}
