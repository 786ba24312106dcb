/// OpenAI's `logit_bias` as the sampler applies it: token ids in ascending order, each once, with its bias, in two
/// parallel arrays built once per request, so applying it to a token's logits is one pass over them (no hashing).
///
/// A bias of -100 or less bans the token (its logit becomes -∞), one above 100 counts as 100; a NaN bias and a
/// negative id are dropped when it is built, an id outside the vocabulary is ignored when it is applied.
public struct LogitBias: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// Token ids, ascending, without repeats.
    public private(set) var tokens: [Int32] = []
    /// The bias of `tokens[i]`, at most 100.
    public private(set) var biases: [Float] = []

    public init() {}

    /// From id-to-bias pairs; a later pair for the same id wins.
    public init<S: Sequence>(_ pairs: S) where S.Element == (Int, Float) {
        var kept: [(token: Int32, bias: Float)] = []
        for (token, bias) in pairs where token >= 0 && token <= Int(Int32.max) && !bias.isNaN {
            kept.append((Int32(token), Swift.min(bias, 100)))
        }
        // stable, so that among repeats of an id the last given stays last
        let order = kept.indices.sorted { kept[$0].token != kept[$1].token ? kept[$0].token < kept[$1].token : $0 < $1 }
        for index in order {
            let pair = kept[index]
            if tokens.last == pair.token {
                biases[biases.count - 1] = pair.bias
            } else {
                tokens.append(pair.token)
                biases.append(pair.bias)
            }
        }
    }

    public init(_ dictionary: [Int: Float]) {
        self.init(dictionary.lazy.map { ($0.key, $0.value) })
    }

    public init(dictionaryLiteral elements: (Int, Float)...) {
        self.init(elements)
    }

    public var isEmpty: Bool { tokens.isEmpty }
    public var count: Int { tokens.count }

    /// How many distinct tokens below `vocabulary` it bans.
    public func bannedCount(below vocabulary: Int) -> Int {
        var banned = 0
        for index in tokens.indices where Int(tokens[index]) < vocabulary && biases[index] <= -100 { banned += 1 }
        return banned
    }

    /// Adds each bias to its token's logit, or sets it to -∞ for a ban; ids at or beyond `count` are ignored.
    func apply(to logits: UnsafeMutablePointer<Float>, count: Int) {
        tokens.withUnsafeBufferPointer { tokens in
            biases.withUnsafeBufferPointer { biases in
                for index in 0..<tokens.count {
                    let token = Int(tokens[index])
                    // ascending: nothing after this one is in the vocabulary either
                    guard token < count else { return }
                    let bias = biases[index]
                    logits[token] = bias <= -100 ? -.infinity : logits[token] + bias
                }
            }
        }
    }

    public func makeIterator() -> AnyIterator<(token: Int, bias: Float)> {
        var index = 0
        return AnyIterator {
            guard index < tokens.count else { return nil }
            defer { index += 1 }
            return (Int(tokens[index]), biases[index])
        }
    }
}
