import AWS
import Foundation
import Plan
import Stack

/// Carries out a plan: removals first (dependants before what they depend on), then each phase in order, its graph
/// walked with bounded parallelism. Every step is journaled; a failed resource is tainted and its dependants skipped
/// while independent branches go on; a stop request launches nothing new and lets running calls finish.
public struct Executor: Sendable {
    public let configuration: StackConfiguration
    /// The stack as the plan expanded it, refined as resources are created: never expanded whole again.
    public let expanded: ExpandedStack
    public let journal: Journal
    public let context: HandlerContext
    public let handlers: HandlerRegistry
    public let parallelism: Int
    public let stop: StopFlag
    public let events: @Sendable (ProgressEvent) -> Void

    public init(configuration: StackConfiguration, expanded: ExpandedStack, journal: Journal, context: HandlerContext,
                handlers: HandlerRegistry = .standard, parallelism: Int = 8,
                stop: StopFlag = StopFlag(), events: @escaping @Sendable (ProgressEvent) -> Void = { _ in }) {
        self.configuration = configuration
        self.expanded = expanded
        self.journal = journal
        self.context = context
        self.handlers = handlers
        self.parallelism = parallelism
        self.stop = stop
        self.events = events
    }

    /// Applies `plan`, which was made against the journal's current state.
    public func apply(_ plan: Plan) async throws -> ExecutionReport {
        var report = ExecutionReport()
        let state = await journal.state
        let removals = plan.actions.filter { action in
            action.kind == .delete || (action.kind == .replace && state.resource(action.address) != nil)
        }.map(\.address)
        // a replacement or delete that would be refused (a load balancer's deletion protection) stops the apply before
        // anything is touched, as it stops a destroy
        let blockers = try await deletionBlockers(removals.compactMap { state.resource($0) })
        guard blockers.isEmpty else { throw DestroyRefused(blockers: blockers, verb: "apply") }
        let removal = await remove(removals, state: state, report: &report)
        // the old half of a replacement is reported as part of the replacement, not as a destroy
        let replacing = Set(plan.actions.filter { $0.kind == .replace }.map(\.address))
        report.deleted.removeAll { replacing.contains($0) }
        guard removal else { return report }
        let view = DesiredView(configuration: configuration, expanded: expanded)
        var blocked: Set<ResourceAddress> = Set(report.failed.map(\.address))
        for phase in Phase.allCases {
            let actions = plan.actions(in: phase).filter { [.create, .update, .replace].contains($0.kind) }
            guard !actions.isEmpty else { continue }
            let kinds = Dictionary(uniqueKeysWithValues: actions.map { ($0.address, $0.kind) })
            let planned = Dictionary(uniqueKeysWithValues: actions.map { ($0.address, Set($0.changes.map(\.name))) })
            var runnable: [PlannedAction] = []
            for action in actions {
                if let cause = action.dependencies.first(where: blocked.contains) {
                    events(.skipped(action.address, because: cause))
                    report.skipped.append(action.address)
                    blocked.insert(action.address)
                } else {
                    runnable.append(action)
                }
            }
            let walker = GraphWalker(nodes: runnable.map(\.address),
                                     dependencies: Dictionary(uniqueKeysWithValues: runnable.map { ($0.address, $0.dependencies) }),
                                     parallelism: parallelism, stop: stop)
            let outcomes = await walker.walk { address in
                await self.run(address, kind: kinds[address] ?? .create, planned: planned[address] ?? [], view: view)
            }
            for action in runnable {
                switch outcomes[action.address] {
                case .succeeded:
                    switch action.kind {
                    case .create: report.created.append(action.address)
                    case .update: report.updated.append(action.address)
                    default: report.replaced.append(action.address)
                    }
                case .failed:
                    blocked.insert(action.address)
                    report.failed.append((action.address, await failure(action.address)))
                case .skipped(let cause):
                    events(.skipped(action.address, because: cause))
                    blocked.insert(action.address)
                    report.skipped.append(action.address)
                case .notStarted, nil:
                    blocked.insert(action.address)
                    report.interrupted = true
                }
            }
            let updated = runnable.filter { action in
                if action.kind == .update, case .succeeded? = outcomes[action.address] { return true }
                return false
            }
            for (address, message) in await unmadeChanges(updated.map(\.address), view: view) {
                report.updated.removeAll { $0 == address }
                report.failed.append((address, message))
                blocked.insert(address)
                events(.failed(address, step: .update, message: message))
            }
            if stop.isStopped { report.interrupted = true }
        }
        if report.succeeded {
            let (outputs, _) = try await view.outputs(journal: journal)
            try await journal.setOutputs(outputs.filter { !$0.value.containsUnknown })
        }
        return report
    }

    /// Deletes every resource in the state, except protected ones when `keepProtected`. Every resource is asked
    /// first whether its deletion would be refused; if any would, nothing is deleted and `DestroyRefused` says why.
    public func destroy(protected: Set<ResourceAddress>, keepProtected: Bool) async throws -> ExecutionReport {
        var report = ExecutionReport()
        let state = await journal.state
        let targets = state.resources.map(\.address).filter { !(keepProtected && protected.contains($0)) }
        let blockers = try await deletionBlockers(targets.compactMap { state.resource($0) })
        guard blockers.isEmpty else { throw DestroyRefused(blockers: blockers) }
        report.kept = state.resources.map(\.address).filter { keepProtected && protected.contains($0) }
        _ = await remove(targets, state: state, report: &report)
        if report.succeeded { try await journal.setOutputs([:]) }
        return report
    }

    /// What would refuse deletion among `resources`, asked with bounded parallelism, in address order.
    private func deletionBlockers(_ resources: [ResourceState]) async throws -> [(address: ResourceAddress, reason: String)] {
        var found: [(address: ResourceAddress, reason: String)] = []
        let context = {
            var context = self.context
            context.deletingObjects = Set(resources.filter { $0.type == "aws.s3.object" }.compactMap(\.id))
            return context
        }()
        for batch in stride(from: 0, to: resources.count, by: parallelism).map({ Array(resources[$0..<min($0 + parallelism, resources.count)]) }) {
            try await withThrowingTaskGroup(of: (ResourceAddress, String?).self) { group in
                for resource in batch where resource.id != nil {
                    group.addTask {
                        let reason = try await RequestLabel.$current.withValue(resource.address.description) {
                            try await self.handlers.handler(for: resource.type).deletionBlocker(resource, context: context)
                        }
                        return (resource.address, reason)
                    }
                }
                for try await (address, reason) in group { if let reason { found.append((address, reason)) } }
            }
        }
        return found.sorted { $0.address < $1.address }
    }

    private actor Failures {
        var messages: [ResourceAddress: String] = [:]
        func record(_ address: ResourceAddress, _ message: String) { messages[address] = message }
    }

    private let failures = Failures()

    private func failure(_ address: ResourceAddress) async -> String {
        await failures.messages[address] ?? "failed"
    }

    /// Deletes `addresses`, each after everything recorded as depending on it. Returns whether all went.
    private func remove(_ addresses: [ResourceAddress], state: State, report: inout ExecutionReport) async -> Bool {
        guard !addresses.isEmpty else { return true }
        let members = Set(addresses)
        // a resource may be deleted once every resource that depends on it is gone
        var waitsFor: [ResourceAddress: [ResourceAddress]] = [:]
        for address in addresses {
            for dependency in state.resource(address)?.dependencies ?? [] where members.contains(dependency) {
                waitsFor[dependency, default: []].append(address)
            }
        }
        // later phases go first even where no recorded dependency says so
        for address in addresses {
            let order = Phase(rawValue: address.phase)?.order ?? 0
            waitsFor[address, default: []] += addresses.filter { (Phase(rawValue: $0.phase)?.order ?? 0) > order }
        }
        let walker = GraphWalker(nodes: addresses.sorted(by: >), dependencies: waitsFor, parallelism: parallelism, stop: stop)
        let outcomes = await walker.walk { address in
            guard let recorded = state.resource(address) else { return true }
            return await self.step(address, .destroy) {
                if recorded.id != nil { try await self.handlers.handler(for: recorded.type).delete(recorded, context: self.context) }
                try await self.journal.removed(address)
            }
        }
        var complete = true
        for address in addresses {
            switch outcomes[address] {
            case .succeeded: report.deleted.append(address)
            case .failed:
                complete = false
                report.failed.append((address, await failure(address)))
            case .skipped(let cause):
                complete = false
                events(.skipped(address, because: cause))
                report.skipped.append(address)
            case .notStarted, nil:
                complete = false
                report.interrupted = true
            }
        }
        return complete
    }

    /// Creates (or adopts), replaces or updates one resource.
    /// `planned`: the properties the plan found changed, against the live values when it refreshed (drift).
    private func run(_ address: ResourceAddress, kind: PlannedAction.Kind, planned: Set<String>, view: DesiredView) async -> Bool {
        return await step(address, kind == .update ? .update : .create) {
            guard let desired = try await view.resource(address, journal: self.journal) else {
                throw ProvisionError("\(address) is no longer declared")
            }
            if let unknown = desired.properties.first(where: { $0.value.containsUnknown }) {
                throw ProvisionError("\(address): '\(unknown.key)' is still unknown; what it depends on did not complete")
            }
            let handler = try handlers.handler(for: desired.type)
            let recorded = await self.journal.state.resource(address)
            let journal = self.journal
            let context = self.context.recording { id in try await journal.identify(address, id: id) }
                .tracking(recorded?.progress) { progress in try await journal.progress(address, progress) }
                .reporting { [events] message in events(.progress(address, message: message)) }
            if kind == .update, var current = recorded, current.status == .created {
                // an update's calls are computed from what the account holds now, never from the state's memory of it
                // (a policy attached outside deploy is detached only if the handler sees it)
                guard let live = try await handler.read([current], context: context).live[address] else {
                    throw ProvisionError("\(address) is no longer in the account; plan again to create it")
                }
                current.attributes.merge(live) { _, live in live }
                let changed = planned.union(desired.properties.keys.filter {
                    !AttributeComparison.equal(desired.properties[$0] ?? .null, current.attributes[$0], schema: desired.schema.attributes[$0])
                })
                let computed = try await handler.update(desired, recorded: current, changed: changed, context: context)
                try await journal.created(desired, computed: computed)
                return
            }
            if let recorded, recorded.status == .pending, let token = recorded.intent?.token,
               let found = try await handler.find(desired, token: token, context: context) {
                self.events(.adopted(address, id: found["id"]?.stringValue ?? "?"))
                try await journal.created(desired, computed: found)
                return
            }
            let token = recorded?.intent?.token ?? UUID().uuidString.lowercased()
            try await journal.intend(desired, token: token)
            try await journal.created(desired, computed: try await self.create(desired, token: token, handler: handler, context: context))
        }
    }

    /// Creates a resource. When an answer is lost on the way back, the create may have happened: rather than send it
    /// again (a second VPC), look for it by tag or name, adopt it if found, and only then try again.
    private func create(_ desired: DesiredResource, token: String, handler: any ResourceHandler,
                        context: HandlerContext) async throws -> [String: Value] {
        let attempts = context.client.configuration.retry.maxAttempts
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await RequestRetry.$mayRepeat.withValue(false) {
                    try await handler.create(desired, token: token, context: context)
                }
            } catch let error as AWSError where error.category == .transport {
                // the last attempt's lost answer may still have made it: look before giving up
                if let found = try await handler.find(desired, token: token, context: context) {
                    events(.adopted(desired.address, id: found["id"]?.stringValue ?? "?"))
                    return found
                }
                if attempt >= attempts { throw error }
            }
        }
    }

    /// Runs one resource's work with its start and end reported, tainting it on failure.
    private func step(_ address: ResourceAddress, _ step: ResourceStep, _ work: () async throws -> Void) async -> Bool {
        events(.started(address, step: step))
        let start = ContinuousClock.now
        do {
            try await RequestLabel.$current.withValue(address.description) { try await work() }
            let elapsed = ContinuousClock.now - start
            events(.finished(address, step: step, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            return true
        } catch {
            let message = "\(error)"
            await failures.record(address, message)
            // a failed create leaves something half made, replaced next time; a failed update leaves the resource
            // as it was, planned again (replacing a key or a table because a call was throttled would lose data)
            if step == .create { try? await journal.taint(address) }
            events(.failed(address, step: step, message: message))
            return false
        }
    }
}
