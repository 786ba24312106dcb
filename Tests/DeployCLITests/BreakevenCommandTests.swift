import Foundation
import Testing
@testable import DeployCLI
import DeployTestSupport

/// `deploy breakeven` through the command line: the JSON answer, the text's assumptions, and bad input.
@Suite("deploy breakeven")
struct BreakevenCommandTests {
    static let catalog = StackCommandTests.repository.appendingPathComponent("Templates/pricing.json5").path

    func run(_ arguments: [String]) async -> (Int32, CommandLineTests.Captured) {
        await CommandLineTests().run(["breakeven", "--catalog", Self.catalog] + arguments)
    }

    @Test("JSON has the documented keys, with the stack's base infrastructure and node count")
    func json() async throws {
        let stack = ShippedStack.path()
        let (code, output) = await run(["--api-model", "gpt-4o", "--throughput-tps", "1500", "--stack", stack, "--instance", "a100-single",
                                        "--tokens-per-month", "1e9", "--output", "json"])
        #expect(code == 0, "\(output.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        for key in ["selfHostedMonthlyCost", "breakEvenTokensPerMonth", "breakEvenApiSpendPerMonth", "nodesNeeded", "assumptions"] {
            #expect(document[key] != nil, "\(key)")
        }
        let spend = try #require(document["breakEvenApiSpendPerMonth"] as? Double)
        #expect(abs(spend - (2.74 * 730 + 106.25)) < 0.01, "one A100 plus the default stack's $106.25 of base infrastructure")
        let assumptions = try #require(document["assumptions"] as? [[String: String]])
        #expect(assumptions.contains { $0["name"] == "base infrastructure" && $0["value"]?.contains("private-inference") == true })
        #expect(assumptions.contains { $0["name"] == "API price" && $0["source"] == "OpenAI API pricing page, 2024-10" })
    }

    @Test("with a stack and a volume: how many nodes of the stack's type, counting the prompts a prompt-heavy workload brings")
    func fleetSize() async throws {
        // a generated token costs 1/100 s and brings 20 prompt tokens at 1/800 s each: 28.57 generated, 600 tokens in
        // all a second, 946.08M a month at 60%; 5B tokens need 6 nodes (prompts counted free, 2,000 a second: 2 nodes)
        let (code, output) = await run(["--api-model", "gpt-4o", "--stack", ShippedStack.path(), "--throughput-tps", "100",
                                        "--prompt-tps", "800", "--input-output-ratio", "20", "--tokens-per-month", "5e9"])
        #expect(code == 0, "\(output.stderr)")
        let type = try #require(output.stdout.split(separator: "\n").first?.split(separator: " ").dropFirst(2).first.map(String.init))
        #expect(output.stdout.contains("self-hosting on 6 nodes of \(type) costs"), "\(output.stdout)")
        #expect(output.stdout.contains("800.0 prompt tokens/s per node  [given]"))
        let (_, json) = await run(["--api-model", "gpt-4o", "--stack", ShippedStack.path(), "--throughput-tps", "100",
                                   "--prompt-tps", "800", "--input-output-ratio", "20", "--tokens-per-month", "5e9", "--output", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["nodesNeeded"] as? Int == 6 && document["nodeType"] as? String == type)
    }

    @Test("with the fleet stack: its launch template's type, its fewest nodes as the floor, its load balancer priced, and its max weighed")
    func fleetStack() async throws {
        // as above, 946.08M tokens a month per node: 1B needs 2 nodes (the fleet's min), 10B needs 11, past its max of 6
        let arguments = ["--api-model", "gpt-4o", "--stack", ShippedStack.path("fleet"), "--throughput-tps", "100", "--prompt-tps", "800",
                         "--input-output-ratio", "20"]
        let (code, output) = await run(arguments + ["--tokens-per-month", "1e9"])
        #expect(code == 0, "\(output.stderr)")
        #expect(output.stdout.contains("self-hosting on 2 nodes of c7i.2xlarge costs"), "\(output.stdout)")
        #expect(output.stdout.contains("Set the fleet's desired to 2 (its max is 6)"))
        #expect(output.stdout.contains("network load balancers (1 x 730 h, 1 LCU): $22.78"), "0.0252 + 0.006 an hour")
        #expect(output.stdout.contains("EBS gp3 volumes (200 GB)"), "two nodes' 100 GB volumes")
        let (_, over) = await run(arguments + ["--tokens-per-month", "1e10"])
        #expect(over.stdout.contains("self-hosting on 11 nodes of c7i.2xlarge") && over.stdout.contains("raise its max to 11"), "\(over.stdout)")
        let (_, json) = await run(arguments + ["--tokens-per-month", "1e10", "--output", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["nodesNeeded"] as? Int == 11 && document["nodeType"] as? String == "c7i.2xlarge" && document["fleetMaximum"] as? Int == 6)
    }

    @Test("text states every assumption and where it came from, and the chart is written")
    func text() async throws {
        let chart = FileManager.default.temporaryDirectory.appendingPathComponent("chart-\(UUID().uuidString).svg").path
        defer { try? FileManager.default.removeItem(atPath: chart) }
        let (code, output) = await run(["--api-price-in", "2", "--api-price-out", "10", "--gpu-hourly", "2", "--throughput-tps", "200",
                                        "--utilization", "0.5", "--ops-per-month", "40", "--chart", chart])
        #expect(code == 0, "\(output.stderr)")
        #expect(output.stdout.contains("Self-hosting breaks even at 375M tokens per month, that is $1,500 of API spend per month, with 1 node"))
        for name in ["API price", "node price", "throughput", "workload", "utilization", "operations"] { #expect(output.stdout.contains(name)) }
        #expect(output.stdout.contains("[given]"))
        #expect(FileManager.default.fileExists(atPath: chart))
    }

    @Test("bad input is one clear error, exit 2", arguments: [
        (["--api-model", "gpt4o", "--instance", "g5.xlarge", "--throughput-tps", "40"], "unknown API model 'gpt4o'", "did you mean 'gpt-4o'?"),
        (["--api-model", "gpt-4o", "--instance", "g5.xlarg", "--throughput-tps", "40"], "unknown instance 'g5.xlarg'", "did you mean 'g5.xlarge'?"),
        (["--api-model", "gpt-4o", "--instance", "g5.xlarge", "--throughput-tps", "-5"], "--throughput-tps must be more than zero, not -5", ""),
        (["--api-model", "gpt-4o", "--instance", "g5.xlarge", "--throughput-tps", "0"], "--throughput-tps must be more than zero, not 0", ""),
        (["--api-model", "gpt-4o", "--instance", "g5.xlarge", "--throughput-tps", "fast"], "--throughput-tps must be a number, not 'fast'", ""),
        (["--api-model", "gpt-4o", "--instance", "g5.xlarge", "--throughput-tps", "40", "--utilization", "1.5"], "--utilization must be in (0, 1]", ""),
        (["--api-model", "gpt-4o", "--instance", "g5.xlarge", "--throughput-tps", "40", "--utilization", "0"], "--utilization must be more than zero", ""),
        (["--api-model", "gpt-4o", "--instance", "g5.xlarge", "--throughput-tps", "40", "--nodes", "0"], "--nodes must be a whole number of at least 1", ""),
        (["--api-model", "gpt-4o", "--api-price-in", "1", "--instance", "g5.xlarge", "--throughput-tps", "40"], "give --api-model or --api-price-in, not both", ""),
        (["--api-model", "gpt-4o", "--instance", "g5.xlarge"], "--throughput-tps N or --throughput-from FILE", ""),
        (["--api-model", "gpt-4o", "--throughput-tps", "40"], "--instance TYPE, --gpu-hourly USD, or --stack FILE", ""),
    ])
    func bad(_ arguments: [String], _ message: String, _ suggestion: String) async {
        let (code, output) = await run(arguments)
        #expect(code == 2)
        #expect(output.stderr.hasPrefix("error: ") && output.stderr.contains(message), "\(output.stderr)")
        if !suggestion.isEmpty { #expect(output.stderr.contains(suggestion)) }
        #expect(output.stdout.isEmpty)
    }

    @Test("a catalog that does not parse is reported with file:line:column, exit 2")
    func badCatalog() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString).json5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{\n  api_models: {\n    x: { input_per_million: 1 output_per_million: 2 },\n  },\n}".write(toFile: path, atomically: true, encoding: .utf8)
        let (code, output) = await CommandLineTests().run(["breakeven", "--catalog", path, "--api-model", "x", "--gpu-hourly", "1",
                                                           "--throughput-tps", "10"])
        #expect(code == 2)
        #expect(output.stderr == "error: \(path):3:31: expected ',' or '}' after the value of 'input_per_million', found 'o'")
    }
}
