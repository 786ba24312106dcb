import Costs
import Foundation
import Stack

/// `deploy breakeven`: at what API spend self-hosting pays off, for the user's own numbers and stack.
struct BreakevenCommand: Command {
    static let name = "breakeven"
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Tell at what API spend self-hosting pays off, before anything is provisioned."
    static let discussion = """
        Self-hosted monthly cost = nodes x hourly price x hours + the stack's base infrastructure + operations. A node \
        carries output tokens/s x seconds x utilization, plus the prompt tokens that come with them at the workload's \
        input:output ratio. The API charges input and output tokens at their prices. Prices come from \
        Templates/pricing.json5 (or --catalog) and every one is shown with its source.
        """

    struct Options: CommandOptions {
        var apiModel: String?
        var apiPriceIn: Double?
        var apiPriceOut: Double?
        var tokensPerMonth: Double?
        var apiSpendPerMonth: Double?
        var inputOutputRatio: Double?
        var instance: String?
        var gpuHourly: Double?
        var nodes: Int?
        var throughputTPS: Double?
        var throughputFrom: String?
        var promptTPS: Double?
        var utilization: Double?
        var hoursPerMonth: Double?
        var opsPerMonth: Double?
        var upfront: Double?
        var stack: String?
        var catalog: String?
        var chart: String?
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = [
            .value("api-model", "name", "A hosted model from the catalog (e.g. gpt-4o, claude-3.5-sonnet, llama-3.1-70b).", \.apiModel),
            .value("api-price-in", "usd", "API price per million input tokens (instead of --api-model).", \.apiPriceIn, number("api-price-in")),
            .value("api-price-out", "usd", "API price per million output tokens (instead of --api-model).", \.apiPriceOut, number("api-price-out")),
            .value("tokens-per-month", "n", "Your current volume, input and output tokens together.", \.tokensPerMonth,
                   number("tokens-per-month", allowZero: true)),
            .value("api-spend-per-month", "usd", "Your current API bill (instead of --tokens-per-month).", \.apiSpendPerMonth,
                   number("api-spend-per-month", allowZero: true)),
            .value("input-output-ratio", "r", "Input tokens per output token (default 3).", \.inputOutputRatio, number("input-output-ratio")),
            .value("instance", "type", "A node type from the catalog (e.g. g5.xlarge, p4d.24xlarge, a100-single).", \.instance),
            .value("gpu-hourly", "usd", "A node's hourly price (instead of --instance).", \.gpuHourly, number("gpu-hourly")),
            .value("nodes", "n", "The fewest nodes to run (default 1, or the stack's).", \.nodes) { text throws(UsageError) in
                guard let nodes = Int(text), nodes >= 1 else {
                    throw UsageError(message: "--nodes must be a whole number of at least 1, not '\(text)'")
                }
                return nodes
            },
            .value("throughput-tps", "n", "Output tokens per second one node sustains, all clients together.", \.throughputTPS,
                   number("throughput-tps")),
            .value("prompt-tps", "n", "Prompt tokens per second one node processes (default: what --throughput-from measured, else 10x generation).",
                   \.promptTPS, number("prompt-tps")),
            .value("throughput-from", "file", "Read the throughput from a benchmark result (serve_benchmark.py --out, inference-server bench or llama-bench JSON).",
                   \.throughputFrom),
            .value("utilization", "f", "Share of the month a node is busy, in (0, 1] (default 0.6).", \.utilization) { text throws(UsageError) in
                let utilization = try number("utilization")(text)
                guard utilization <= 1 else { throw UsageError(message: "--utilization must be in (0, 1], not \(utilization)") }
                return utilization
            },
            .value("hours-per-month", "h", "Hours a node runs per month (default 730).", \.hoursPerMonth) { text throws(UsageError) in
                let hours = try number("hours-per-month")(text)
                guard hours <= 744 else { throw UsageError(message: "--hours-per-month cannot exceed 744 (31 days), not \(hours)") }
                return hours
            },
            .value("ops-per-month", "usd", "Operations cost per month (default 0).", \.opsPerMonth, number("ops-per-month", allowZero: true)),
            .value("upfront", "usd", "One-time cost to pay back (default 0).", \.upfront, number("upfront", allowZero: true)),
            .value("stack", "file", "Price the base infrastructure of this stack, and take its node type and count.", \.stack),
            .value("catalog", "file", "Price catalog (default Templates/pricing.json5).", \.catalog),
            .value("chart", "file.svg", "Draw cost against volume for both options to this SVG file.", \.chart),
        ]

        /// `--<flag> <number>`: finite, `_` allowed as a digit separator, more than zero (or zero too).
        static func number(_ flag: String, allowZero: Bool = false) -> @Sendable (String) throws(UsageError) -> Double {
            { text throws(UsageError) in
                guard let value = Double(text.replacingOccurrences(of: "_", with: "")), value.isFinite else {
                    throw UsageError(message: "--\(flag) must be a number, not '\(text)'")
                }
                guard value > 0 || (allowZero && value == 0) else {
                    throw UsageError(message: "--\(flag) must be \(allowZero ? "zero or more" : "more than zero"), not \(text)")
                }
                return value
            }
        }

        func validate() throws(UsageError) {
            try noPositionals()
            for (one, other, both) in [("api-model", "api-price-in", apiModel != nil && apiPriceIn != nil),
                                       ("api-model", "api-price-out", apiModel != nil && apiPriceOut != nil),
                                       ("tokens-per-month", "api-spend-per-month", tokensPerMonth != nil && apiSpendPerMonth != nil),
                                       ("instance", "gpu-hourly", instance != nil && gpuHourly != nil),
                                       ("throughput-tps", "throughput-from", throughputTPS != nil && throughputFrom != nil)] where both {
                throw UsageError(message: "give --\(one) or --\(other), not both", command: name)
            }
            if (apiPriceIn == nil) != (apiPriceOut == nil) {
                throw UsageError(message: "--api-price-in and --api-price-out go together", command: name)
            }
            if apiModel == nil, apiPriceIn == nil {
                throw UsageError(message: "say what the API costs: --api-model NAME, or --api-price-in and --api-price-out", command: name)
            }
            if throughputTPS == nil, throughputFrom == nil {
                throw UsageError(message: "say what a node sustains: --throughput-tps N or --throughput-from FILE", command: name)
            }
            if let chart, !chart.hasSuffix(".svg") {
                throw UsageError(message: "--chart writes SVG; give a file name ending in .svg", command: name)
            }
        }
    }

    static func run(_ options: Options, _ context: CommandContext) async throws -> Int32 {
        let report = try await BreakevenReport.make(options)
        switch context.options.output {
        case .json: context.console.out(try JSONText.encode(report.document))
        case .text: context.console.out(report.text)
        }
        if let chart = options.chart {
            do {
                try Chart.svg(report.model, title: report.title).write(toFile: chart, atomically: true, encoding: .utf8)
            } catch {
                throw UsageError(message: "cannot write the chart to '\(chart)': \(error.localizedDescription)", command: name)
            }
            if context.options.output == .text { context.console.out("\nChart written to \(chart).") }
        }
        return ExitCode.success
    }
}
