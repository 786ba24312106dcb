import Foundation
import Plan
import Provision
import Stack
import Synchronization
import Testing

/// The journal in front of a slow backend (a bucket, say): its writes never overlap, and no change returns before a
/// write that holds it has succeeded.
@Suite("journal")
struct JournalTests {
    /// A backend whose every write takes a while, recording how many were in flight at once and what each wrote.
    final class SlowBackend: StateBackend {
        let inFlight = Mutex(0)
        let mostInFlight = Mutex(0)
        let written = Mutex<[State]>([])
        let failing = Mutex(false)

        var location: String { "memory://slow" }
        func load() async throws -> State? { written.withLock { $0.last } }
        func lock(operation: String, now: Date) async throws -> any StateLease { fatalError("not used") }

        func write(_ state: State) async throws {
            let now = inFlight.withLock { count -> Int in
                count += 1
                return count
            }
            mostInFlight.withLock { $0 = max($0, now) }
            try await Task.sleep(nanoseconds: 3_000_000)
            inFlight.withLock { $0 -= 1 }
            if failing.withLock({ $0 }) { throw StateError(.conflict, path: location, "refused") }
            written.withLock { $0.append(state) }
        }
    }

    static func state(resources count: Int) -> State {
        var state = State(stack: "mini", account: "123456789012", region: "eu-west-1")
        for index in 0..<count {
            state.record(ResourceState(address: ResourceAddress(phase: "network", name: "subnet", index: index), type: "aws.ec2.subnet",
                                       id: "subnet-\(index)", attributes: [:]))
        }
        return state
    }

    @Test("concurrent changes: one write at a time, each change in a written state when it returns, writes coalesced")
    func serialisedAndDurable() async throws {
        let backend = SlowBackend()
        let journal = Journal(state: Self.state(resources: 40), store: backend)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    let address = ResourceAddress(phase: "network", name: "subnet", index: index)
                    try await journal.removed(address)
                    let last = try #require(backend.written.withLock { $0.last })
                    #expect(last.resource(address) == nil, "the removal of \(address) was written before it returned")
                }
            }
            try await group.waitForAll()
        }
        #expect(backend.mostInFlight.withLock { $0 } == 1)
        let writes = backend.written.withLock { $0 }
        #expect(writes.last?.resources.isEmpty == true)
        #expect(writes.count < 40, "changes made while a write was on its way went out together (\(writes.count) writes)")
        #expect(zip(writes, writes.dropFirst()).allSatisfy { $0.serial < $1.serial })
    }

    @Test("a write that fails fails the change that waited for it, and the next change writes again")
    func failedWrite() async throws {
        let backend = SlowBackend()
        let journal = Journal(state: Self.state(resources: 2), store: backend)
        backend.failing.withLock { $0 = true }
        await #expect(throws: StateError.self) { try await journal.removed(ResourceAddress(phase: "network", name: "subnet", index: 0)) }
        backend.failing.withLock { $0 = false }
        try await journal.removed(ResourceAddress(phase: "network", name: "subnet", index: 1))
        #expect(backend.written.withLock { $0.last?.resources.isEmpty } == true)
    }
}
