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
    static let options: [OptionSpec] = [
        .value("api-model", "name", "A hosted model from the catalog (e.g. gpt-4o, claude-3.5-sonnet, llama-3.1-70b)."),
        .value("api-price-in", "usd", "API price per million input tokens (instead of --api-model)."),
        .value("api-price-out", "usd", "API price per million output tokens (instead of --api-model)."),
        .value("tokens-per-month", "n", "Your current volume, input and output tokens together."),
        .value("api-spend-per-month", "usd", "Your current API bill (instead of --tokens-per-month)."),
        .value("input-output-ratio", "r", "Input tokens per output token (default 3)."),
        .value("instance", "type", "A node type from the catalog (e.g. g5.xlarge, p4d.24xlarge, a100-single)."),
        .value("gpu-hourly", "usd", "A node's hourly price (instead of --instance)."),
        .value("nodes", "n", "The fewest nodes to run (default 1, or the stack's)."),
        .value("throughput-tps", "n", "Output tokens per second one node sustains."),
        .value("throughput-from", "file", "Read the throughput from a benchmark result (inference-server bench or llama-bench JSON)."),
        .value("utilization", "f", "Share of the month a node is busy, in (0, 1] (default 0.6)."),
        .value("hours-per-month", "h", "Hours a node runs per month (default 730)."),
        .value("ops-per-month", "usd", "Operations cost per month (default 0)."),
        .value("upfront", "usd", "One-time cost to pay back (default 0)."),
        .value("stack", "file", "Price the base infrastructure of this stack, and take its node type and count."),
        .value("catalog", "file", "Price catalog (default Templates/pricing.json5)."),
        .value("chart", "file.svg", "Draw cost against volume for both options to this SVG file."),
    ]

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(arguments.positionals[0])'", command: name) }
        for (one, other) in [("api-model", "api-price-in"), ("api-model", "api-price-out"), ("tokens-per-month", "api-spend-per-month"),
                             ("instance", "gpu-hourly"), ("throughput-tps", "throughput-from")]
        where arguments.value(one) != nil && arguments.value(other) != nil {
            throw UsageError(message: "give --\(one) or --\(other), not both", command: name)
        }
        if (arguments.value("api-price-in") == nil) != (arguments.value("api-price-out") == nil) {
            throw UsageError(message: "--api-price-in and --api-price-out go together", command: name)
        }
        if arguments.value("api-model") == nil, arguments.value("api-price-in") == nil {
            throw UsageError(message: "say what the API costs: --api-model NAME, or --api-price-in and --api-price-out", command: name)
        }
        if arguments.value("throughput-tps") == nil, arguments.value("throughput-from") == nil {
            throw UsageError(message: "say what a node sustains: --throughput-tps N or --throughput-from FILE", command: name)
        }
        if let chart = arguments.value("chart"), !chart.hasSuffix(".svg") {
            throw UsageError(message: "--chart writes SVG; give a file name ending in .svg", command: name)
        }
    }

    static func run(_ context: CommandContext) async throws -> Int32 {
        let report = try BreakevenReport.make(context.arguments)
        switch context.options.output {
        case .json: context.console.out(try JSONText.encode(report.document))
        case .text: context.console.out(report.text)
        }
        if let chart = context.arguments.value("chart") {
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
