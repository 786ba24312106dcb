import Foundation
import Testing
import Deployment
@testable import DeployCLI
@testable import Plan
import Stack
import DeployTestSupport

/// validate, plan, graph and unlock through the command line, on the shipped stacks and on bad input.
@Suite("stack commands", .serialized)
struct StackCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let badFixtures = repository.appendingPathComponent("Tests/StackTests/Fixtures")

    func run(_ arguments: [String]) async -> (Int32, CommandLineTests.Captured) {
        await CommandLineTests().run(arguments)
    }

    /// A scratch copy of a shipped stack, so that state and locks land in a temporary directory.
    func scratchStack(_ name: String = "private-inference") throws -> (stack: String, directory: URL) {
        try ShippedStack.scratch(name, prefix: "deploy-cli")
    }

    @Test("validate accepts both shipped stacks", arguments: ["private-inference", "air-gapped"])
    func validate(_ name: String) async throws {
        let (code, output) = await run(["validate", "--stack", ShippedStack.path(name)])
        #expect(code == 0)
        #expect(output.stdout.contains("is valid:"))
        #expect(output.stderr.isEmpty)
    }

    @Test("a first plan adds everything; --detailed-exitcode says 2; nothing but the lock is touched")
    func firstPlan() async throws {
        let (stack, directory) = try scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (code, output) = await run(["plan", "--stack", stack, "--detailed-exitcode"])
        #expect(code == 2)
        #expect(output.stdout.contains("State: none yet (first apply)"))
        #expect(output.stdout.contains("Plan: 49 to add, 0 to change, 0 to replace, 0 to destroy."))
        for phase in ["\nnetwork\n", "\nkeys\n", "\nstorage\n", "\ninference\n"] { #expect(output.stdout.contains(phase)) }
        let deployDirectory = directory.appendingPathComponent("Stacks/.deploy").path
        #expect(try FileManager.default.contentsOfDirectory(atPath: deployDirectory).isEmpty, "no state written, lock released")
        let (plain, _) = await run(["plan", "--stack", stack])
        #expect(plain == 0)
    }

    @Test("against an up-to-date state: no changes, exit 0 with --detailed-exitcode; a saved plan records the serial")
    func upToDate() async throws {
        let (stack, directory) = try scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try StackConfiguration.load(stackPath: stack)
        let statePath = directory.appendingPathComponent("state.json").path
        try StateStore(path: statePath).write(try Self.applied(configuration))
        let planPath = directory.appendingPathComponent("out/plan.json").path
        let (code, output) = await run(["plan", "--stack", stack, "--state", statePath, "--no-refresh",
                                        "--detailed-exitcode", "--out", planPath])
        #expect(code == 0)
        #expect(output.stdout.contains("Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy."))
        let saved = try PlanFile.read(planPath)
        #expect(saved.serial == 3 && saved.lineage == "cli-lineage")
        let (jsonCode, json) = await run(["plan", "--stack", stack, "--state", statePath, "--no-refresh", "--output", "json"])
        #expect(jsonCode == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((document["summary"] as? [String: Int])?["unchanged"] == 49)
    }

    @Test("a stale or edited saved plan is refused from local files, before credentials, lock or refresh")
    func staleSavedPlan() async throws {
        let (stack, directory) = try scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try StackConfiguration.load(stackPath: stack)
        let statePath = directory.appendingPathComponent("state.json").path
        let store = StateStore(path: statePath)
        try store.write(try Self.applied(configuration))
        let planPath = directory.appendingPathComponent("plan.json").path
        #expect(await run(["plan", "--stack", stack, "--state", statePath, "--no-refresh", "--out", planPath]).0 == 0)
        var written = try #require(try await store.load(for: configuration.stack))
        written.serial += 1
        try store.write(written)
        // no credentials in this environment: reaching the network would fail on them, not on the plan
        let (code, output) = await run(["apply", planPath])
        #expect(code == 2)
        #expect(output.stderr.contains("the saved plan is stale: the state was written since (serial 4, the plan's is 3)"), "\(output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: StateLock.lockPath(forState: statePath)))

        let text = try String(contentsOfFile: planPath, encoding: .utf8)
        try text.replacingOccurrences(of: "\"serial\" : 3", with: "\"serial\" : 4").write(toFile: planPath, atomically: true, encoding: .utf8)
        let (edited, editedOutput) = await run(["apply", planPath])
        #expect(edited == 2 && editedOutput.stderr.contains("does not match its checksum"), "\(editedOutput.stderr)")
        try "{\"format\": \"deploy.planfile/1\", \"act".write(toFile: planPath, atomically: true, encoding: .utf8)
        let (truncated, truncatedOutput) = await run(["apply", planPath])
        #expect(truncated == 2 && truncatedOutput.stderr.contains("is damaged or not a deploy plan"), "\(truncatedOutput.stderr)")
        #expect(!truncatedOutput.stderr.contains("DecodingError"))
    }

    @Test("a held lock stops plan with who holds it; unlock removes it")
    func locked() async throws {
        let (stack, directory) = try scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let statePath = directory.appendingPathComponent("state.json").path
        let info = LockInfo(id: "lock-42", operation: "apply", who: "alice", host: "ci-runner-3", pid: 4242, created: "2026-11-22T08:00:00Z")
        try JSONEncoder().encode(info).write(to: URL(fileURLWithPath: StateLock.lockPath(forState: statePath)))
        let (code, output) = await run(["plan", "--stack", stack, "--state", statePath])
        #expect(code == 1)
        #expect(output.stderr.contains("locked by alice on ci-runner-3, pid 4242, for apply since 2026-11-22T08:00:00Z"))
        // the hint works exactly as printed
        let hint = try #require(output.stderr.components(separatedBy: "remove the lock with: deploy ").last)
        let (hinted, hintedOutput) = await run(hint.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: " "))
        #expect(hinted == 0 && hintedOutput.stdout.contains("Removed the lock lock-42"), "\(hint) \(hintedOutput.stderr)")
        try JSONEncoder().encode(info).write(to: URL(fileURLWithPath: StateLock.lockPath(forState: statePath)))
        let (wrong, _) = await run(["unlock", "--state", statePath, "lock-41"])
        #expect(wrong == 1)
        let (unlocked, message) = await run(["unlock", "--state", statePath, "lock-42"])
        #expect(unlocked == 0 && message.stdout.contains("Removed the lock lock-42"))
        #expect(await run(["plan", "--stack", stack, "--state", statePath]).0 == 0)
    }

    @Test("graph prints DOT, or Mermaid with --mermaid")
    func graph() async {
        let stack = ShippedStack.path()
        let (code, dot) = await run(["graph", "--stack", stack])
        #expect(code == 0 && dot.stdout.hasPrefix("digraph \"private-inference\" {"))
        let (mermaidCode, mermaid) = await run(["graph", "--stack", stack, "--mermaid"])
        #expect(mermaidCode == 0 && mermaid.stdout.hasPrefix("flowchart RL"))
    }

    static var badCases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: badFixtures.appendingPathComponent("bad").path)) ?? []).sorted()
    }

    @Test("bad stacks exit 2 with file:line:column and write nothing", arguments: badCases)
    func bad(_ name: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-bad-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.badFixtures.appendingPathComponent("minimal"), to: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        let caseDirectory = Self.badFixtures.appendingPathComponent("bad/\(name)")
        let file = try FileManager.default.contentsOfDirectory(atPath: caseDirectory.path)[0]
        try FileManager.default.removeItem(at: directory.appendingPathComponent(file))
        try FileManager.default.copyItem(at: caseDirectory.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        let expected = try String(contentsOf: caseDirectory.appendingPathComponent(file), encoding: .utf8)
            .split(separator: "\n")[0].dropFirst("// expect: ".count)
        for command in ["validate", "plan", "graph"] {
            let (code, output) = await run([command, "--stack", directory.appendingPathComponent("stack.json5").path,
                                            "--templates", directory.path])
            #expect(code == 2)
            #expect(output.stderr.replacingOccurrences(of: directory.path + "/", with: "") == "error: \(expected)")
            #expect(output.stdout.isEmpty)
        }
        let (detailed, _) = await run(["plan", "--detailed-exitcode", "--stack", directory.appendingPathComponent("stack.json5").path,
                                       "--templates", directory.path])
        #expect(detailed == 1, "with --detailed-exitcode an error is 1, since 2 means changes")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(".deploy").path))
    }

    @Test("--stack is required and a missing file is one clear error")
    func missing() async {
        #expect(await run(["plan"]).1.stderr.hasPrefix("error: --stack <file> is required"))
        let (code, output) = await run(["validate", "--stack", "/nonexistent/s.json5"])
        #expect(code == 2 && output.stderr == "error: cannot read the stack file '/nonexistent/s.json5': no such file")
    }

    static func applied(_ configuration: StackConfiguration) throws -> State {
        var state = State(stack: configuration.stack.name, account: configuration.stack.account,
                          region: configuration.stack.region, lineage: "cli-lineage")
        var expander = Expander(configuration)
        _ = try expander.expand { desired in
            let computed = Dictionary(uniqueKeysWithValues: desired.schema.computed.map { ($0, Value.string("\($0)-\(desired.address)")) })
            state.record(ResourceState(address: desired.address, type: desired.type, id: "id-\(desired.address)",
                                       attributes: desired.properties.merging(computed) { _, new in new }))
            return computed
        }
        state.serial = 3
        return state
    }
}

/// `apply --phase`: one phase and what it needs from earlier phases, nothing else.
@Suite("apply --phase")
struct PhaseRestrictionTests {
    @Test("a phase brings exactly the earlier resources it depends on")
    func restrict() throws {
        let configuration = try StackConfiguration.load(
            stackPath: ShippedStack.path())
        let plan = try Planner(configuration: configuration, state: nil, stackDigest: "d").plan()
        let keys = Deployment.restrict(plan.actions, to: .keys).map(\.address.description)
        #expect(Set(keys) == Set(plan.actions(in: .keys).map(\.address.description)))
        let inference = Set(Deployment.restrict(plan.actions, to: .inference).map(\.address.description))
        #expect(inference.isSuperset(of: ["inference.node[0]", "network.private_subnet[0]", "network.vpc", "keys.node_profile",
                                          "keys.data_key", "storage.artifacts_bucket"]))
        #expect(!inference.contains("storage.trail") && !inference.contains("network.flow_log"))
    }
}
