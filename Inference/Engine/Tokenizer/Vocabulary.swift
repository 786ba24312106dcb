/// A model's tokens, read from GGUF metadata (`tokenizer.ggml.*`).
public struct Vocabulary: Sendable {
    /// How llama.cpp classifies a token (`tokenizer.ggml.token_type`).
    public enum TokenKind: Int, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public var model: String
    public var tokens: [String]
    public var scores: [Float]
    public var kinds: [TokenKind]
    public var ids: [String: Int]
    public var bos: Int?
    public var eos: Int?
    public var unknown: Int?
    /// End of turn (`tokenizer.ggml.eot_token_id`), where the file names one.
    public var eot: Int?
    public var addSpacePrefix: Bool
    public var addBOS: Bool
    /// `tokenizer.ggml.pre`: which pre-tokeniser a BPE vocabulary expects.
    public var preTokenizer: String?
    /// `tokenizer.ggml.merges`, for BPE vocabularies.
    public var merges: [String]

    public init(_ file: GGUFFile) throws(GGUFError) {
        guard let model = file.string("tokenizer.ggml.model") else {
            throw GGUFError(path: file.path, message: "no tokenizer.ggml.model: this file has no vocabulary")
        }
        guard let tokenValues = file.metadata["tokenizer.ggml.tokens"]?.arrayValue else {
            throw GGUFError(path: file.path, message: "no tokenizer.ggml.tokens")
        }
        self.model = model
        tokens = tokenValues.map { $0.stringValue ?? "" }
        scores = file.metadata["tokenizer.ggml.scores"]?.arrayValue?.map { Float($0.floatValue ?? 0) } ?? Array(repeating: 0, count: tokens.count)
        kinds = file.metadata["tokenizer.ggml.token_type"]?.arrayValue?.map { TokenKind(rawValue: $0.intValue ?? 1) ?? .normal }
            ?? Array(repeating: .normal, count: tokens.count)
        guard scores.count == tokens.count, kinds.count == tokens.count else {
            throw GGUFError(path: file.path, message: "tokenizer arrays disagree: \(tokens.count) tokens, \(scores.count) scores, \(kinds.count) types")
        }
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = id }
        self.ids = ids
        let count = tokens.count
        func special(_ key: String) -> Int? { file.int("tokenizer.ggml.\(key)_token_id").flatMap { $0 < count ? $0 : nil } }
        bos = special("bos")
        eos = special("eos")
        unknown = special("unknown")
        eot = special("eot")
        addSpacePrefix = file.metadata["tokenizer.ggml.add_space_prefix"]?.boolValue ?? (model == "llama")
        addBOS = file.metadata["tokenizer.ggml.add_bos_token"]?.boolValue ?? (model == "llama")
        preTokenizer = file.string("tokenizer.ggml.pre")
        merges = file.metadata["tokenizer.ggml.merges"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}
