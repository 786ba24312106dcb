import Stack

/// The plan as JSON (`deploy plan --output json`), format `deploy.plan/1`:
///
/// ```
/// { "format": "deploy.plan/1",
///   "stack": { "name", "account", "region", "digest" },
///   "state": { "lineage", "serial" } | null,
///   "refresh": { "performed", "resources", "apiCalls", "notRead": [type] },
///   "summary": { "add", "change", "replace", "destroy", "unchanged" },
///   "drift": [ { "address", "type", "kind": "changed" | "deleted", "changes": [change] } ],
///   "phases": [ { "name", "actions": [ { "address", "type", "action", "reason"?, "replacedBecause": [name],
///                                         "protected", "dependsOn": [address], "changes": [change] } ] } ],
///   "outputs": { "phase.name": value } }
/// change = { "attribute", "before"?, "after"?, "afterUnknown", "sensitive", "forcesReplacement" }
/// ```
/// Sensitive values are left out; values known only after apply have `afterUnknown: true` and no `after`.
public struct PlanDocument: Encodable, Sendable {
    public static let format = "deploy.plan/1"

    struct StackInfo: Encodable { var name, account, region, digest: String }
    struct StateInfo: Encodable { var lineage: String; var serial: Int }
    struct RefreshInfo: Encodable { var performed: Bool; var resources: Int; var apiCalls: Int; var notRead: [String] }
    struct Summary: Encodable { var add, change, replace, destroy, unchanged: Int }
    struct Change: Encodable {
        var attribute: String
        var before: Value?
        var after: Value?
        var afterUnknown: Bool
        var sensitive: Bool
        var forcesReplacement: Bool
    }
    struct Action: Encodable {
        var address, type, action: String
        var reason: String?
        var replacedBecause: [String]
        var protected: Bool
        var dependsOn: [String]
        var changes: [Change]
    }
    struct PhaseActions: Encodable { var name: String; var actions: [Action] }
    struct DriftEntry: Encodable { var address, type, kind: String; var changes: [Change] }

    var format = PlanDocument.format
    var stack: StackInfo
    var state: StateInfo?
    var refresh: RefreshInfo
    var summary: Summary
    var drift: [DriftEntry]
    var phases: [PhaseActions]
    var outputs: [String: Value]

    public init(_ plan: Plan) {
        stack = StackInfo(name: plan.stack.name, account: plan.stack.account, region: plan.stack.region, digest: plan.stackDigest)
        if let lineage = plan.lineage, let serial = plan.serial { state = StateInfo(lineage: lineage, serial: serial) }
        refresh = RefreshInfo(performed: plan.refresh.performed, resources: plan.refresh.resources,
                              apiCalls: plan.refresh.apiCalls, notRead: plan.refresh.unreadTypes)
        summary = Summary(add: plan.count(.create), change: plan.count(.update), replace: plan.count(.replace),
                          destroy: plan.count(.delete), unchanged: plan.count(.noop))
        drift = plan.drift.map { DriftEntry(address: $0.address.description, type: $0.type, kind: $0.kind.rawValue,
                                            changes: $0.changes.map(Self.change)) }
        phases = Phase.allCases.map { phase in
            PhaseActions(name: phase.rawValue, actions: plan.actions(in: phase).map { action in
                Action(address: action.address.description, type: action.type, action: action.kind.rawValue, reason: action.reason,
                       replacedBecause: action.replacedBecause, protected: action.protected,
                       dependsOn: action.dependencies.map(\.description), changes: action.changes.map(Self.change))
            })
        }
        outputs = plan.outputs.filter { !plan.sensitiveOutputs.contains($0.key) && !$0.value.containsUnknown }
    }

    private static func change(_ change: AttributeChange) -> Change {
        Change(attribute: change.name, before: change.sensitive ? nil : change.before,
               after: change.sensitive || change.after == .unknown ? nil : change.after,
               afterUnknown: change.after?.containsUnknown ?? false, sensitive: change.sensitive,
               forcesReplacement: change.forcesReplacement)
    }
}
