import Foundation

/// Why a generation ended.
public enum FinishReason: String, Sendable {
    /// An end-of-generation token or a stop sequence.
    case stop
    /// The token limit, or the end of the context.
    case length
}

/// What a generation produced, with its timings.
public struct Generation: Sendable {
    public var tokens: [Int] = []
    public var text = ""
    public var finishReason = FinishReason.length
    public var promptTokens = 0
    public var promptSeconds: Double = 0
    public var generationSeconds: Double = 0
}

/// Turns a prompt into generated text: the prompt is processed in batches, then tokens are sampled one at a time
/// and decoded as they come; text is handed out only in whole UTF-8 characters, and never a part that might yet
/// become a stop sequence.
public struct Generator: Sendable {
    public let model: Transformer
    public let tokenizer: Tokenizer
    /// Prompt tokens per forward pass.
    public var batchSize = 256

    public init(model: Transformer, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Generates up to `maxTokens` after `prompt`, calling `onText` with each new piece of text; `onText` returns
    /// false to stop early.
    public func generate(prompt: [Int], maxTokens: Int, sampling: SamplingSettings, stop: [String] = [],
                         cache: KVCache? = nil, onText: (String) -> Bool = { _ in true }) throws -> Generation {
        guard !prompt.isEmpty else { throw ModelError("the prompt is empty") }
        let cache = cache ?? model.makeCache(capacity: min(model.config.contextLength, prompt.count + maxTokens))
        guard prompt.count < cache.capacity else {
            throw ModelError("the prompt has \(prompt.count) tokens; the context holds \(cache.capacity)")
        }
        var result = Generation()
        result.promptTokens = prompt.count
        var sampler = Sampler(sampling)
        let endOfGeneration = tokenizer.endOfGeneration
        var text = TextStream(stop: stop)

        let promptStart = Date()
        var logits: [Float] = []
        var offset = 0
        while offset < prompt.count {
            let end = min(prompt.count, offset + batchSize)
            logits = try model.forward(Array(prompt[offset..<end]), cache: cache)
            offset = end
        }
        result.promptSeconds = Date().timeIntervalSince(promptStart)

        let generationStart = Date()
        var history = prompt
        // what the stream still holds back is released at the end unless a stop sequence or the caller ended it
        var flushAtEnd = true
        while result.tokens.count < maxTokens {
            // nil: every token is banned (or has a NaN logit), so nothing can honestly come next
            guard let token = sampler.sample(logits, history: history)?.token else {
                result.finishReason = .stop
                break
            }
            if endOfGeneration.contains(token) {
                result.finishReason = .stop
                break
            }
            result.tokens.append(token)
            history.append(token)
            let (ready, stopped) = text.append(tokenizer.piece(token))
            result.text += ready
            if !ready.isEmpty, !onText(ready) { result.finishReason = .stop; flushAtEnd = false; break }
            if stopped { result.finishReason = .stop; flushAtEnd = false; break }
            guard result.tokens.count < maxTokens else { break }
            guard cache.count < cache.capacity else { break }
            logits = try model.forward([token], cache: cache)
        }
        if flushAtEnd {
            let rest = text.finish()
            result.text += rest
            if !rest.isEmpty { _ = onText(rest) }
        }
        result.generationSeconds = Date().timeIntervalSince(generationStart)
        return result
    }
}

/// Bytes in, text out: holds back an unfinished UTF-8 character and any tail that could still grow into a stop
/// sequence; once a stop sequence appears, releases only what came before it.
struct TextStream {
    let stop: [String]
    private var bytes: [UInt8] = []
    private var pending = ""

    init(stop: [String]) {
        self.stop = stop.filter { !$0.isEmpty }
    }

    /// The text that can be released now, and whether a stop sequence was reached.
    mutating func append(_ piece: [UInt8]) -> (String, Bool) {
        bytes += piece
        let complete = Self.completePrefix(bytes)
        pending += String(decoding: bytes[..<complete], as: UTF8.self)
        bytes.removeFirst(complete)
        if let match = stop.compactMap({ pending.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let before = String(pending[..<match.lowerBound])
            pending = ""
            return (before, true)
        }
        // keep the longest tail of `pending` that is a prefix of some stop sequence
        var held = 0
        for sequence in stop {
            for length in stride(from: min(sequence.count - 1, pending.count), to: 0, by: -1)
            where pending.hasSuffix(String(sequence.prefix(length))) {
                held = max(held, length)
                break
            }
        }
        let ready = String(pending.dropLast(held))
        pending = String(pending.suffix(held))
        return (ready, false)
    }

    /// Whatever is left at the end.
    mutating func finish() -> String {
        defer { pending = ""; bytes = [] }
        return pending + String(decoding: bytes, as: UTF8.self)
    }

    /// How many leading bytes form whole UTF-8 characters (an invalid byte counts as whole: it decodes to U+FFFD).
    static func completePrefix(_ bytes: [UInt8]) -> Int {
        var index = bytes.count
        var back = 0
        while index > 0, back < 4 {
            let byte = bytes[index - 1]
            if byte & 0xC0 != 0x80 {
                let length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return back + 1 >= length ? bytes.count : index - 1
            }
            index -= 1
            back += 1
        }
        return bytes.count
    }
}
