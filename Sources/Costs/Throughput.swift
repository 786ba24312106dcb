import Foundation
import Stack

/// Reads a measured generation throughput from a benchmark result: the inference server's `bench --output json`
/// (`{"tg": {"tokens_per_second": N}}` or `{"generation_tokens_per_second": N}`), or llama-bench's JSON
/// (an array of runs; the generation run has `n_gen > 0` and `avg_ts`).
public enum Throughput {
    public static func read(_ path: String) throws(StackError) -> Double {
        let text = try SourceFile.text(path, what: "benchmark result")
        let value = Value(try JSON5Parser.parse(text, file: path))
        func number(_ value: Value?) -> Double? {
            switch value {
            case .int(let number)?: Double(number)
            case .double(let number)?: number
            default: nil
            }
        }
        var found: Double?
        if case .map(let entries) = value {
            found = number(entries["generation_tokens_per_second"]) ?? number(entries["tg"]?.mapValue?["tokens_per_second"])
        } else if case .list(let runs) = value {
            found = runs.compactMap(\.mapValue).first { ($0["n_gen"]?.intValue ?? 0) > 0 }.flatMap { number($0["avg_ts"]) }
        }
        guard let found, found > 0, found.isFinite else {
            throw StackError("'\(path)' has no generation throughput: expected generation_tokens_per_second, tg.tokens_per_second, "
                + "or a llama-bench run with n_gen and avg_ts", at: SourceLocation(file: path, line: 1, column: 1))
        }
        return found
    }
}
