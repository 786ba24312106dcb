import Compliance
import Plan
import Stack

extension Deployment {
    /// What `deploy plan` shows: the plan, the compliance rules over it, and the plan file to save it as.
    public struct PlanOutcome: Sendable {
        public var plan: Plan
        /// The compliance rules over the stack as planned, with the recorded ids and ARNs.
        public var compliance: Evaluation
        public var file: PlanFile
    }

    /// Plans against the state (refreshed from the account, once it is checked to be the stack's, unless `refresh`
    /// is off or nothing is recorded), holding the lock unless `lock` is off (the state is only read).
    public func plan(refresh: Bool, lock: Bool) async throws -> PlanOutcome {
        let work = { () async throws -> PlanOutcome in
            let state = try await loaded.currentState()
            // a refresh reads the account: it must be the stack's, or the plan would compare the stack with another's
            if refresh, !state.resources.isEmpty { try await checkAccount() }
            let plan = try await plan(state, refresh: refresh).plan
            let file = PlanFile(plan: plan, stackFile: loaded.source.stackPath, templatesDirectory: loaded.source.templatesDirectory,
                                statePath: loaded.store.location, created: now())
            return PlanOutcome(plan: plan, compliance: PlanCompliance.evaluate(loaded, state: state), file: file)
        }
        return lock ? try await locked("plan", work) : try await work()
    }
}
