import GGUF
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
    /// Token ids by their exact bytes. Keyed by bytes, not `String`: Swift compares strings by canonical equivalence,
    /// so `"e\u{301}"` would find the token `"é"`, which llama.cpp (comparing bytes) never does.
    public var ids: [ArraySlice<UInt8>: Int]
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
        var ids: [ArraySlice<UInt8>: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where ids[Array(token.utf8)[...]] == nil { ids[Array(token.utf8)[...]] = id }
        self.ids = ids
        let count = tokens.count
        func special(_ key: String) throws(GGUFError) -> Int? {
            guard let id = file.int("tokenizer.ggml.\(key)_token_id") else { return nil }
            guard (0..<count).contains(id) else {
                throw GGUFError(path: file.path, message: "tokenizer.ggml.\(key)_token_id is \(id), outside the vocabulary of \(count) tokens")
            }
            return id
        }
        bos = try special("bos")
        eos = try special("eos")
        unknown = try special("unknown")
        eot = try special("eot")
        addSpacePrefix = file.metadata["tokenizer.ggml.add_space_prefix"]?.boolValue ?? (model == "llama")
        preTokenizer = file.string("tokenizer.ggml.pre")
        addBOS = file.metadata["tokenizer.ggml.add_bos_token"]?.boolValue
            ?? (model == "llama" || Self.preTokenizersAddingBOS.contains(preTokenizer ?? ""))
        merges = file.metadata["tokenizer.ggml.merges"]?.arrayValue?.compactMap(\.stringValue) ?? []
        endOfGeneration = []
        retypeSpecialTokens()
    }

    /// The id of the token whose text is exactly `text`, byte for byte.
    public func id(_ text: String) -> Int? { ids[Array(text.utf8)[...]] }

    /// Tokens that end a generation, as llama.cpp gathers them: EOS, EOT, EOM, and every token named like an
    /// end-of-turn in a known chat format.
    public private(set) var endOfGeneration: Set<Int>

    /// BPE pre-tokenisers whose models llama.cpp starts with BOS when the file does not say (llama-vocab.cpp).
    static let preTokenizersAddingBOS: Set<String> = [
        "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano",
        "tekken", "chameleon",
    ]

    /// Texts llama.cpp treats as end-of-generation tokens.
    static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ]

    /// Texts of end-of-turn, end-of-message and fill-in-the-middle tokens that llama.cpp makes control tokens
    /// whatever the file says, because converters often mark them normal.
    static let controlLookingTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>", "<|eom_id|>",
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
        "<reponame>", "<|file_sep|>",
    ]

    /// Applies llama.cpp's corrections to token types (llama-vocab.cpp, `load`): control-looking tokens become
    /// control tokens, end-of-generation tokens too, a few harmony-format tokens become user-defined, and a `</s>`
    /// that is an ordinary word in Gemma 4 and PLaMo vocabularies stays normal.
    private mutating func retypeSpecialTokens() {
        var endings = Set([eos, eot].compactMap { $0 })
        for (id, text) in tokens.enumerated() {
            if Self.controlLookingTexts.contains(text) || Self.endOfGenerationTexts.contains(text) { kinds[id] = .control }
            if Self.endOfGenerationTexts.contains(text) { endings.insert(id) }
            if ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"].contains(text) { kinds[id] = .userDefined }
        }
        let texts = Set(endings.map { tokens[$0] })
        if texts.isSuperset(of: ["<|return|>", "<|end|>"]) && (texts.contains("<|call|>") || texts.contains("<|calls|>"))
            || texts.isSuperset(of: ["<|flush|>", "<|end|>"]) && (texts.contains("<|call|>") || texts.contains("<|calls|>")),
           let end = endings.first(where: { tokens[$0] == "<|end|>" }) {
            endings.remove(end)
            kinds[end] = .userDefined
        }
        if texts.contains("<|tool_response>") || texts.contains("<|plamo:eos|>"), let s = endings.first(where: { tokens[$0] == "</s>" }) {
            endings.remove(s)
            kinds[s] = .normal
        }
        endOfGeneration = endings
    }
}
