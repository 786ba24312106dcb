import Foundation
import Plan
import Stack

/// The state during an apply: every change is written to disk before the next step, so that a run killed at any
/// instant leaves a state that tells the next run exactly what exists (created), what may exist (pending, with its
/// token), and what failed half-way (tainted).
///
/// Writes never overlap: while one is on its way (to a bucket, say), the changes made meanwhile wait and go out
/// together in the next, and no change returns before a write that holds it has succeeded.
public actor Journal {
    public private(set) var state: State
    let store: any StateBackend
    /// Bumped on every change, so that evaluators know when their view is stale.
    public private(set) var generation = 0
    /// The newest generation known written.
    private var written = 0
    private var writing = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(state: State, store: any StateBackend) {
        self.state = state
        self.store = store
    }

    private func save() async throws {
        state.serial += 1
        generation += 1
        let wanted = generation
        while written < wanted {
            guard !writing else {
                await withCheckedContinuation { waiting.append($0) }
                continue
            }
            writing = true
            let snapshot = state, snapshotGeneration = generation
            defer {
                writing = false
                for waiter in waiting { waiter.resume() }
                waiting = []
            }
            try await store.write(snapshot)
            written = max(written, snapshotGeneration)
        }
    }

    /// Records the intent to create: the address, its type and the idempotency token, before the call is made.
    public func intend(_ resource: DesiredResource, token: String, now: Date = Date()) async throws {
        // an interrupted upload's progress outlives a second intent: the next attempt continues it
        state.record(ResourceState(address: resource.address, type: resource.type, id: nil, attributes: [:],
                                   sensitive: resource.sensitive.sorted(), dependencies: resource.dependencies, status: .pending,
                                   intent: .init(token: token, operation: "create", startedAt: ISO8601DateFormatter().string(from: now)),
                                   progress: state.resource(resource.address)?.progress))
        try await save()
    }

    /// Records the cloud id of a resource still being created.
    public func identify(_ address: ResourceAddress, id: String) async throws {
        guard var resource = state.resource(address) else { return }
        resource.id = id
        state.record(resource)
        try await save()
    }

    /// Records a resource as created or updated, with its properties and computed attributes.
    public func created(_ resource: DesiredResource, computed: [String: Value]) async throws {
        var attributes = resource.properties
        for (name, value) in computed { attributes[name] = value }
        // the handle a handler recorded wins over the computed `id` attribute (an IAM role's id is its RoleId,
        // but deploy finds it by name)
        let id = state.resource(resource.address)?.id ?? computed["id"]?.stringValue
        state.record(ResourceState(address: resource.address, type: resource.type, id: id, attributes: attributes,
                                   sensitive: resource.sensitive.sorted(), dependencies: resource.dependencies))
        try await save()
    }

    /// Marks a resource whose create or update failed part-way; it is replaced on the next apply.
    public func taint(_ address: ResourceAddress) async throws {
        guard var resource = state.resource(address) else { return }
        if resource.status == .pending, resource.id == nil { return }  // nothing known to exist: stays pending
        resource.status = .tainted
        resource.intent = nil
        state.record(resource)
        try await save()
    }

    /// Records how far a long create or update has come (nil clears it), before the work goes on.
    public func progress(_ address: ResourceAddress, _ progress: Value?) async throws {
        guard var resource = state.resource(address) else { return }
        resource.progress = progress
        state.record(resource)
        try await save()
    }

    public func removed(_ address: ResourceAddress) async throws {
        state.remove(address)
        try await save()
    }

    public func setOutputs(_ outputs: [String: Value]) async throws {
        state.outputs = outputs
        try await save()
    }

    /// Computed attributes of every resource that exists as recorded, for evaluating what depends on them.
    public func knownAttributes() -> (generation: Int, values: [ResourceAddress: [String: Value]]) {
        var values: [ResourceAddress: [String: Value]] = [:]
        for resource in state.resources where resource.status == .created { values[resource.address] = resource.attributes }
        return (generation, values)
    }
}
