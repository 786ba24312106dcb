import Stack

/// Compares the desired stack with the recorded (and, when refreshed, live) state and decides each resource's action.
///
/// Evaluation and planning go together: a resource that is kept lends its recorded ids to the resources that refer
/// to it, while one that is created or replaced makes them unknown, which is how a replacement ripples exactly as
/// far as it must and no further.
public struct Planner {
    public var configuration: StackConfiguration
    public var state: State?
    public var refresh: RefreshResult?
    public var stackDigest: String
    /// An expansion of this configuration to refine rather than expanding the stack again: the one made against the
    /// recorded state when the stack was loaded (`Planner.recordedAttributes`). Only the blocks that this plan's
    /// decisions reach (a replacement's unknown ids, a live value that drifted) are evaluated again.
    public var base: ExpandedStack?

    public init(configuration: StackConfiguration, state: State?, refresh: RefreshResult? = nil, stackDigest: String,
                base: ExpandedStack? = nil) {
        self.configuration = configuration
        self.state = state
        self.refresh = refresh
        self.stackDigest = stackDigest
        self.base = base
    }

    /// The computed attributes the recorded state lends: a created resource's as recorded, anything else's unknown.
    /// What a stack is expanded with when it is loaded, before a refresh or a plan has decided anything.
    public static func recordedAttributes(_ state: State?) -> Expander.ComputedAttributes {
        let recorded = Dictionary((state?.resources ?? []).map { ($0.address, $0) }) { first, _ in first }
        return { desired in
            guard let resource = recorded[desired.address], resource.status == .created, resource.type == desired.type else {
                return Expander.allUnknown(desired)
            }
            return Dictionary(uniqueKeysWithValues: desired.schema.computed.map { ($0, resource.attributes[$0] ?? .unknown) })
        }
    }

    public func plan() throws(StackError) -> Plan {
        try planned().plan
    }

    /// The plan, and the stack as it was expanded to make it (what apply starts from).
    public func planned() throws(StackError) -> (plan: Plan, expanded: ExpandedStack) {
        var actions: [PlannedAction] = []
        var drift: [Drift] = []
        let recorded = Dictionary((state?.resources ?? []).map { ($0.address, $0) }) { first, _ in first }
        var expander = Expander(configuration)
        let decided: Expander.ComputedAttributes = { desired throws(StackError) in
            let (action, computed, found) = try decide(desired, recorded: recorded[desired.address])
            actions.append(action)
            if let found { drift.append(found) }
            return computed
        }
        let expanded: ExpandedStack
        if let base {
            expanded = try expander.refine(base, computed: decided)
        } else {
            expanded = try expander.expand(computed: decided)
        }
        let declared = Set(expanded.resources.map(\.address))
        var deletions: [PlannedAction] = []
        for resource in state?.resources ?? [] where !declared.contains(resource.address) {
            let gone = refresh?.live[resource.address].map { $0 == nil } ?? false
            if gone {
                drift.append(Drift(address: resource.address, type: resource.type, kind: .deleted, changes: []))
                continue
            }
            deletions.append(PlannedAction(address: resource.address, type: resource.type, kind: .delete,
                                           reason: resource.status == .pending ? "pending create no longer declared" : "no longer declared",
                                           replacedBecause: [], changes: [], protected: false,
                                           dependencies: resource.dependencies))
        }
        actions += Self.deleteOrder(deletions)
        let stack = configuration.stack
        let plan = Plan(stack: StackIdentity(name: stack.name, account: stack.account, region: stack.region),
                    stackDigest: stackDigest, lineage: state?.lineage, serial: state?.serial,
                    actions: actions, drift: drift,
                    refresh: Plan.RefreshSummary(performed: refresh != nil, resources: refresh?.live.count ?? 0,
                                                 apiCalls: refresh?.apiCalls ?? 0, unreadTypes: refresh?.unreadTypes ?? []),
                    outputs: Self.flatten(expanded.outputs), sensitiveOutputs: expanded.sensitiveOutputs)
        return (plan, expanded)
    }

    /// The action for one desired resource, the computed attributes its dependants will see, and any drift; an
    /// error when it would take an irreversible property back to its default.
    private func decide(_ desired: DesiredResource, recorded: ResourceState?) throws(StackError) -> (PlannedAction, [String: Value], Drift?) {
        func action(_ kind: PlannedAction.Kind, reason: String? = nil, changes: [AttributeChange], replacedBecause: [String] = []) -> PlannedAction {
            PlannedAction(address: desired.address, type: desired.type, kind: kind, reason: reason, replacedBecause: replacedBecause,
                          changes: changes, protected: desired.protected, dependencies: desired.dependencies)
        }
        guard let recorded else {
            return (action(.create, changes: creation(desired)), Expander.allUnknown(desired), nil)
        }
        if recorded.type != desired.type {
            return (action(.replace, reason: "type changed from \(recorded.type)", changes: creation(desired),
                           replacedBecause: ["type"]), Expander.allUnknown(desired), nil)
        }
        switch recorded.status {
        case .pending:
            let token = recorded.intent.map { " (idempotency token \($0.token))" } ?? ""
            return (action(.create, reason: "an interrupted create is resolved first: found by token or tag and adopted\(token)",
                           changes: creation(desired)), Expander.allUnknown(desired), nil)
        case .tainted:
            return (action(.replace, reason: "tainted by a failed apply", changes: creation(desired)),
                    Expander.allUnknown(desired), nil)
        case .created:
            break
        }
        var baseline = recorded.attributes
        var drift: Drift?
        if let refresh, let live = refresh.live[recorded.address] {
            guard let live else {
                return (action(.create, reason: "deleted outside deploy", changes: creation(desired)), Expander.allUnknown(desired),
                        Drift(address: desired.address, type: desired.type, kind: .deleted, changes: []))
            }
            let drifted = differences(from: recorded.attributes, to: live, desired: desired, sensitive: Set(recorded.sensitive))
            if !drifted.isEmpty { drift = Drift(address: desired.address, type: desired.type, kind: .changed, changes: drifted) }
            baseline.merge(live) { _, live in live }
        }
        var changes: [AttributeChange] = []
        for name in desired.properties.keys.sorted() {
            let schema = desired.schema.attributes[name]
            let want = desired.properties[name] ?? .null
            guard !AttributeComparison.equal(want, baseline[name], schema: schema) else { continue }
            changes.append(AttributeChange(name: name, before: baseline[name], after: want,
                                           sensitive: desired.sensitive.contains(name) || recorded.sensitive.contains(name),
                                           forcesReplacement: schema?.forcesReplacement ?? false))
        }
        var computed = Dictionary(uniqueKeysWithValues: desired.schema.computed.map { ($0, baseline[$0] ?? .unknown) })
        // tags change in place without moving such attributes on (a launch template's tags make no new version)
        if changes.contains(where: { $0.name != "tags" }) { for name in desired.schema.changedByUpdate { computed[name] = .unknown } }
        let forcing = changes.filter(\.forcesReplacement).map(\.name)
        if !forcing.isEmpty {
            return (action(.replace, changes: changes, replacedBecause: forcing), Expander.allUnknown(desired), drift)
        }
        // in place, the resource keeps what it has: a property that cannot be turned back must not be
        for change in changes {
            guard let schema = desired.schema.attributes[change.name], let reason = schema.irreversible,
                  let off = schema.defaultValue, change.after == off,
                  let before = change.before, before != .null, before != .unknown, before != off else { continue }
            throw StackError("\(desired.address): \(change.name) cannot go from \(before) back to \(off): \(reason)",
                             at: desired.propertyLocations[change.name] ?? desired.location)
        }
        return (action(changes.isEmpty ? .noop : .update, changes: changes), computed, drift)
    }

    /// Every property a create sets, and the computed attributes as unknown.
    private func creation(_ desired: DesiredResource) -> [AttributeChange] {
        var changes = desired.properties.keys.sorted().compactMap { name -> AttributeChange? in
            let value = desired.properties[name] ?? .null
            guard value != .null else { return nil }
            return AttributeChange(name: name, before: nil, after: value, sensitive: desired.sensitive.contains(name))
        }
        changes += desired.schema.computed.sorted().map { AttributeChange(name: $0, before: nil, after: .unknown) }
        return changes
    }

    /// Attributes managed by the stack whose live value differs from the recorded one.
    private func differences(from recorded: [String: Value], to live: [String: Value], desired: DesiredResource,
                             sensitive: Set<String>) -> [AttributeChange] {
        desired.schema.attributes.keys.sorted().compactMap { name in
            guard let now = live[name] else { return nil }
            let schema = desired.schema.attributes[name]
            let before = recorded[name] ?? schema?.defaultValue ?? .null
            guard AttributeComparison.normalize(before, schema) != AttributeComparison.normalize(now, schema) else { return nil }
            return AttributeChange(name: name, before: before, after: now,
                                   sensitive: sensitive.contains(name) || desired.sensitive.contains(name))
        }
    }

    /// Deletes run dependants first: reverse dependency order among the deleted resources, later phases first.
    static func deleteOrder(_ deletions: [PlannedAction]) -> [PlannedAction] {
        var graph = DependencyGraph<ResourceAddress>()
        let addresses = Set(deletions.map(\.address))
        for deletion in deletions.sorted(by: { $0.address > $1.address }) {
            graph.add(deletion.address)
        }
        for deletion in deletions {
            // a resource may go only after everything that depends on it
            for dependency in deletion.dependencies where addresses.contains(dependency) {
                graph.add(dependency, dependsOn: deletion.address)
            }
        }
        let byAddress = Dictionary(uniqueKeysWithValues: deletions.map { ($0.address, $0) })
        return graph.topologicalOrder().compactMap { byAddress[$0] }
    }

    private static func flatten(_ outputs: [Phase: [String: Value]]) -> [String: Value] {
        var flat: [String: Value] = [:]
        for (phase, values) in outputs { for (name, value) in values { flat["\(phase.rawValue).\(name)"] = value } }
        return flat
    }
}
