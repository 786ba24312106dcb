import Foundation
import Testing
@testable import Plan
import Stack

/// Saved plans, the JSON plan document, the graph, and secrets kept out of all of them.
@Suite("plan files and rendering")
struct PlanFileTests {
    @Test("a saved plan is refused once the stack or the state moves on")
    func staleness() throws {
        let configuration = try PlanFixtures.configuration()
        let state = try PlanFixtures.applied(configuration)
        let plan = try PlanFixtures.plan(configuration, state: state)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PlanFile(plan: plan, stackFile: "Stacks/private-inference.json5", statePath: "s.json").write(to: path)
        let saved = try PlanFile.read(path)
        let digest = StackDigest.compute(configuration)
        try saved.checkCurrent(stackDigest: digest, state: state)
        var written = state
        written.serial += 1
        #expect(throws: PlanFile.StaleError.self) { try saved.checkCurrent(stackDigest: digest, state: written) }
        var other = state
        other.lineage = "someone-else"
        #expect(throws: PlanFile.StaleError.self) { try saved.checkCurrent(stackDigest: digest, state: other) }
        #expect(throws: PlanFile.StaleError.self) { try saved.checkCurrent(stackDigest: digest, state: nil) }
        var edited = configuration
        edited.stack.text += "\n// edited"
        #expect(throws: PlanFile.StaleError.self) {
            try saved.checkCurrent(stackDigest: StackDigest.compute(edited), state: state)
        }
        let first = PlanFile(plan: try PlanFixtures.plan(configuration, state: nil), stackFile: "s", statePath: "s.json")
        try first.checkCurrent(stackDigest: digest, state: nil)
        #expect(throws: PlanFile.StaleError.self) { try first.checkCurrent(stackDigest: digest, state: state) }
    }

    struct Damage: Sendable, CustomTestStringConvertible {
        var name: String
        var reason: String
        var damage: @Sendable (String) throws -> Void
        var testDescription: String { name }
    }

    static let damages: [Damage] = [
        Damage(name: "missing", reason: "does not exist") { try FileManager.default.removeItem(atPath: $0) },
        Damage(name: "a directory", reason: "is a directory") { path in
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        },
        Damage(name: "truncated", reason: "is damaged or not a deploy plan (not valid JSON)") { path in
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        },
        Damage(name: "empty", reason: "is damaged or not a deploy plan (not valid JSON)") { try Data().write(to: URL(fileURLWithPath: $0)) },
        Damage(name: "a key removed", reason: "is damaged or not a deploy plan ('stackDigest' is missing)") { path in
            try Self.edit(path) { $0.removeValue(forKey: "stackDigest") }
        },
        Damage(name: "an action edited", reason: "does not match its checksum: it was edited or damaged") { path in
            try Self.edit(path) { $0["actions"] = ["delete keys.data_key"] }
        },
        Damage(name: "the checksum removed", reason: "has no checksum") { path in try Self.edit(path) { $0.removeValue(forKey: "checksum") } },
        Damage(name: "another format", reason: "is a 'deploy.planfile/0' file") { path in try Self.edit(path) { $0["format"] = "deploy.planfile/0" } },
        Damage(name: "one byte flipped", reason: "does not match its checksum") { path in
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "\"serial\" : 7", with: "\"serial\" : 8").write(toFile: path, atomically: true, encoding: .utf8)
        },
    ]

    static func edit(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        change(&object)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
    }

    @Test("a damaged or edited plan file is refused with its true reason", arguments: damages)
    func damaged(_ damage: Damage) throws {
        let configuration = try PlanFixtures.configuration()
        let state = try PlanFixtures.applied(configuration)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PlanFile(plan: try PlanFixtures.plan(configuration, state: state), stackFile: "s.json5", statePath: "s.json").write(to: path)
        _ = try PlanFile.read(path)
        try damage.damage(path)
        #expect { _ = try PlanFile.read(path) } throws: { error in
            guard let damaged = error as? PlanFile.DamagedError else { return false }
            return damaged.description.contains(damage.reason)
        }
    }

    @Test("a saved plan names the stack, templates and state by absolute path")
    func absolutePaths() throws {
        let plan = try PlanFixtures.plan(try PlanFixtures.configuration(), state: nil)
        let file = PlanFile(plan: plan, stackFile: "Stacks/../Stacks/p.json5", templatesDirectory: "Templates", statePath: ".deploy/p.json")
        let here = FileManager.default.currentDirectoryPath
        #expect(file.stackFile == (here as NSString).appendingPathComponent("Stacks/p.json5"))
        #expect(file.templatesDirectory == (here as NSString).appendingPathComponent("Templates"))
        #expect(file.statePath == (here as NSString).appendingPathComponent(".deploy/p.json"))
    }

    @Test("the JSON plan document has the documented shape")
    func document() throws {
        let configuration = try PlanFixtures.configuration()
        var state = try PlanFixtures.applied(configuration)
        state.set("keys.data_key", "enable_key_rotation", .bool(false))
        let plan = try PlanFixtures.plan(configuration, state: state)
        let data = try JSONEncoder().encode(PlanDocument(plan))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["format"] as? String == "deploy.plan/1")
        let summary = try #require(json["summary"] as? [String: Int])
        #expect(summary["change"] == 1 && summary["add"] == 0 && summary["unchanged"] == plan.actions.count - 1)
        let phases = try #require(json["phases"] as? [[String: Any]])
        #expect(phases.map { $0["name"] as? String } == ["network", "keys", "storage", "inference"])
        let keys = try #require(phases[1]["actions"] as? [[String: Any]])
        let key = try #require(keys.first { $0["address"] as? String == "keys.data_key" })
        #expect(key["action"] as? String == "update")
        let change = try #require((key["changes"] as? [[String: Any]])?.first)
        #expect(change["attribute"] as? String == "enable_key_rotation")
        #expect(change["before"] as? Bool == false && change["after"] as? Bool == true)
        #expect((json["stack"] as? [String: String])?["digest"]?.hasPrefix("sha256:") == true)
        #expect((json["state"] as? [String: Any])?["serial"] as? Int == 7)
    }

    @Test("sensitive values never reach the text plan, the JSON plan or the saved plan")
    func sensitive() throws {
        let stack = try StackFile.parse("""
            {name: 'sec', account: '123456789012', region: 'eu-west-1',
             phases: {inference: {token: 'hunter2-very-secret'}}}
            """, file: "sec.json5")
        let empty = { (phase: Phase) in try Template.parse("{phase: '\(phase.rawValue)'}", file: "\(phase.rawValue).json5", phase: phase) }
        let inference = try Template.parse("""
            {phase: 'inference',
             parameters: {token: {type: 'string', sensitive: true}},
             resources: {node: {type: 'aws.ec2.instance', properties: {
               ami: 'ami-12345678', instance_type: 't3.micro', subnet_id: 'subnet-1',
               user_data: 'API_KEY=${param.token}'}}},
             outputs: {token_echo: '${param.token}'}}
            """, file: "inference.json5", phase: .inference)
        let configuration = try StackConfiguration(stack: stack, templates: [try empty(.network), try empty(.keys), try empty(.storage), inference])
        var applied = try PlanFixtures.applied(configuration)
        applied.set("inference.node", "user_data", .string("API_KEY=old-secret-value"))
        for state in [nil, applied] {
            let plan = try PlanFixtures.plan(configuration, state: state)
            let text = PlanText.render(plan)
            let json = String(decoding: try JSONEncoder().encode(PlanDocument(plan)), as: UTF8.self)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).json").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try PlanFile(plan: plan, stackFile: "sec.json5", statePath: "s.json").write(to: path)
            let saved = try String(contentsOfFile: path, encoding: .utf8)
            for output in [text, json, saved] {
                #expect(!output.contains("hunter2"))
                #expect(!output.contains("old-secret"))
            }
            #expect(text.contains("(sensitive)"))
        }
    }

    @Test("the graph has one node per resource and an edge per dependency")
    func graph() throws {
        let configuration = try PlanFixtures.configuration()
        var expander = Expander(configuration)
        let nodes = GraphRendering.nodes(try expander.expand())
        let dot = GraphRendering.dot(nodes, stack: "private-inference")
        #expect(dot.hasPrefix("digraph \"private-inference\" {"))
        #expect(dot.contains("subgraph \"cluster_network\""))
        #expect(dot.contains("\"network.private_subnet[1]\" -> \"network.vpc\";"))
        #expect(dot.contains("\"inference.node[0]\" -> \"keys.node_profile\";"))
        let edges = nodes.reduce(0) { $0 + $1.dependencies.count }
        #expect(dot.components(separatedBy: " -> ").count - 1 == edges)
        let mermaid = GraphRendering.mermaid(nodes)
        #expect(mermaid.hasPrefix("flowchart RL"))
        #expect(mermaid.contains("network_private_subnet_1_ --> network_vpc"))
    }
}
