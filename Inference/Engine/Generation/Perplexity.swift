import Foundation
import Diagnostics

/// Perplexity as llama.cpp's `llama-perplexity` measures it: the tokens are cut into chunks of `context`, each chunk
/// starts afresh (an empty cache) with its first token replaced by BOS, and only the second half of each chunk is
/// scored, so every scored token has at least half a context before it. The negative log-likelihoods are summed in
/// double over all chunks.
public enum Perplexity {
    public struct Result: Sendable {
        /// Tokens per chunk.
        public var context: Int
        public var chunks: Int
        /// exp(mean negative log-likelihood) over every scored token.
        public var perplexity: Double
        /// The figure after each chunk, as llama-perplexity prints `[1]…,[2]…`.
        public var running: [Double]
        /// The standard error of the estimate, as llama-perplexity's `±`.
        public var uncertainty: Double
    }

    public struct TooShort: Error, CustomStringConvertible {
        public var description: String
    }

    /// Measures `tokens` (BOS first, as the tokenizer gives them) in chunks of `context`, at most `limit` chunks.
    /// `progress` hears of each finished chunk.
    public static func measure(_ model: Transformer, tokens: [Int], context: Int, bos: Int?, limit: Int? = nil,
                               progress: (Int, Double) -> Void = { _, _ in }) throws -> Result {
        guard context >= 4 else { throw TooShort(description: "a context of \(context) tokens is too short to score (at least 4)") }
        let available = tokens.count / context
        let chunks = min(available, limit ?? available)
        guard chunks >= 1 else {
            throw TooShort(description: "the text has \(tokens.count) tokens, fewer than one chunk of \(context)")
        }
        var total: Double = 0, squares: Double = 0, count = 0
        var running: [Double] = []
        let cache = model.makeCache(capacity: context)
        let v = model.vocabularySize
        for chunk in 0..<chunks {
            var ids = Array(tokens[(chunk * context)..<((chunk + 1) * context)])
            if let bos { ids[0] = bos }
            cache.truncate(to: 0)
            // the unscored first half needs no logits; the scored half comes in slices, which bounds the logits held
            // to a slice's (a whole half of a 512 context over Gemma's vocabulary would be 268 MB)
            _ = try model.forward(Array(ids[..<(context / 2)]), cache: cache, logits: .last)
            var start = context / 2
            while start < context - 1 {
                let end = min(context - 1, start + 32)
                let logits = try model.forward(Array(ids[start..<end]), cache: cache, logits: .all)
                for position in start..<end {
                    let row = logits[((position - start) * v)..<((position - start + 1) * v)]
                    let nll = logSumExp(row) - Double(row[row.startIndex + ids[position + 1]])
                    total += nll
                    squares += nll * nll
                    count += 1
                }
                start = end
            }
            running.append(exp(total / Double(count)))
            progress(chunk + 1, running[chunk])
        }
        let mean = total / Double(count)
        let variance = max(0, squares / Double(count) - mean * mean)
        let uncertainty = count > 1 ? exp(mean) * (variance / Double(count - 1)).squareRoot() : 0
        return Result(context: context, chunks: chunks, perplexity: exp(mean), running: running, uncertainty: uncertainty)
    }

    static func logSumExp(_ row: ArraySlice<Float>) -> Double {
        let top = Double(row.max() ?? 0)
        var sum: Double = 0
        for value in row { sum += exp(Double(value) - top) }
        return top + log(sum)
    }
}

extension Perplexity.TooShort: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
