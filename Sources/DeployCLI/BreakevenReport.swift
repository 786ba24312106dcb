import Costs
import Deployment
import Foundation
import Stack

/// Resolves `deploy breakeven`'s flags against the catalog (and stack), and renders the answer with every assumption.
struct BreakevenReport {
    struct Assumption: Encodable {
        var name: String
        var value: String
        var source: String
    }

    struct Current: Encodable {
        var tokensPerMonth: Double
        var apiCost: Double
        var nodes: Int
        var selfHostedCost: Double
        var saving: Double
    }

    struct Document: Encodable {
        var selfHostedMonthlyCost: Double
        var breakEvenTokensPerMonth: Double?
        var breakEvenApiSpendPerMonth: Double?
        var nodesAtBreakEven: Int?
        var nodesNeeded: Int
        /// The instance type each node is (from --instance or the stack); nil with --gpu-hourly.
        var nodeType: String?
        /// The most nodes the stack's fleet may run (its `max`), when the stack has a fleet.
        var fleetMaximum: Int?
        var blendedPricePerMillion: Double
        var capacityPerNodeTokensPerMonth: Double
        var current: Current?
        var paybackMonths: Double?
        var baseInfrastructure: [StackCost.Line]
        var table: [BreakEven.Row]
        var assumptions: [Assumption]
    }

    var model: BreakEven
    var title: String
    var nodeType: String?
    var fleetMaximum: Int?
    var assumptions: [Assumption]
    var infrastructure: [StackCost.Line]

    /// The report for `options`, whose numbers are checked already.
    static func make(_ options: BreakevenCommand.Options) async throws -> BreakevenReport {
        let command = BreakevenCommand.name
        var expanded: ExpandedStack?
        var stack: StackConfiguration?
        if let path = options.stack {
            // the instance types and node count are what count: no state, and no artifact hashed
            let loaded = try await LoadedStack.load(StackSource(stackPath: path), readingState: false, hashingArtifacts: false)
            expanded = loaded.expanded
            stack = loaded.configuration
        }
        let catalogPath = options.catalog
            ?? stack.map { ($0.templatesDirectory as NSString).appendingPathComponent("pricing.json5") } ?? "Templates/pricing.json5"
        let catalog = try PriceCatalog.load(catalogPath)
        var assumptions: [Assumption] = []
        func cite(_ origin: PriceSource) -> String { "\(origin.source), \(origin.date)" }

        // the API
        let priceIn: Double, priceOut: Double
        var apiName = "the API"
        if let modelName = options.apiModel {
            guard let model = catalog.apiModels[modelName] else {
                throw UsageError(message: Suggestion.message("unknown API model '\(modelName)' (the catalog has \(catalog.apiModels.keys.sorted().joined(separator: ", ")))",
                                                             for: modelName, among: catalog.apiModels.keys), command: command)
            }
            (priceIn, priceOut, apiName) = (model.inputPerMillion, model.outputPerMillion, "the \(modelName) API")
            assumptions.append(Assumption(name: "API price", value: String(format: "$%.2f input / $%.2f output per million tokens (%@)",
                                                                           priceIn, priceOut, modelName), source: cite(model.origin)))
        } else {
            priceIn = options.apiPriceIn ?? 0
            priceOut = options.apiPriceOut ?? 0
            assumptions.append(Assumption(name: "API price", value: String(format: "$%.2f input / $%.2f output per million tokens", priceIn, priceOut),
                                          source: "given"))
        }
        // the node
        let stackNodes = expanded.flatMap(StackCost.nodes)
        let hourly: Double
        var nodeName = "a node"
        if let gpuHourly = options.gpuHourly {
            hourly = gpuHourly
            assumptions.append(Assumption(name: "node price", value: String(format: "$%.3f per hour", hourly), source: "given"))
        } else if let type = options.instance ?? stackNodes?.type {
            guard let instance = catalog.instances[type] else {
                throw UsageError(message: Suggestion.message("unknown instance '\(type)' (the catalog has \(catalog.instances.keys.sorted().joined(separator: ", ")))",
                                                             for: type, among: catalog.instances.keys), command: command)
            }
            hourly = instance.hourly
            nodeName = type
            assumptions.append(Assumption(name: "node price", value: String(format: "%@ at $%.3f per hour (%@)", type, hourly, instance.gpu),
                                          source: cite(instance.origin) + (options.instance == nil ? "; type from the stack" : "")))
        } else {
            throw UsageError(message: "say what a node costs: --instance TYPE, --gpu-hourly USD, or --stack FILE", command: command)
        }
        let throughput: Throughput
        if let file = options.throughputFrom {
            throughput = try Throughput.read(file)
            let clients = throughput.clients.map { ", \($0) clients together" } ?? ""
            assumptions.append(Assumption(name: "throughput", value: String(format: "%.1f generated tokens/s per node%@", throughput.generation, clients),
                                          source: "measured: \(file)"))
        } else {
            throughput = Throughput(generation: options.throughputTPS ?? 0)
            assumptions.append(Assumption(name: "throughput", value: String(format: "%.1f generated tokens/s per node", throughput.generation),
                                          source: "given"))
        }
        let prompt = options.promptTPS ?? throughput.prompt
        var inputs = BreakEvenInputs(inputPerMillion: priceIn, outputPerMillion: priceOut, nodeHourly: hourly,
                                     outputTokensPerSecond: throughput.generation, promptTokensPerSecond: prompt)
        assumptions.append(Assumption(name: "prompt processing", value: String(format: "%.1f prompt tokens/s per node", inputs.effectivePromptTokensPerSecond),
                                      source: options.promptTPS != nil ? "given" : prompt != nil ? "measured: \(options.throughputFrom ?? "")"
                                          : String(format: "assumed %.0fx generation (not measured; --prompt-tps)", BreakEvenInputs.assumedPromptSpeedup)))
        if let ratio = options.inputOutputRatio { inputs.inputOutputRatio = ratio }
        if let utilization = options.utilization { inputs.utilization = utilization }
        if let hours = options.hoursPerMonth { inputs.hoursPerMonth = hours }
        if let nodes = options.nodes {
            inputs.minimumNodes = nodes
        } else if let stackNodes {
            inputs.minimumNodes = stackNodes.count
        }
        inputs.operationsMonthly = options.opsPerMonth ?? 0
        inputs.upfront = options.upfront ?? 0
        var infrastructure: [StackCost.Line] = []
        if let expanded, let stack {
            infrastructure = StackCost.lines(expanded, catalog: catalog, hoursPerMonth: inputs.hoursPerMonth)
            inputs.baseMonthly = infrastructure.reduce(0) { $0 + $1.monthly }
            assumptions.append(Assumption(name: "base infrastructure", value: String(format: "$%.2f per month (stack %@: %@)", inputs.baseMonthly,
                                                                                     stack.stack.name, infrastructure.map(\.item).joined(separator: ", ")),
                                          source: "\(catalogPath); usage assumed: 100 GB per bucket, 1 GB per table, 5 GB flow logs per month"))
        }
        var model = BreakEven(inputs)
        if let tokens = options.tokensPerMonth {
            model.inputs.tokensPerMonth = tokens
        } else if let spend = options.apiSpendPerMonth {
            model.inputs.tokensPerMonth = spend / model.blendedPerMillion * 1_000_000
        }
        assumptions.append(Assumption(name: "workload", value: String(format: "%.2f input tokens per output token: $%.3f per million blended",
                                                                      inputs.inputOutputRatio, model.blendedPerMillion), source: "given or default 3"))
        assumptions.append(Assumption(name: "utilization", value: String(format: "%.0f%% of %.0f hours: %@ tokens per node per month",
                                                                         inputs.utilization * 100, inputs.hoursPerMonth,
                                                                         Chart.tokensLabel(model.capacityPerNode)), source: "given or default 60%, 730 h"))
        if inputs.operationsMonthly > 0 || inputs.upfront > 0 {
            assumptions.append(Assumption(name: "operations", value: String(format: "$%.2f per month, $%.2f upfront", inputs.operationsMonthly, inputs.upfront),
                                          source: "given"))
        }
        return BreakevenReport(model: model, title: "Self-hosting on \(nodeName) vs \(apiName)", nodeType: nodeName == "a node" ? nil : nodeName,
                               fleetMaximum: stackNodes?.maximum, assumptions: assumptions,
                               infrastructure: infrastructure)
    }

    var document: Document {
        let point = model.point
        let current = model.inputs.tokensPerMonth.map { tokens in
            Current(tokensPerMonth: tokens, apiCost: model.apiCost(tokens), nodes: model.nodesFor(tokens),
                    selfHostedCost: model.selfHostedCost(nodes: model.nodesFor(tokens)), saving: model.saving(tokens))
        }
        let nodes = current?.nodes ?? point?.nodes ?? model.inputs.minimumNodes
        return Document(selfHostedMonthlyCost: model.selfHostedCost(nodes: nodes), breakEvenTokensPerMonth: point?.tokens,
                        breakEvenApiSpendPerMonth: point.map { model.apiCost($0.tokens) }, nodesAtBreakEven: point?.nodes,
                        nodesNeeded: nodes, nodeType: nodeType, fleetMaximum: fleetMaximum, blendedPricePerMillion: model.blendedPerMillion, capacityPerNodeTokensPerMonth: model.capacityPerNode,
                        current: current, paybackMonths: model.paybackMonths, baseInfrastructure: infrastructure, table: model.table(),
                        assumptions: assumptions)
    }

    var text: String {
        let document = document
        var lines = [title, "", "Assumptions"]
        lines += TextTable.keyValue(assumptions.map { ("  \($0.name)", "\($0.value)  [\($0.source)]") }).split(separator: "\n").map(String.init)
        for line in infrastructure { lines.append(String(format: "    %@ (%@): $%.2f", line.item, line.quantity, line.monthly)) }
        lines += ["", "Answer"]
        if let tokens = document.breakEvenTokensPerMonth, let spend = document.breakEvenApiSpendPerMonth, let nodes = document.nodesAtBreakEven {
            lines.append("  Self-hosting breaks even at \(Chart.tokensLabel(tokens)) tokens per month, that is \(Chart.dollarsLabel(spend)) of API spend "
                + "per month, with \(nodes) node\(nodes == 1 ? "" : "s") (\(Chart.tokensLabel(Double(nodes) * model.capacityPerNode)) tokens of capacity).")
        } else {
            lines.append("  Self-hosting never breaks even: one node costs \(Chart.dollarsLabel(model.nodeMonthly)) a month, more than the "
                + "\(Chart.dollarsLabel(model.apiCost(model.capacityPerNode))) the API charges for the \(Chart.tokensLabel(model.capacityPerNode)) tokens it can serve.")
        }
        if let current = document.current {
            let verdict = current.saving >= 0 ? "saves \(Chart.dollarsLabel(current.saving))" : "costs \(Chart.dollarsLabel(-current.saving)) more"
            lines.append("  At your \(Chart.tokensLabel(current.tokensPerMonth)) tokens per month: the API costs \(Chart.dollarsLabel(current.apiCost)), "
                + "self-hosting on \(current.nodes) node\(current.nodes == 1 ? "" : "s")\(nodeType.map { " of \($0)" } ?? "") costs \(Chart.dollarsLabel(current.selfHostedCost)): "
                + "self-hosting \(verdict) a month.")
            if let maximum = fleetMaximum {
                lines.append(current.nodes > maximum
                    ? "  The fleet may run at most \(maximum) node\(maximum == 1 ? "" : "s"): raise its max to \(current.nodes) and its desired with it."
                    : "  Set the fleet's desired to \(current.nodes) (its max is \(maximum)); scaling adds nodes beyond it as the load needs.")
            }
            if let payback = document.paybackMonths { lines.append(String(format: "  The upfront cost is paid back in %.1f months.", payback)) }
        }
        lines += ["", "Monthly cost by volume"]
        var table = [["tokens/month", "API", "nodes", "self-hosted", "saving"]]
        for row in document.table {
            table.append([Chart.tokensLabel(row.tokensPerMonth), Chart.dollarsLabel(row.apiCost), String(row.nodes),
                          Chart.dollarsLabel(row.selfHostedCost), (row.saving < 0 ? "-" : "") + Chart.dollarsLabel(abs(row.saving))])
        }
        lines += TextTable.rows(table).split(separator: "\n").map { "  " + $0 }
        return lines.joined(separator: "\n")
    }
}
