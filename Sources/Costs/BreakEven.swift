import Foundation

/// The inputs of a break-even calculation, each already resolved from flags or the catalog.
public struct BreakEvenInputs: Sendable {
    /// API prices per million input and output tokens.
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    /// Input tokens per output token in the workload (prompts are usually longer than answers).
    public var inputOutputRatio: Double = 3
    /// What one node costs per hour.
    public var nodeHourly: Double
    /// The fewest nodes to run (high availability may want two).
    public var minimumNodes: Int = 1
    /// Generated (output) tokens per second one node sustains, all its clients together.
    public var outputTokensPerSecond: Double
    /// Prompt tokens per second one node processes, all its clients together; nil: not measured, taken as
    /// `assumedPromptSpeedup` times the generation rate. A node's time goes to both: each generated token costs
    /// `1 / outputTokensPerSecond` seconds and brings `inputOutputRatio` prompt tokens that cost theirs.
    public var promptTokensPerSecond: Double?
    /// The share of the month a node is busy, in (0, 1].
    public var utilization: Double = 0.6
    public var hoursPerMonth: Double = 730
    /// The stack's base infrastructure, per month.
    public var baseMonthly: Double = 0
    /// People and tooling to run it, per month.
    public var operationsMonthly: Double = 0
    /// One-time cost (setup, migration), paid back by monthly savings.
    public var upfront: Double = 0
    /// The user's current volume, total tokens per month, when known.
    public var tokensPerMonth: Double?

    public init(inputPerMillion: Double, outputPerMillion: Double, nodeHourly: Double, outputTokensPerSecond: Double,
                promptTokensPerSecond: Double? = nil) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.nodeHourly = nodeHourly
        self.outputTokensPerSecond = outputTokensPerSecond
        self.promptTokensPerSecond = promptTokensPerSecond
    }

    /// How much faster than generation prompt processing is taken to be when it was not measured: a prompt is
    /// processed in batches of tokens, each generated token needs a pass of its own (llama.cpp's and this server's
    /// benchmarks put the ratio between 5 and 30 on CPUs).
    public static let assumedPromptSpeedup = 10.0

    /// The prompt rate used: the measured one, or the assumed multiple of the generation rate.
    public var effectivePromptTokensPerSecond: Double { promptTokensPerSecond ?? outputTokensPerSecond * Self.assumedPromptSpeedup }
}

/// Self-hosting against paying per token: costs, capacity, and where the lines cross.
public struct BreakEven: Sendable {
    public var inputs: BreakEvenInputs

    public init(_ inputs: BreakEvenInputs) {
        self.inputs = inputs
    }

    /// Dollars per million tokens of the workload's mix.
    public var blendedPerMillion: Double {
        (inputs.inputOutputRatio * inputs.inputPerMillion + inputs.outputPerMillion) / (inputs.inputOutputRatio + 1)
    }

    /// What the API charges for `tokens` (input and output together) a month.
    public func apiCost(_ tokens: Double) -> Double { tokens / 1_000_000 * blendedPerMillion }

    /// Generated tokens one node sustains per busy second once the prompts that come with them are processed too:
    /// each costs its own generation time and its share of prompt time.
    public var outputTokensPerBusySecond: Double {
        1 / (1 / inputs.outputTokensPerSecond + inputs.inputOutputRatio / inputs.effectivePromptTokensPerSecond)
    }

    /// Tokens (input and output together) one node carries a month.
    public var capacityPerNode: Double {
        outputTokensPerBusySecond * 3600 * inputs.hoursPerMonth * inputs.utilization * (1 + inputs.inputOutputRatio)
    }

    public var nodeMonthly: Double { inputs.nodeHourly * inputs.hoursPerMonth }

    /// What `nodes` nodes cost a month, with the base infrastructure and operations.
    public func selfHostedCost(nodes: Int) -> Double {
        Double(nodes) * nodeMonthly + inputs.baseMonthly + inputs.operationsMonthly
    }

    /// The nodes needed to carry `tokens` a month.
    public func nodesFor(_ tokens: Double) -> Int {
        max(inputs.minimumNodes, Int((tokens / capacityPerNode).rounded(.up)))
    }

    /// The volume where self-hosting starts to cost no more than the API, and the nodes it needs there;
    /// nil when each node costs more than the API would charge for all the tokens it can serve.
    public var point: (tokens: Double, nodes: Int)? {
        var nodes = inputs.minimumNodes
        while nodes <= 100_000 {
            let tokens = selfHostedCost(nodes: nodes) / blendedPerMillion * 1_000_000
            if tokens <= Double(nodes) * capacityPerNode { return (tokens, nodes) }
            // one more node adds its cost but also its capacity; if its capacity is worth less than its cost at API
            // prices, the gap never closes
            if capacityPerNode / 1_000_000 * blendedPerMillion <= nodeMonthly { return nil }
            nodes += 1
        }
        return nil
    }

    /// The monthly saving at `tokens` (negative: self-hosting costs more).
    public func saving(_ tokens: Double) -> Double { apiCost(tokens) - selfHostedCost(nodes: nodesFor(tokens)) }

    /// Months until `upfront` is paid back at the current volume, when self-hosting saves anything.
    public var paybackMonths: Double? {
        guard let volume = inputs.tokensPerMonth, inputs.upfront > 0 else { return nil }
        let monthly = saving(volume)
        return monthly > 0 ? inputs.upfront / monthly : nil
    }

    /// One row of the comparison table.
    public struct Row: Sendable, Codable, Equatable {
        public var tokensPerMonth: Double
        public var apiCost: Double
        public var nodes: Int
        public var selfHostedCost: Double
        public var saving: Double
    }

    /// The comparison at volumes around the break-even point (or the current volume when there is none).
    public func table() -> [Row] {
        let center = point?.tokens ?? inputs.tokensPerMonth ?? capacityPerNode
        var volumes = [0.1, 0.25, 0.5, 1, 2, 4, 8].map { $0 * center }
        if let current = inputs.tokensPerMonth, !volumes.contains(current) { volumes.append(current) }
        return volumes.sorted().map { tokens in
            Row(tokensPerMonth: tokens, apiCost: apiCost(tokens), nodes: nodesFor(tokens),
                selfHostedCost: selfHostedCost(nodes: nodesFor(tokens)), saving: saving(tokens))
        }
    }
}
