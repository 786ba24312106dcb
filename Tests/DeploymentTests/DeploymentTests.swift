import Deployment
import DeployTestSupport
import Foundation
import Plan
import Provision
import Stack
import Testing

/// Every gate of plan, apply, destroy, check and import, and the adopt, taint, replace and interrupted-create
/// paths, run through `Deployment` on the shipped stack with handlers that keep the account in memory: what used
/// to be reachable only through the CLI and the local endpoint.
@Suite("deployment")
struct DeploymentTests {
    /// A scratch copy of the shipped stack, its state in the same directory, and an account in memory.
    struct Scratch {
        let directory: URL
        let stackPath: String
        let statePath: String
        let cloud = MemoryCloud()

        init() throws {
            (stackPath, directory) = try ShippedStack.scratch(prefix: "deployment")
            statePath = directory.appendingPathComponent("state.json").path
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }

        func deployment(account: FixedAccount = FixedAccount(), observer: RecordingObserver = RecordingObserver()) async throws -> Deployment {
            Deployment(try await LoadedStack.load(StackSource(stackPath: stackPath, statePath: statePath)), account: account, observer: observer,
                       handlers: .memory(cloud))
        }

        var store: StateStore { StateStore(path: statePath) }
        func state() throws -> State? { try store.load() }

        func editState(_ change: (inout State) -> Void) throws {
            guard var state = try state() else { Issue.record("no state to edit"); return }
            change(&state)
            state.serial += 1
            try store.write(state)
        }

        /// Applies the whole stack and checks that all of it was created.
        @discardableResult
        func applied() async throws -> ExecutionReport {
            guard case .executed(let report) = try await deployment().apply(.init()) else { throw ProvisionError("nothing was applied") }
            #expect(report.succeeded, "\(report.failed)")
            return report
        }

        var lockExists: Bool { FileManager.default.fileExists(atPath: StateLock.lockPath(forState: statePath)) }
    }

    static let kmsKey = ResourceAddress(phase: "keys", name: "data_key", index: nil)
    static let vpc = ResourceAddress(phase: "network", name: "vpc", index: nil)

    @Test("a first apply creates everything with exactly one full expansion; a second changes nothing and calls nothing but reads")
    func firstApplyThenNothing() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let counter = ExpansionCounter()
        let report = try await Expander.$observer.withValue(counter) { try await scratch.applied() }
        #expect(counter.value == 1, "the stack is expanded once, when it is loaded; the planner and the executor refine it")
        #expect(report.created.count == scratch.cloud.resources.count && report.created.count > 40)
        #expect(try scratch.state()?.resources.allSatisfy { $0.status == .created && $0.id != nil } == true)
        #expect(!scratch.lockExists)

        let before = scratch.cloud.changes
        let observer = RecordingObserver()
        let again = try await scratch.deployment(observer: observer).apply(.init())
        guard case .unchanged = again else { Issue.record("expected no changes, got \(again)"); return }
        #expect(scratch.cloud.changes == before)
        #expect(observer.questions.isEmpty, "nothing to change is not asked about")
    }

    @Test("credentials of another account: refused before the lock, the state or any call")
    func accountMismatch() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        await #expect(throws: AccountMismatch.self) { try await scratch.deployment(account: FixedAccount("999999999999")).apply(.init()) }
        await #expect(throws: AccountMismatch.self) { try await scratch.deployment(account: FixedAccount("999999999999")).destroy(.init()) }
        #expect(scratch.cloud.calls.isEmpty)
        #expect(try scratch.state() == nil)
        #expect(!scratch.lockExists)
    }

    @Test("a critical compliance failure stops apply before the account is asked, unless findings are allowed")
    func criticalFindings() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let storage = scratch.directory.appendingPathComponent("Templates/storage.json5").path
        let text = try String(contentsOfFile: storage, encoding: .utf8)
        let audit = "block_public_access: true,\n        lifecycle_expiration_days: \"${param.audit_retention_days}\",\n        logging_target_bucket"
        let opened = text.replacingOccurrences(of: audit, with: audit.replacingOccurrences(of: "true", with: "false"))
        #expect(opened != text)
        try opened.write(toFile: storage, atomically: true, encoding: .utf8)

        let account = FixedAccount()
        await #expect { try await scratch.deployment(account: account).apply(.init()) } throws: { error in
            (error as? FindingsRefused)?.findings.contains { $0.rule.id == "s3-bucket-public-access-block" } == true
        }
        #expect(account.identityCalls == 0)
        #expect(scratch.cloud.calls.isEmpty)
        let allowed = try await scratch.deployment(account: account).apply(.init(allowFindings: true))
        guard case .executed(let report) = allowed, report.succeeded else { Issue.record("allowed findings should apply: \(allowed)"); return }
    }

    @Test("a saved plan is refused once the state or the account moved since it was made")
    func stalePlan() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await scratch.applied()
        let saved = try await scratch.deployment().plan(refresh: true, lock: true).file
        #expect(saved.actions.isEmpty)

        scratch.cloud.removeOutOfBand(Self.vpc)
        await #expect { try await scratch.deployment().apply(.init(saved: saved)) } throws: { error in
            "\(error)".contains("the account changed since it was made")
        }
        scratch.cloud.restoreOutOfBand()
        try scratch.editState { _ in }
        let account = FixedAccount()
        await #expect(throws: PlanFile.StaleError.self) { try await scratch.deployment(account: account).apply(.init(saved: saved)) }
        #expect(account.identityCalls == 0, "a state that moved is found from local files alone")
    }

    @Test("a saved plan pins the values it sets: an artifact rewritten after the plan was made is refused, not shipped")
    func savedPlanPinsArtifacts() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await scratch.applied()
        let model = scratch.directory.appendingPathComponent("Stacks/artifacts/model.gguf")
        try "GGUF: the model, version 2\n".write(to: model, atomically: true, encoding: .utf8)
        let saved = try await scratch.deployment().plan(refresh: true, lock: true).file
        #expect(saved.actions.contains("update storage.model"))
        try "GGUF: the model, tampered with\n".write(to: model, atomically: true, encoding: .utf8)
        let before = scratch.cloud.changes
        await #expect { try await scratch.deployment().apply(.init(saved: saved)) } throws: { error in
            "\(error)".contains("the values it would set changed since it was made")
        }
        #expect(scratch.cloud.changes == before)
        try "GGUF: the model, version 2\n".write(to: model, atomically: true, encoding: .utf8)
        guard case .executed(let report) = try await scratch.deployment().apply(.init(saved: saved)), report.succeeded else {
            Issue.record("the reviewed bytes should apply"); return
        }
        #expect(report.updated.contains(ResourceAddress(phase: "storage", name: "model", index: nil)))
    }

    @Test("a run loaded before another run wrote the state plans against the state it finds under the lock")
    func stateMovedAfterLoading() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let early = try await scratch.deployment()  // expanded with nothing recorded: every id unknown
        try await scratch.applied()
        let before = scratch.cloud.changes
        guard case .unchanged = try await early.apply(.init()) else { Issue.record("everything was created meanwhile"); return }
        #expect(scratch.cloud.changes == before)

        let late = try await scratch.deployment()  // expanded with every id known
        guard case .executed = try await scratch.deployment().destroy(.init(force: true)) else { Issue.record("destroy"); return }
        guard case .executed(let report) = try await late.apply(.init()), report.succeeded else {
            Issue.record("everything was destroyed meanwhile and is created again"); return
        }
        #expect(report.created.count == scratch.cloud.resources.count)
        let plan = try await scratch.deployment().plan(refresh: true, lock: true).plan
        #expect(!plan.hasChanges)
    }

    @Test("plan checks the account before it refreshes from it; without a refresh it needs none")
    func planChecksAccount() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await scratch.applied()
        let stranger = FixedAccount("999999999999")
        let calls = scratch.cloud.calls.count
        await #expect(throws: AccountMismatch.self) { try await scratch.deployment(account: stranger).plan(refresh: true, lock: true) }
        #expect(scratch.cloud.calls.count == calls, "nothing is read from an account that is not the stack's")
        let unrefreshed = try await scratch.deployment(account: stranger).plan(refresh: false, lock: false)
        #expect(!unrefreshed.plan.hasChanges && stranger.identityCalls == 1)
    }

    @Test("check of the account needs no expansion: an artifact gone missing costs only source locations")
    func liveCheckWithoutArtifacts() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await scratch.applied()
        try FileManager.default.removeItem(at: scratch.directory.appendingPathComponent("Stacks/artifacts/model.gguf"))
        await #expect(throws: StackError.self) { try await LoadedStack.load(StackSource(stackPath: scratch.stackPath, statePath: scratch.statePath)) }
        let loaded = try await LoadedStack.load(StackSource(stackPath: scratch.stackPath, statePath: scratch.statePath), requiringExpansion: false)
        let outcome = try await Deployment(loaded, account: FixedAccount(), observer: RecordingObserver(), handlers: .memory(scratch.cloud))
            .check(.live)
        #expect(outcome.live?.findings.isEmpty == false && outcome.missing.isEmpty)
    }

    @Test("a plan that would replace a protected resource is refused with nothing changed")
    func protectedReplacement() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await scratch.applied()
        try scratch.editState { state in
            guard let index = state.resources.firstIndex(where: { $0.address == Self.kmsKey }) else { return }
            state.resources[index].status = .tainted
        }
        let before = scratch.cloud.changes
        await #expect { try await scratch.deployment().apply(.init()) } throws: { error in
            (error as? NotConfirmed)?.description.contains("keys.data_key is protected and this plan would replace it") == true
        }
        #expect(scratch.cloud.changes == before)
    }

    @Test("a declined confirmation changes nothing and writes no state")
    func declined() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let observer = RecordingObserver(declines: true)
        await #expect(throws: NotConfirmed.self) { try await scratch.deployment(observer: observer).apply(.init()) }
        #expect(observer.questions == ["\nApply these changes to account 123456789012?"])
        #expect(observer.reviewed.count == 1, "the plan is shown before the question")
        #expect(scratch.cloud.changes.isEmpty)
        #expect(try scratch.state() == nil)
        #expect(!scratch.lockExists)
    }

    @Test("one phase applies that phase only")
    func onePhase() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        guard case .executed(let report) = try await scratch.deployment().apply(.init(phase: .network)) else {
            Issue.record("network should apply"); return
        }
        #expect(!report.created.isEmpty && report.created.allSatisfy { $0.phase == "network" })
        #expect(try scratch.state()?.resources.allSatisfy { $0.address.phase == "network" } == true)
    }

    @Test("a create whose process died after its intent was recorded is found by its token and adopted, not made twice")
    func interruptedCreate() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await scratch.applied()
        guard let id = scratch.cloud.id(of: Self.vpc), let token = scratch.cloud.resources[id]?.token else {
            Issue.record("no vpc in the account"); return
        }
        try scratch.editState { state in
            guard let index = state.resources.firstIndex(where: { $0.address == Self.vpc }) else { return }
            state.resources[index] = ResourceState(address: Self.vpc, type: "aws.ec2.vpc", id: nil, attributes: [:], status: .pending,
                                                   intent: .init(token: token, operation: "create", startedAt: "2026-12-06T00:00:00Z"))
        }
        let observer = RecordingObserver()
        guard case .executed(let report) = try await scratch.deployment(observer: observer).apply(.init()), report.succeeded else {
            Issue.record("the interrupted create should be finished"); return
        }
        #expect(observer.events.contains { if case .adopted(Self.vpc, id) = $0 { true } else { false } })
        #expect(scratch.cloud.resources.values.filter { $0.type == "aws.ec2.vpc" }.count == 1)
        #expect(try scratch.state()?.resource(Self.vpc)?.id == id)
    }

    @Test("a create whose answer was lost is looked for before it is sent again, and adopted")
    func lostAnswer() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        scratch.cloud.loseAnswer(Self.vpc)
        let observer = RecordingObserver()
        guard case .executed(let report) = try await scratch.deployment(observer: observer).apply(.init()), report.succeeded else {
            Issue.record("the apply should succeed"); return
        }
        #expect(observer.events.contains { if case .adopted(Self.vpc, _) = $0 { true } else { false } })
        #expect(scratch.cloud.resources.values.filter { $0.type == "aws.ec2.vpc" }.count == 1)
    }

    @Test("a tainted resource is replaced: the old one deleted, a new one created and recorded")
    func taintedReplaced() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await scratch.applied()
        let node = try #require(try scratch.state()?.resources.first { $0.type == "aws.ec2.instance" })
        try scratch.editState { state in
            guard let index = state.resources.firstIndex(where: { $0.address == node.address }) else { return }
            state.resources[index].status = .tainted
        }
        guard case .executed(let report) = try await scratch.deployment().apply(.init()), report.succeeded else {
            Issue.record("the replacement should succeed"); return
        }
        #expect(report.replaced == [node.address])
        let now = try #require(try scratch.state()?.resource(node.address))
        #expect(now.id != node.id && now.status == .created)
        #expect(scratch.cloud.resources[node.id ?? ""] == nil)
    }

    @Test("destroy refuses protected resources, keeps them with keepProtected, deletes them with force; its flags reach the handlers")
    func destroyGates() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await scratch.applied()
        let before = scratch.cloud.changes
        await #expect { try await scratch.deployment().destroy(.init()) } throws: { error in
            (error as? NotConfirmed)?.description.contains("destroy would delete protected resources: ") == true
        }
        #expect(scratch.cloud.changes == before)

        let observer = RecordingObserver()
        guard case .executed(let kept) = try await scratch.deployment(observer: observer).destroy(.init(keepProtected: true, emptyBuckets: true)),
              kept.succeeded else { Issue.record("keepProtected should destroy the rest"); return }
        #expect(observer.questions == ["\nDestroy these resources?"])
        let left = try #require(try scratch.state()?.resources)
        #expect(!left.isEmpty && left.contains { $0.address == Self.kmsKey })
        #expect(scratch.cloud.deleteContexts.allSatisfy { !$0.force && $0.emptyBuckets })

        guard case .executed(let forced) = try await scratch.deployment().destroy(.init(force: true)), forced.succeeded else {
            Issue.record("force should destroy the protected ones"); return
        }
        #expect(try scratch.state()?.resources.isEmpty == true)
        #expect(scratch.cloud.resources.isEmpty)
        #expect(scratch.cloud.deleteContexts.suffix(left.count).allSatisfy { $0.force })
        guard case .unchanged = try await scratch.deployment().destroy(.init()) else { Issue.record("nothing left to destroy"); return }
    }

    @Test("import: an undeclared address, a recorded one and an id the account lacks are refused; a real id is adopted and plans clean")
    func importGates() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await scratch.applied()
        let id = try #require(scratch.cloud.id(of: Self.vpc))
        await #expect(throws: Refused.self) {
            try await scratch.deployment().importResource(ResourceAddress(phase: "network", name: "vcp", index: nil), id: id)
        }
        await #expect(throws: NotConfirmed.self) { try await scratch.deployment().importResource(Self.vpc, id: id) }
        try scratch.editState { $0.resources.removeAll { $0.address == Self.vpc } }
        await #expect(throws: NotConfirmed.self) { try await scratch.deployment().importResource(Self.vpc, id: "vpc-missing") }
        _ = try await scratch.deployment().importResource(Self.vpc, id: id)
        #expect(try scratch.state()?.resource(Self.vpc)?.id == id)
        let plan = try await scratch.deployment().plan(refresh: true, lock: true).plan
        #expect(!plan.hasChanges, "\(plan.actions.filter { $0.kind != .noop }.map(\.address))")
    }

    @Test("check: live needs a recorded state; a resource deleted outside deploy is named missing")
    func check() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        await #expect(throws: Refused.self) { try await scratch.deployment().check(.live) }
        let planOnly = try await scratch.deployment().check(.both)
        #expect(planOnly.plan?.failures.isEmpty == true && planOnly.live == nil)
        try await scratch.applied()
        scratch.cloud.removeOutOfBand(Self.vpc)
        let outcome = try await scratch.deployment().check(.live)
        #expect(outcome.plan == nil && outcome.live != nil)
        #expect(outcome.missing == [Self.vpc.description])
    }

    @Test("a state lock held by another run stops apply with nothing changed")
    func lockHeld() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let lock = try StateLock.acquire(statePath: scratch.statePath, operation: "apply")
        defer { lock.release() }
        await #expect(throws: LockError.self) { try await scratch.deployment().apply(.init()) }
        #expect(scratch.cloud.changes.isEmpty)
    }

    @Test("a bundle's release is recorded; an older one from the same signer is refused under the lock unless allowed, with a warning")
    func bundleReleases() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let newer = BundleRelease(bundleID: "b2", manifestSHA256: "22", sequence: 2, signer: "SHA256:signer")
        let older = BundleRelease(bundleID: "b1", manifestSHA256: "11", sequence: 1, signer: "SHA256:signer")
        _ = try await scratch.deployment().apply(.init(bundle: newer))
        #expect(try scratch.state()?.bundles?.first?.completed == true)
        await #expect(throws: BundleRollbackError.self) { try await scratch.deployment().apply(.init(bundle: older)) }
        let observer = RecordingObserver()
        _ = try await scratch.deployment(observer: observer).apply(.init(bundle: older, allowDowngrade: true))
        #expect(observer.warnings.contains { $0.contains("--allow-downgrade: applying bundle sequence 1") })
    }
}
