import Compliance
import Plan
import Provision
import Stack

extension Deployment {
    /// Which side of the stack `check` judges.
    public enum CheckScope: Sendable {
        /// The planned resources only: no credentials needed.
        case plan
        /// The resources in the account only.
        case live
        /// The plan, and the account too when the state records resources.
        case both
    }

    /// The compliance rules' verdicts: on the plan, and on the account as read now.
    public struct CheckOutcome: Sendable {
        public var plan: Evaluation?
        public var live: Evaluation?
        /// Recorded resources the account no longer holds.
        public var missing: [String]
    }

    /// The rules over the plan and over what the account holds (read-only calls, same rules, same attribute names).
    public func check(_ scope: CheckScope) async throws -> CheckOutcome {
        let recorded = (loaded.recorded?.resources ?? []).filter { $0.status == .created }
        if scope == .live, recorded.isEmpty {
            throw Refused("--live needs a state that records resources; apply the stack first", hint: "See 'deploy check --help'.")
        }
        var outcome = CheckOutcome(plan: scope == .live ? nil : PlanCompliance.evaluate(loaded, state: loaded.recorded), live: nil, missing: [])
        guard scope != .plan, let state = loaded.recorded, !recorded.isEmpty else { return outcome }
        try await checkAccount()
        let refreshed = try await read(state)
        // a resource on its way out (a key pending deletion) is still there to be judged
        var live = Dictionary(uniqueKeysWithValues: refreshed.live.map { ($0.key.description, $0.value) })
        for (address, attributes) in refreshed.lingering { live[address.description] = attributes }
        var inventory = Inventory(recorded: recorded.map { ($0.address.description, $0.type, $0.attributes, $0.dependencies.map(\.description)) },
                                  live: live, configuration: loaded.configuration)
        let locations = Dictionary(loaded.expanded.resources.map { ($0.address.description, $0.location) }) { first, _ in first }
        for index in inventory.subjects.indices { inventory.subjects[index].location = locations[inventory.subjects[index].address] }
        outcome.live = Evaluation(inventory, suppressions: stack.suppressions)
        outcome.missing = recorded.filter { live[$0.address.description] == .some(nil) }.map(\.address.description)
        return outcome
    }
}
