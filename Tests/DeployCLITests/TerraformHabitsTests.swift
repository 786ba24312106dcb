import Foundation
import Testing
@testable import DeployCLI
@testable import Plan
import Stack
import DeployTestSupport

/// What a Terraform user reaches for: state list/show/rm, taint/untaint, output NAME --raw, version, graph and
/// errors as JSON, flags that a command would ignore refused, no command a non-zero exit.
@Suite("terraform habits", .serialized)
struct TerraformHabitsTests {
    func run(_ arguments: [String]) async -> (Int32, CommandLineTests.Captured) {
        await CommandLineTests().run(arguments)
    }

    /// A scratch copy of the default stack with an applied state beside it.
    func applied() throws -> (stack: String, state: String, directory: URL) {
        let (stack, directory) = try StackCommandTests().scratchStack()
        let configuration = try StackConfiguration.load(stackPath: stack)
        var state = try StackCommandTests.applied(configuration)
        state.outputs = ["network.vpc_id": .string("vpc-123"), "network.subnet_ids": .list([.string("subnet-a"), .string("subnet-b")]),
                         "inference.inference_port": .int(8080), "storage.tags": .map(["a": .string("b")])]
        let keyAddress = try #require(ResourceAddress("keys.data_key"))
        var key = try #require(state.resource(keyAddress))
        key.attributes["policy"] = .string("secret-policy-text")
        key.sensitive = ["policy"]
        state.record(key)
        let statePath = directory.appendingPathComponent("state.json").path
        try StateStore(path: statePath).write(state)
        return (stack, statePath, directory)
    }

    @Test("state list, show and rm")
    func stateCommands() async throws {
        let (stack, state, directory) = try applied()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (code, list) = await run(["state", "list", "--stack", stack, "--state", state])
        #expect(code == 0)
        let addresses = list.stdout.split(separator: "\n").map(String.init)
        #expect(addresses.count == 49 && addresses.first?.hasPrefix("network.") == true && addresses.last == "inference.node[0]", "in phase order")
        let (_, json) = await run(["state", "list", "--stack", stack, "--state", state, "--output", "json"])
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(listed.count == 49 && listed.allSatisfy { $0["status"] as? String == "created" })

        let (showCode, show) = await run(["state", "show", "keys.data_key", "--stack", stack, "--state", state])
        #expect(showCode == 0 && show.stdout.contains("aws.kms.key") && show.stdout.contains("policy"))
        #expect(!show.stdout.contains("secret-policy-text"), "sensitive attributes stay hidden")
        let (_, showJSON) = await run(["state", "show", "keys.data_key", "--stack", stack, "--state", state, "--output", "json"])
        #expect(!showJSON.stdout.contains("secret-policy-text") && showJSON.stdout.contains("\"sensitive\""))
        let (missing, missingOutput) = await run(["state", "show", "network.vpcc", "--stack", stack, "--state", state])
        #expect(missing == 2 && missingOutput.stderr.contains("did you mean 'network.vpc'?"))

        let (rm, removed) = await run(["state", "rm", "inference.node[0]", "--stack", stack, "--state", state])
        #expect(rm == 0 && removed.stdout.contains("still exists in the account"))
        let after = try #require(try StateStore(path: state).load())
        let node = try #require(ResourceAddress("inference.node[0]"))
        #expect(after.resource(node) == nil && after.resources.count == 48)
        #expect(after.serial == 4)
        #expect(await run(["state", "rm", "inference.node[0]", "--stack", stack, "--state", state]).0 == 2)
        #expect(await run(["state", "nonsense", "--stack", stack]).0 == 2)
    }

    @Test("taint marks for replacement, untaint takes it back; plan shows it")
    func taint() async throws {
        let (stack, state, directory) = try applied()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (code, output) = await run(["taint", "network.vpc", "--stack", stack, "--state", state])
        #expect(code == 0 && output.stdout.contains("the next apply replaces it"))
        let vpc = try #require(ResourceAddress("network.vpc"))
        #expect(try StateStore(path: state).load()?.resource(vpc)?.status == .tainted)
        let (_, plan) = await run(["plan", "--stack", stack, "--state", state, "--no-refresh"])
        #expect(plan.stdout.contains("-/+ network.vpc"), "\(plan.stdout)")
        #expect(await run(["taint", "network.vpc", "--stack", stack, "--state", state]).1.stdout.contains("already tainted"))
        #expect(await run(["untaint", "network.vpc", "--stack", stack, "--state", state]).0 == 0)
        #expect(try StateStore(path: state).load()?.resource(vpc)?.status == .created)
        #expect(await run(["taint", "network.nothing", "--stack", stack, "--state", state]).0 == 2)
    }

    @Test("output NAME prints one value; --raw prints it bare for scripts")
    func output() async throws {
        let (stack, state, directory) = try applied()
        defer { try? FileManager.default.removeItem(at: directory) }
        func value(_ extra: [String]) async -> (Int32, String) {
            let (code, output) = await run(["output", "--stack", stack, "--state", state] + extra)
            return (code, code == 0 ? output.stdout : output.stderr)
        }
        #expect(await value(["network.vpc_id"]) == (0, "\"vpc-123\""))
        #expect(await value(["network.vpc_id", "--raw"]) == (0, "vpc-123"))
        #expect(await value(["network.subnet_ids", "--raw"]) == (0, "subnet-a\nsubnet-b"))
        #expect(await value(["inference.inference_port", "--raw"]) == (0, "8080"))
        #expect(await value(["network.subnet_ids", "--output", "json"]).1.contains("\"subnet-a\""))
        #expect(await value(["storage.tags", "--raw"]).0 == 2)
        #expect(await value(["network.vpc", "--raw"]).1.contains("did you mean 'network.vpc_id'?"))
        #expect(await value(["--raw"]).0 == 2)
    }

    @Test("version, no command, graph as JSON, errors as JSON, flags a command would ignore")
    func surface() async throws {
        let (versionCode, version) = await run(["version"])
        #expect(versionCode == 0 && version.stdout == "deploy \(DeployCLI.version)")
        #expect(await run(["version", "--output", "json"]).1.stdout.contains("\"version\" : \"\(DeployCLI.version)\""))
        let (none, noneOutput) = await run([])
        #expect(none == 2 && noneOutput.stdout.isEmpty && noneOutput.stderr.contains("USAGE: deploy <command>"))

        let stack = ShippedStack.path()
        let (graphCode, graph) = await run(["graph", "--stack", stack, "--output", "json"])
        #expect(graphCode == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(graph.stdout.utf8)) as? [String: Any])
        let nodes = try #require(document["nodes"] as? [[String: Any]])
        #expect(document["format"] as? String == "deploy.graph/1" && nodes.count == 49)
        #expect(nodes.contains { $0["address"] as? String == "network.private_subnet[0]" && ($0["dependencies"] as? [String])?.contains("network.vpc") == true })

        let (errorCode, error) = await run(["validate", "--stack", "/nonexistent.json5", "--output", "json"])
        #expect(errorCode == 2)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(error.stderr.utf8)) as? [String: [String: Any]])
        #expect(object["error"]?["message"] as? String == "cannot read the stack file '/nonexistent.json5': no such file")
        #expect(object["error"]?["exitCode"] as? Int == 2 && object["error"]?["kind"] as? String == "usage")
        #expect(object["error"]?["location"] == nil, "an unreadable file has no line to point at")
        let (usageCode, usage) = await run(["validate", "--bogus", "--output=json"])
        let usageObject = try #require(try JSONSerialization.jsonObject(with: Data(usage.stderr.utf8)) as? [String: [String: Any]])
        #expect(usageCode == 2 && usageObject["error"]?["hint"] as? String == "See 'deploy validate --help'.", "\(usage.stderr)")
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).json5")
        try "{\n  name: \"x\",\n  oops\n}\n".write(to: broken, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: broken) }
        let (stackCode, stackError) = await run(["validate", "--stack", broken.path, "--output", "json"])
        let located = try #require(try JSONSerialization.jsonObject(with: Data(stackError.stderr.utf8)) as? [String: [String: Any]])
        let place = try #require(located["error"]?["location"] as? [String: Any], "\(stackError.stderr)")
        let line = try #require(place["line"] as? Int)
        #expect(stackCode == 2 && place["file"] as? String == broken.path && (3...4).contains(line), "\(place)")
        #expect((located["error"]?["message"] as? String)?.hasPrefix("\(broken.path):\(line):") == true, "the same place as the text names")

        for (arguments, flag) in [(["validate", "--stack", stack, "--profile", "p"], "--profile"),
                                  (["graph", "--stack", stack, "--region", "eu-west-1"], "--region"),
                                  (["unlock", "--stack", stack, "x", "--output", "text"], "--output"),
                                  (["permissions", "--stack", stack, "--debug"], "--debug")] {
            let (code, output) = await run(arguments)
            #expect(code == 2 && output.stderr.hasPrefix("error: unknown option '\(flag)'"), "\(arguments): \(output.stderr)")
        }
        let (_, validateHelp) = await run(["validate", "--help"])
        #expect(!validateHelp.stdout.contains("--profile") && !validateHelp.stdout.contains("--endpoint-url"))
        #expect(validateHelp.stdout.contains("--output"))
        let (_, applyHelp) = await run(["apply", "--help"])
        #expect(applyHelp.stdout.contains("--profile") && applyHelp.stdout.contains("--output"))
    }

    @Test("under --output json nothing can be confirmed, so apply and destroy need --auto-approve; their errors are JSON")
    func jsonNeedsApproval() async throws {
        func ask(_ arguments: [String]) throws {
            let parsed = try ApplyCommand.parse(arguments)
            try Confirmation.ask("Apply?", autoApprove: parsed.options.autoApprove,
                                 CommandContext(options: parsed.global, environment: [:], console: CommandLineTests.Captured().console))
        }
        #expect { try ask(["--output", "json"]) } throws: { error in
            (error as? UsageError)?.message.contains("--output json reports events and cannot ask for confirmation") == true
        }
        try ask(["--output", "json", "--auto-approve"])

        let (stack, state, directory) = try applied()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (applyCode, apply) = await run(["apply", "--stack", stack, "--state", state, "--output", "json", "--no-refresh"])
        #expect(applyCode == 2)
        #expect((try? JSONSerialization.jsonObject(with: Data(apply.stderr.utf8))) != nil, "errors under --output json are JSON: \(apply.stderr)")
    }

    @Test("plan symbols are coloured only when asked; NO_COLOR and pipes keep them plain")
    func colour() throws {
        let configuration = try StackConfiguration.load(stackPath: ShippedStack.path())
        let plan = try Planner(configuration: configuration, state: nil, stackDigest: "d").plan()
        #expect(PlanText.render(plan, colour: true).contains("\u{1B}[32m+\u{1B}[0m network.vpc"))
        #expect(!PlanText.render(plan).contains("\u{1B}"))
        let console = Console.standard(environment: ["NO_COLOR": "1", "TERM": "xterm"])
        #expect(!console.colourOut && !console.colourErr)
        let piped = Console.standard(environment: ["TERM": "xterm"])
        #expect(piped.colourOut == (isatty(STDOUT_FILENO) == 1))
    }
}
