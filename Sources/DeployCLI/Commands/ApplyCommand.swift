import AWS
import Compliance
import Foundation
import Plan
import Provision
import Stack

/// `deploy apply`: makes the account match the stack, phase by phase.
struct ApplyCommand: Command {
    static let name = "apply"
    static let usesAWS = true
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Create, change and replace resources until the account matches the stack."
    static let discussion = """
        Refuses a plan that fails a critical compliance check (see deploy check) unless --allow-findings; checks that \
        the credentials belong to the stack's account, takes the state lock, refreshes, plans, shows the plan and asks \
        (or --auto-approve). Phases run in order; inside a phase independent resources run in parallel. \
        The state is written after every step, so an interrupted apply is finished by running it again. Given a saved \
        plan file instead of --stack, apply refuses it if the stack or the state changed since. With --bundle, the \
        state records each signer's last bundle (its id, sequence and key fingerprint); a bundle from the same signer \
        whose sequence is not higher (an older release, or the same bundle again once its apply finished) is refused \
        before anything is read or changed, unless --allow-downgrade, which the state then records.
        """
    static let positionals = ["[PLANFILE]"]

    struct Options: CommandOptions {
        var stack = StackSelection()
        var phase: Phase?
        var parallelism = 8
        var autoApprove = false
        var noRefresh = false
        var allowFindings = false
        var bundle: String?
        var pubkey: String?
        var allowDowngrade = false
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack) + [
            .value("phase", "name", "Apply one phase and what it needs from earlier phases.", \.phase) { phase throws(UsageError) in
                guard let known = Phase(rawValue: phase) else {
                    throw UsageError(message: Suggestion.message("unknown phase '\(phase)'", for: phase, among: Phase.allCases.map(\.rawValue)))
                }
                return known
            },
            ApplySupport.parallelismBinding(\.parallelism),
            .flag("auto-approve", "Apply without asking.", \.autoApprove),
            .flag("no-refresh", "Plan against the recorded state without reading the account.", \.noRefresh),
            .flag("allow-findings", "Apply even when the plan fails a critical compliance check.", \.allowFindings),
            .value("bundle", "file", "Apply the stack of a bundle (deploy bundle export), verified first; needs --pubkey and --state.", \.bundle),
            .value("pubkey", "key", "With --bundle: the Ed25519 public key the bundle must be signed with.", \.pubkey),
            .flag("allow-downgrade", "With --bundle: apply a bundle not newer than the last one applied from its signer (recorded).",
                  \.allowDowngrade),
        ]

        func validate() throws(UsageError) {
            guard positionals.count <= 1 else {
                throw UsageError(message: "unexpected argument '\(positionals[1])'", command: name)
            }
            if bundle != nil {
                guard stack.stackPath == nil, positionals.isEmpty else {
                    throw UsageError(message: "--bundle brings its own stack: give neither --stack nor a plan file", command: name)
                }
                guard pubkey != nil else { throw UsageError(message: "--bundle needs --pubkey, the key it must be signed with", command: name) }
                guard stack.statePath != nil else {
                    throw UsageError(message: "--bundle needs --state: the bundle's stack is unpacked to a temporary directory", command: name)
                }
            } else if allowDowngrade {
                throw UsageError(message: "--allow-downgrade concerns a bundle's release sequence: it needs --bundle", command: name)
            } else if positionals.isEmpty, stack.stackPath == nil {
                throw UsageError(message: "give --stack <file> or a saved plan file", command: name)
            }
            if !positionals.isEmpty, stack.stackPath != nil {
                throw UsageError(message: "give either --stack or a plan file, not both", command: name)
            }
        }

        /// Apply never empties buckets or forces: those are destroy's.
        func handlerContext(_ client: AWSClient, _ stack: StackFile) -> HandlerContext {
            ApplySupport.handlerContext(client, stack, emptyBuckets: false, force: false)
        }
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        var selection = parsed.stack
        var saved: PlanFile?
        if let path = parsed.positionals.first {
            let file = try PlanFile.read(path)
            saved = file
            selection.stackPath = file.stackFile
            if selection.templates == nil, let templates = file.templatesDirectory { selection.templates = templates }
            if selection.statePath == nil { selection.statePath = file.statePath }
        }
        var bundled: BundledStack?
        let allowDowngrade = parsed.allowDowngrade
        if let bundle = parsed.bundle, let statePath = selection.statePath, let pubkey = parsed.pubkey {
            let store = StateStore(path: statePath)
            // a rollback is refused on the signed manifest alone: before the archive is read through, a lock taken or a call made
            let unpacked = try BundledStack.open(bundle, key: try BundleKeys.publicKey(pubkey)) { release in
                _ = try store.load()?.admit(release, allowDowngrade: allowDowngrade)
            }
            bundled = unpacked
            selection.stackPath = unpacked.stackPath
            context.console.err("bundle \(bundle): sequence \(unpacked.release.sequence), signed by \(unpacked.release.signer) (the key given), "
                + "every byte checked; artifacts upload from it")
        }
        defer { bundled?.remove() }
        var options = try selection.required(command: name)
        options.bundledArtifacts = bundled?.artifacts ?? [:]
        var run = try StackRun.open(options, console: context.console)
        let configuration = run.configuration
        // a stale plan is refused from local files alone, before any call, lock or refresh
        if let saved { try saved.checkCurrent(stackDigest: StackDigest.compute(configuration), state: try Self.recorded(run)) }
        // a critical compliance failure on the plan stops here too, before any call
        let critical = try StaticCheck.evaluate(configuration, expanded: run.expanded, state: try Self.recorded(run)).failures.filter { $0.rule.severity == .critical }
        if !critical.isEmpty, !parsed.allowFindings { throw FindingsRefused(findings: critical) }
        let client = try StackSession.client(context, configuration.stack)
        try await ApplySupport.checkAccount(client, configuration.stack)
        try run.lock(name, context.console)
        defer { run.release() }
        var state = try run.state()
        // again under the lock: another apply may have recorded a bundle since the first look
        let admission = try bundled.map { try state.admit($0.release, allowDowngrade: allowDowngrade) }
        if let bundled, case .downgrade(let recorded) = admission {
            let again = recorded.manifestSHA256 == bundled.release.manifestSHA256 ? " (this bundle, applied before)" : ""
            context.console.err("warning: --allow-downgrade: applying bundle sequence \(bundled.release.sequence) although this state records "
                + "sequence \(recorded.sequence) from the same signer\(again); the state records the downgrade")
        }
        let handlerContext = parsed.handlerContext(client, configuration.stack)
        var (plan, expanded) = try await run.planned(state, refresh: !parsed.noRefresh) { [HandlerReader(context: handlerContext)] }
        if let saved {
            try saved.checkCurrent(stackDigest: plan.stackDigest, state: try Self.recorded(run))
            let current = plan.actions.filter { $0.kind != .noop }.map { "\($0.kind.rawValue) \($0.address)" }
            guard current == saved.actions else {
                // the file's checksum holds and the stack and state are those it was made from: only the account moved
                throw PlanFile.StaleError(reason: "the account changed since it was made (a refresh now plans something else)")
            }
        }
        if let phase = parsed.phase { plan.actions = Self.restrict(plan.actions, to: phase) }
        let reporter = RunReporter(context)
        if saved == nil {
            try reporter.plan(plan)
        } else {
            reporter.note("Applying the saved plan (\(plan.summary.dropLast()))")
        }
        let wholeStack = parsed.phase == nil
        guard plan.hasChanges else {
            if let bundled, let admission {
                // nothing to change is still this release applied: an older one may not follow it
                state.recordBundleStarted(bundled.release, admission: admission)
                if wholeStack { state.recordBundleCompleted(bundled.release) }
                state.serial += 1
                try run.store.write(state)
            }
            reporter.note("\nNo changes. The account matches the stack.")
            return reporter.unchanged(.apply)
        }
        if let protected = plan.actions.first(where: { $0.protected && ($0.kind == .replace || $0.kind == .delete) }) {
            throw NotConfirmed(description: "\(protected.address) is protected and this plan would \(protected.kind == .delete ? "destroy" : "replace") it; nothing was changed")
        }
        if saved == nil { try Confirmation.ask("\nApply these changes to account \(configuration.stack.account)?", autoApprove: parsed.autoApprove, context) }
        if let bundled, let admission {
            // recorded before the first change: an apply of it interrupted from here on is continued by the same bundle only
            state.recordBundleStarted(bundled.release, admission: admission)
            state.serial += 1
            try run.store.write(state)
        }
        let code = try await ApplySupport.execute(.apply, run: run, expanded: expanded, state: state, handlerContext: handlerContext, parallelism: parsed.parallelism,
                                                  context) { try await $0.apply(plan) }
        if let bundled, code == ExitCode.success, wholeStack {
            var finished = try run.state()
            finished.recordBundleCompleted(bundled.release)
            finished.serial += 1
            try run.store.write(finished)
        }
        return code
    }

    /// The recorded state, or nil when there is none yet (as a plan made before the first apply records it).
    static func recorded(_ run: StackRun) throws -> State? {
        let state = try run.state()
        return state.serial == 0 && state.resources.isEmpty ? nil : state
    }

    /// The actions of one phase, and of the resources in earlier phases that they need.
    static func restrict(_ actions: [PlannedAction], to phase: Phase) -> [PlannedAction] {
        let byAddress = Dictionary(uniqueKeysWithValues: actions.map { ($0.address, $0) })
        var needed = Set(actions.filter { $0.address.phase == phase.rawValue }.map(\.address))
        var queue = Array(needed)
        while let next = queue.popLast() {
            for dependency in byAddress[next]?.dependencies ?? [] where needed.insert(dependency).inserted { queue.append(dependency) }
        }
        return actions.filter { needed.contains($0.address) && ($0.kind != .delete || $0.address.phase == phase.rawValue) }
    }
}
