import Compliance
import Plan
import Provision
import Stack

extension Deployment {
    /// What an apply is asked to do beyond making the account match the stack.
    public struct ApplyRequest: Sendable {
        /// A plan saved by `deploy plan --out`: refused if the stack, the state or the account moved since.
        public var saved: PlanFile?
        /// The verified bundle the stack came from, recorded in the state; an older release of its signer is refused.
        public var bundle: BundleRelease?
        /// With `bundle`: apply a release not newer than the last one applied from its signer (recorded).
        public var allowDowngrade: Bool
        /// Read the account before planning (off: plan against the recorded state).
        public var refresh: Bool
        /// Apply one phase and what it needs from earlier phases.
        public var phase: Phase?
        /// Go on although the plan fails a critical compliance check.
        public var allowFindings: Bool

        public init(saved: PlanFile? = nil, bundle: BundleRelease? = nil, allowDowngrade: Bool = false, refresh: Bool = true,
                    phase: Phase? = nil, allowFindings: Bool = false) {
            self.saved = saved
            self.bundle = bundle
            self.allowDowngrade = allowDowngrade
            self.refresh = refresh
            self.phase = phase
            self.allowFindings = allowFindings
        }
    }

    /// Every gate in order, then the changes: a stale saved plan and a critical compliance failure are refused
    /// from local files alone, before any call; then the account is checked, the lock taken, the state read again
    /// and refreshed, the plan made (and compared with a saved one), protected resources guarded, and the observer
    /// asked. The state is written after every step.
    public func apply(_ request: ApplyRequest) async throws -> RunOutcome {
        if let saved = request.saved { try saved.checkCurrent(stackDigest: loaded.digest, state: loaded.recorded) }
        let critical = PlanCompliance.evaluate(loaded, state: loaded.recorded).failures.filter { $0.rule.severity == .critical }
        if !critical.isEmpty, !request.allowFindings { throw FindingsRefused(findings: critical) }
        try await checkAccount()
        return try await locked("apply") { try await applyLocked(request) }
    }

    private func applyLocked(_ request: ApplyRequest) async throws -> RunOutcome {
        var state = try await loaded.currentState()
        // again under the lock: another apply may have recorded a bundle since the bundle was opened
        let admission = try request.bundle.map { try state.admit($0, allowDowngrade: request.allowDowngrade) }
        if let bundle = request.bundle, case .downgrade(let recorded) = admission {
            let again = recorded.manifestSHA256 == bundle.manifestSHA256 ? " (this bundle, applied before)" : ""
            observer.warning("--allow-downgrade: applying bundle sequence \(bundle.sequence) although this state records "
                + "sequence \(recorded.sequence) from the same signer\(again); the state records the downgrade")
        }
        var (plan, expanded) = try await plan(state, refresh: request.refresh)
        if let saved = request.saved {
            try saved.checkCurrent(stackDigest: plan.stackDigest, state: LoadedStack.recorded(state))
            try saved.checkSame(as: plan)
        }
        if let phase = request.phase { plan.actions = Self.restrict(plan.actions, to: phase) }
        try observer.review(plan, saved: request.saved != nil)
        let wholeStack = request.phase == nil
        // records the bundle's release as started (and, with `completed`, as completed) in the state
        func recordBundle(completed: Bool) async throws {
            guard let bundle = request.bundle, let admission else { return }
            state.recordBundleStarted(bundle, admission: admission, at: now())
            if completed { state.recordBundleCompleted(bundle) }
            state.serial += 1
            try await loaded.store.write(state)
        }
        guard plan.hasChanges else {
            // nothing to change is still this release applied: an older one may not follow it
            try await recordBundle(completed: wholeStack)
            return .unchanged
        }
        if let protected = plan.actions.first(where: { $0.protected && ($0.kind == .replace || $0.kind == .delete) }) {
            throw NotConfirmed(description: "\(protected.address) is protected and this plan would \(protected.kind == .delete ? "destroy" : "replace") it; nothing was changed")
        }
        if request.saved == nil { try observer.confirm("\nApply these changes to account \(stack.account)?") }
        // recorded before the first change: an apply of it interrupted from here on is continued by the same bundle only
        try await recordBundle(completed: false)
        let report = try await executor(expanded: expanded, state: state, context: try handlerContext()).apply(plan)
        if let bundle = request.bundle, report.succeeded, wholeStack {
            var finished = try await loaded.currentState()
            finished.recordBundleCompleted(bundle)
            finished.serial += 1
            try await loaded.store.write(finished)
        }
        return .executed(report)
    }

    /// The actions of one phase, and of the resources in earlier phases that they need.
    public static func restrict(_ actions: [PlannedAction], to phase: Phase) -> [PlannedAction] {
        let byAddress = Dictionary(uniqueKeysWithValues: actions.map { ($0.address, $0) })
        var needed = Set(actions.filter { $0.address.phase == phase.rawValue }.map(\.address))
        var queue = Array(needed)
        while let next = queue.popLast() {
            for dependency in byAddress[next]?.dependencies ?? [] where needed.insert(dependency).inserted { queue.append(dependency) }
        }
        return actions.filter { needed.contains($0.address) && ($0.kind != .delete || $0.address.phase == phase.rawValue) }
    }
}
