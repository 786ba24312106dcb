import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Costs
import Stack
import DeployTestSupport

/// The cost model against examples worked by hand, the quoted single-A100 claim, the catalog, and the chart.
@Suite("break-even")
struct BreakEvenTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func inputs(in priceIn: Double = 2, out priceOut: Double = 10, hourly: Double, tps: Double, prompt: Double?, utilization: Double = 0.5,
                       base: Double = 0) -> BreakEvenInputs {
        var inputs = BreakEvenInputs(inputPerMillion: priceIn, outputPerMillion: priceOut, nodeHourly: hourly, outputTokensPerSecond: tps,
                                     promptTokensPerSecond: prompt)
        inputs.utilization = utilization
        inputs.baseMonthly = base
        return inputs
    }

    struct Worked: Sendable, CustomTestStringConvertible {
        var name: String
        var inputs: BreakEvenInputs
        var tokens: Double?
        var nodes: Int?
        var spend: Double?
        var testDescription: String { name }
    }

    // blended price with 3 input tokens per output token: (3 x 2 + 10) / 4 = $4 per million. A generated token costs
    // 1/generation seconds and brings 3 prompt tokens costing 3/prompt seconds.
    @Test("matches hand-worked examples", arguments: [
        // node $1,460 + base $40 = $1,500 -> 375M tokens; per generated token 1/200 + 3/1200 = 7.5 ms: 133.3 generated,
        // 533.3 in all per second; one node carries 533.3 x 3600 x 730 x 0.5 = 700.8M
        Worked(name: "fits on one node", inputs: inputs(hourly: 2, tps: 200, prompt: 1200, base: 40), tokens: 375e6, nodes: 1, spend: 1500),
        // per generated token 1/50 + 3/600 = 25 ms: 160 tokens a second, 210.24M a month per node (worth $840.96 against its
        // $730); n nodes cost $(730n + 1,000), worth (182.5n + 250)M tokens, which fit from 210.24n >= 182.5n + 250: n = 10,
        // $8,300 -> 2,075M tokens
        Worked(name: "capacity-limited: ten nodes", inputs: inputs(hourly: 1, tps: 50, prompt: 600, base: 1000), tokens: 2075e6, nodes: 10,
               spend: 8300),
        // $1 per million: per generated token 1/100 + 3/1000 = 13 ms, 307.7 tokens a second, 404.3M a month, worth
        // $404.31 at API prices, less than the node's $730
        Worked(name: "never breaks even", inputs: inputs(in: 1, out: 1, hourly: 1, tps: 100, prompt: 1000), tokens: nil, nodes: nil, spend: nil),
        // no measured prompt rate: 10 x generation, 2,000 a second; 1/200 + 3/2000 = 6.5 ms, 615.4 tokens a second,
        // 808.6M a month: one node still carries the 375M
        Worked(name: "prompt rate assumed", inputs: inputs(hourly: 2, tps: 200, prompt: nil, base: 40), tokens: 375e6, nodes: 1, spend: 1500),
    ])
    func worked(_ example: Worked) {
        let model = BreakEven(example.inputs)
        guard let tokens = example.tokens else {
            #expect(model.point == nil)
            return
        }
        let point = model.point
        #expect(abs((point?.tokens ?? 0) - tokens) < 1)
        #expect(point?.nodes == example.nodes)
        #expect(abs(model.apiCost(point?.tokens ?? 0) - (example.spend ?? 0)) < 0.01)
    }

    @Test("saving and payback at the current volume")
    func saving() {
        var inputs = Self.inputs(hourly: 2, tps: 200, prompt: 1200, base: 40)
        inputs.tokensPerMonth = 600e6
        inputs.upfront = 1800
        let model = BreakEven(inputs)
        #expect(abs(model.apiCost(600e6) - 2400) < 1e-6)
        #expect(model.nodesFor(600e6) == 1)
        #expect(abs(model.saving(600e6) - 900) < 1e-6)
        #expect(abs((model.paybackMonths ?? 0) - 2) < 1e-9)
        #expect(model.nodesFor(2.2e9) == 4, "2.2B tokens need four nodes of 700.8M")
    }

    @Test("a prompt-heavy workload needs the nodes its prompts take, which carrying prompts free hid")
    func promptHeavy() {
        // retrieval-augmented: 30 prompt tokens per generated one. Per generated token 1/100 + 30/1000 = 40 ms: 25
        // generated, 775 tokens in all a second, 1,018.3M a month at 50%. Counting prompts free, as this model did,
        // a node would carry 100 x 31 = 3,100 a second, 4,073.4M a month: one node for 3B tokens instead of three.
        var inputs = Self.inputs(hourly: 2, tps: 100, prompt: 1000)
        inputs.inputOutputRatio = 30
        let model = BreakEven(inputs)
        #expect(abs(model.outputTokensPerBusySecond - 25) < 1e-9)
        #expect(abs(model.capacityPerNode - 1018.35e6) < 1e3)
        #expect(model.nodesFor(3e9) == 3)
        inputs.promptTokensPerSecond = .infinity
        #expect(BreakEven(inputs).nodesFor(3e9) == 1, "with prompts free the same volume fits on one node")
    }

    @Test("the quoted claim: break-even near $2,000 a month of API spend with a single A100, and one A100 can serve it")
    func singleA100() throws {
        let catalog = try PriceCatalog.load(Self.repository.appendingPathComponent("Templates/pricing.json5").path)
        let a100 = try #require(catalog.instances["a100-single"])
        let gpt4o = try #require(catalog.apiModels["gpt-4o"])
        // 1,500 output tokens/s: an 8B-class model served with batching on one A100 (stated assumption)
        var inputs = BreakEvenInputs(inputPerMillion: gpt4o.inputPerMillion, outputPerMillion: gpt4o.outputPerMillion,
                                     nodeHourly: a100.hourly, outputTokensPerSecond: 1500)
        inputs.utilization = 0.6
        let model = BreakEven(inputs)
        let point = try #require(model.point)
        let spend = model.apiCost(point.tokens)
        #expect(abs(spend - 2000) < 5, "break-even spend \(spend)")
        #expect(point.nodes == 1)
        #expect(abs(point.tokens - 457.2e6) < 0.5e6, "\(point.tokens) tokens: $2,000 at gpt-4o's $4.375 per million blended")
        #expect(point.tokens < model.capacityPerNode, "one A100 at 1,500 tokens/s carries \(model.capacityPerNode) tokens a month")
    }

    @Test("the shipped catalog loads, and every entry names its source and date")
    func shippedCatalog() throws {
        let catalog = try PriceCatalog.load(Self.repository.appendingPathComponent("Templates/pricing.json5").path)
        #expect(catalog.apiModels.count >= 8 && catalog.instances.count >= 10)
        for name in ["gpt-4o", "gpt-4o-mini", "claude-3.5-sonnet", "llama-3.1-70b", "mistral-large-2", "qwen-2.5-72b", "deepseek-v2.5"] {
            #expect(catalog.apiModels[name] != nil, "\(name)")
        }
        for name in ["g5.xlarge", "g6.xlarge", "p4d.24xlarge", "p5.48xlarge", "a100-single", "h100-single"] { #expect(catalog.instances[name] != nil) }
        let origins = catalog.apiModels.values.map(\.origin) + catalog.instances.values.map(\.origin) + catalog.infrastructure.values.map(\.origin)
        #expect(origins.allSatisfy { !$0.source.isEmpty && !$0.date.isEmpty })
    }

    @Test("a bad catalog is one error with file:line:column", arguments: [
        ("{api_models: {x: {input_per_million: -1, output_per_million: 1, source: 's', date: 'd'}}}",
         "c.json5:1:38: 'input_per_million' must be more than zero, not -1"),
        ("{api_models: {x: {input_per_million: 1, output_per_million: 1, date: 'd'}}}", "c.json5:1:18: API model 'x' is missing 'source'"),
        ("{instances: {g: {hourly: 1, source: 's', date: 'd', gpus: 'one'}}}", "c.json5:1:59: 'gpus' must be an integer, found a string"),
        ("{instance: {}}", "c.json5:1:2: unknown key 'instance' in price catalog; did you mean 'instances'?"),
        ("{api_models: {x: {input_per_million: 1,\n output_per_million: 1 source: 's'}}}", "c.json5:2:24: expected ',' or '}' after the value of 'output_per_million', found 's'"),
    ])
    func badCatalog(_ text: String, _ expected: String) {
        #expect(throws: StackError.self) { try PriceCatalog.parse(text, file: "c.json5") }
        do { _ = try PriceCatalog.parse(text, file: "c.json5") } catch { #expect(error.description == expected) }
    }

    @Test("measured throughput from the serving benchmark, the inference server's bench JSON or llama-bench", arguments: [
        (#"{"generation_tokens_per_second": 42.5}"#, Throughput(generation: 42.5)),
        (#"{"format": "deploy.throughput/1", "clients": 16, "generation_tokens_per_second": 96.5, "prompt_tokens_per_second": 640}"#,
         Throughput(generation: 96.5, prompt: 640, clients: 16)),
        (#"{"pp": {"tokens_per_second": 900}, "tg": {"tokens_per_second": 31}}"#, Throughput(generation: 31, prompt: 900)),
        (#"[{"n_prompt": 512, "n_gen": 0, "avg_ts": 800.1}, {"n_prompt": 0, "n_gen": 128, "avg_ts": 27.25}]"#,
         Throughput(generation: 27.25, prompt: 800.1)),
        (#"[{"test": "pp128", "tokensPerSecond": 512.5, "threads": 2}, {"test": "tg64", "tokensPerSecond": 30.5, "threads": 2}]"#,
         Throughput(generation: 30.5, prompt: 512.5)),
    ])
    func throughput(_ text: String, _ expected: Throughput) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Throughput.read(path) == expected)
        try #"{"pp": 3}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: StackError.self) { try Throughput.read(path) }
    }

    @Test("the default stack's base infrastructure, priced item by item")
    func stackCost() throws {
        let catalog = try PriceCatalog.load(Self.repository.appendingPathComponent("Templates/pricing.json5").path)
        var expander = Expander(try StackConfiguration.load(stackPath: ShippedStack.path()))
        let lines = StackCost.lines(try expander.expand(), catalog: catalog, hoursPerMonth: 730)
        let byItem = Dictionary(uniqueKeysWithValues: lines.map { ($0.item, $0.monthly) })
        let endpoints: Double = byItem["interface endpoints"] ?? 0
        #expect(abs(endpoints - 87.6) < 1e-9, "six interface endpoints in two AZs, 730 h at $0.01")
        #expect(byItem["KMS keys"] == 1.0)
        let storage: Double = byItem["S3 storage"] ?? 0
        let volumes: Double = byItem["EBS gp3 volumes"] ?? 0
        let total: Double = lines.reduce(0) { $0 + $1.monthly }
        #expect(abs(storage - 6.9) < 1e-9, "three buckets")
        #expect(abs(volumes - 8) < 1e-9)
        #expect(abs(total - 106.25) < 1e-9)
    }

    final class SVGElements: NSObject, XMLParserDelegate {
        var elements: [(String, [String: String])] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append((name, attributes))
        }
    }

    @Test("the chart is well-formed SVG with both lines, labelled axes and the break-even point where the lines cross")
    func chart() throws {
        let model = BreakEven(Self.inputs(hourly: 2, tps: 200, prompt: 1200, base: 40))
        let svg = Chart.svg(model, title: "test")
        let parser = XMLParser(data: Data(svg.utf8))
        let elements = SVGElements()
        parser.delegate = elements
        #expect(parser.parse(), "well-formed XML")
        let ids = Set(elements.elements.compactMap { $0.1["id"] })
        #expect(ids.isSuperset(of: ["api", "self-hosted", "break-even"]))
        #expect(svg.contains("tokens per month (input and output)") && svg.contains("cost per month (USD)"))
        #expect(svg.contains("break-even: 375M tokens, $1,500/month"))
        // the marker sits on the API line: x at 375M of an 800M axis, y at $1,500 of a $4,000 axis (plot 740 x 390 from 90, 60)
        let circle = try #require(elements.elements.first { $0.1["id"] == "break-even" }?.1)
        let cx: Double = Double(circle["cx"] ?? "") ?? 0
        let cy: Double = Double(circle["cy"] ?? "") ?? 0
        let expectedX: Double = 90 + 375.0 / 800.0 * 740.0
        let expectedY: Double = 60 + 390 - 1500.0 / 4000.0 * 390.0
        #expect(abs(cx - expectedX) < 0.2)
        #expect(abs(cy - expectedY) < 0.2)
        let never = Chart.svg(BreakEven(Self.inputs(in: 1, out: 1, hourly: 1, tps: 100, prompt: 1000)), title: "never")
        #expect(never.contains("no break-even") && !never.contains("id=\"break-even\""))
    }

    @Test("labels", arguments: [(0.0, "0"), (5e4, "50k"), (2.5e6, "2.5M"), (457.2e6, "457M"), (9.46e9, "9.46B"), (12.3e9, "12.3B")])
    func labels(_ tokens: Double, _ text: String) {
        #expect(Chart.tokensLabel(tokens) == text)
        #expect(Chart.dollarsLabel(1234.4) == "$1,234" && Chart.dollarsLabel(250_000) == "$250k")
    }
}
