import Foundation
import Stack

/// What one node sustains, read from a benchmark result: generated tokens per second and, where the result has it,
/// prompt tokens per second, each all clients together.
///
/// Read from `scripts/serve_benchmark.py --out` (`deploy.throughput/1`: the 16-client aggregate and the engine's
/// prompt rate), a bare `{"generation_tokens_per_second": N, "prompt_tokens_per_second": M}`, `{"pp": …, "tg": …}`,
/// the inference server's `bench --output json` rows (`test` pp… / tg…, `tokensPerSecond`), or llama-bench's JSON
/// (runs with `n_prompt`, `n_gen` and `avg_ts`).
public struct Throughput: Sendable, Equatable {
    public var generation: Double
    public var prompt: Double?
    /// The concurrency the generation rate was measured at, when the result says.
    public var clients: Int?

    public init(generation: Double, prompt: Double? = nil, clients: Int? = nil) {
        self.generation = generation
        self.prompt = prompt
        self.clients = clients
    }

    public static func read(_ path: String) throws(StackError) -> Throughput {
        let text = try SourceFile.text(path, what: "benchmark result")
        let value = Value(try JSON5Parser.parse(text, file: path))
        var found: Throughput?
        if case .map(let entries) = value {
            if let generation = rate(entries["generation_tokens_per_second"]) ?? rate(entries["tg"]?.mapValue?["tokens_per_second"]) {
                found = Throughput(generation: generation,
                                   prompt: rate(entries["prompt_tokens_per_second"]) ?? rate(entries["pp"]?.mapValue?["tokens_per_second"]),
                                   clients: entries["clients"]?.intValue)
            }
        } else if case .list(let items) = value {
            let runs = items.compactMap(\.mapValue)
            let generation = runs.first { ($0["n_gen"]?.intValue ?? 0) > 0 }.flatMap { rate($0["avg_ts"]) }
                ?? runs.first { $0["test"]?.stringValue?.hasPrefix("tg") == true }.flatMap { rate($0["tokensPerSecond"]) }
            let prompt = runs.first { ($0["n_prompt"]?.intValue ?? 0) > 0 && ($0["n_gen"]?.intValue ?? 0) == 0 }.flatMap { rate($0["avg_ts"]) }
                ?? runs.first { $0["test"]?.stringValue?.hasPrefix("pp") == true }.flatMap { rate($0["tokensPerSecond"]) }
            found = generation.map { Throughput(generation: $0, prompt: prompt) }
        }
        guard let found else {
            throw StackError("'\(path)' has no generation throughput: expected generation_tokens_per_second, tg.tokens_per_second, "
                + "inference-server bench rows (test tg…, tokensPerSecond) or a llama-bench run with n_gen and avg_ts",
                at: SourceLocation(file: path, line: 1, column: 1))
        }
        return found
    }

    /// A positive, finite rate, or nil.
    private static func rate(_ value: Value?) -> Double? {
        let number: Double? = switch value {
        case .int(let number)?: Double(number)
        case .double(let number)?: number
        default: nil
        }
        guard let number, number > 0, number.isFinite else { return nil }
        return number
    }
}
