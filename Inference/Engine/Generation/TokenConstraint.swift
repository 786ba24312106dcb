/// Each token's bytes as constrained output may use them, worked out once per model: the bytes of ordinary and
/// byte tokens, and nothing for control, user-defined, unknown and unused tokens (never allowed inside JSON), nor
/// for a token whose piece is empty (it would let a model emit tokens without moving on).
public final class TokenBytes: Sendable {
    /// Empty: the token never appears in constrained text.
    public let bytes: [[UInt8]]
    public let endOfGeneration: Set<Int>

    public init(_ tokenizer: Tokenizer) {
        let vocabulary = tokenizer.vocabulary
        bytes = vocabulary.tokens.indices.map { id in
            switch vocabulary.kinds[id] {
            case .normal, .byte: tokenizer.piece(id)
            default: []
            }
        }
        endOfGeneration = tokenizer.endOfGeneration
    }

    /// A table of given pieces (tests).
    public init(pieces: [[UInt8]], endOfGeneration: Set<Int>) {
        bytes = pieces
        self.endOfGeneration = endOfGeneration
    }
}

/// One request's constrained decoding: which tokens may come next given what was generated, and the generated
/// tokens taken in. End-of-generation tokens are allowed only when the document is complete.
public struct TokenConstraint: Sendable {
    public private(set) var matcher: JSONMatcher
    public let table: TokenBytes

    public init(_ grammar: JSONGrammar, table: TokenBytes) {
        matcher = JSONMatcher(grammar)
        self.table = table
    }

    /// Whether the output so far is a complete document.
    public var isComplete: Bool { matcher.canEnd }

    /// A check for the sampler's `allowed`, valid until the next `take`. It first compares the token's first byte
    /// with the bytes that may come next (worked out once here), so most tokens cost one table look-up.
    public func checker() -> @Sendable (Int) -> Bool {
        let matcher = matcher, table = table
        var first = [Bool](repeating: false, count: 256)
        for byte in 0...255 { first[byte] = matcher.accepts(CollectionOfOne(UInt8(byte))) }
        let canEnd = matcher.canEnd
        return { [first] token in
            guard token >= 0, token < table.bytes.count else { return false }
            if table.endOfGeneration.contains(token) { return canEnd }
            let bytes = table.bytes[token]
            guard let head = bytes.first, first[Int(head)] else { return false }
            return bytes.count == 1 || matcher.accepts(bytes)
        }
    }

    /// Whether `token` may come next (without the first-byte table; tests and one-off checks).
    public func allows(_ token: Int) -> Bool {
        guard token >= 0, token < table.bytes.count else { return false }
        if table.endOfGeneration.contains(token) { return matcher.canEnd }
        let bytes = table.bytes[token]
        return !bytes.isEmpty && matcher.accepts(bytes)
    }

    /// Takes a generated token in; false (and nothing taken) if it was not allowed.
    public mutating func take(_ token: Int) -> Bool {
        guard token >= 0, token < table.bytes.count else { return false }
        if table.endOfGeneration.contains(token) { return matcher.canEnd }
        let bytes = table.bytes[token]
        return !bytes.isEmpty && matcher.advance(bytes)
    }
}
