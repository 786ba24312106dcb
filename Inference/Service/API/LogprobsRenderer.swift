import Foundation
import InferenceEngine

/// Generated tokens' log-probabilities in OpenAI's shapes: chat's `{"content": [{token, logprob, bytes,
/// top_logprobs}]}` and completions' `{tokens, token_logprobs, top_logprobs, text_offset}`.
struct LogprobsRenderer: Sendable {
    let tokenizer: Tokenizer
    let chat: Bool

    /// OpenAI's stand-in for a log-probability too small to write (JSON has no -infinity).
    static let floor = -9999.0

    /// The object for `tokens`; `offset` is where the first starts in the completion's text (completions'
    /// `text_offset`, in characters) and is moved past them.
    func render(_ tokens: [GeneratedToken], offset: inout Int) -> [String: Any] {
        if chat {
            return ["content": tokens.map { token -> [String: Any] in
                var entry = describe(token.id, token.logprob, special: false)
                entry["top_logprobs"] = token.top.map { describe($0.token, $0.logprob, special: true) }
                return entry
            }, "refusal": NSNull()]
        }
        var offsets: [Int] = []
        var texts: [String] = []
        for token in tokens {
            let text = String(decoding: tokenizer.piece(token.id), as: UTF8.self)
            texts.append(text)
            offsets.append(offset)
            offset += text.unicodeScalars.count
        }
        let top: [[String: Double]] = tokens.map { token in
            var alternatives: [String: Double] = [:]
            for alternative in token.top {
                let text = String(decoding: tokenizer.piece(alternative.token, special: true), as: UTF8.self)
                alternatives[text] = max(alternatives[text] ?? -.infinity, Self.value(alternative.logprob))
            }
            return alternatives
        }
        return ["tokens": texts, "token_logprobs": tokens.map { Self.value($0.logprob) }, "top_logprobs": top, "text_offset": offsets]
    }

    /// `{token, logprob, bytes}`: the token's text (invalid UTF-8, as in a token that ends mid-character, replaced)
    /// and its exact bytes.
    private func describe(_ id: Int, _ logprob: Float, special: Bool) -> [String: Any] {
        let bytes = tokenizer.piece(id, special: special)
        return ["token": String(decoding: bytes, as: UTF8.self), "logprob": Self.value(logprob), "bytes": bytes.map(Int.init)]
    }

    static func value(_ logprob: Float) -> Double {
        logprob.isFinite ? Double(logprob) : floor
    }
}
