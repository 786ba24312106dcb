import Foundation

/// A model's tokenizer: the vocabulary's algorithm (SentencePiece or byte-level BPE), special tokens matched as
/// whole tokens before the text between them is tokenized, BOS from metadata, and decoding back to bytes.
public struct Tokenizer: Sendable {
    public let vocabulary: Vocabulary
    private let algorithm: Algorithm
    /// Control and user-defined tokens, longest first, as llama.cpp matches them.
    private let specials: [(text: String, id: Int, kind: Vocabulary.TokenKind)]

    private enum Algorithm: Sendable {
        case sentencePiece(SentencePieceTokenizer)
        case bytePair(BytePairTokenizer)
    }

    public init(_ vocabulary: Vocabulary) throws {
        self.vocabulary = vocabulary
        switch vocabulary.model {
        case "llama": algorithm = .sentencePiece(SentencePieceTokenizer(vocabulary))
        case "gpt2": algorithm = .bytePair(try BytePairTokenizer(vocabulary, merges: vocabulary.merges, pre: vocabulary.preTokenizer ?? ""))
        default: throw BytePairTokenizer.Unsupported(description: "tokenizer '\(vocabulary.model)' is not supported (llama and gpt2 are)")
        }
        specials = vocabulary.kinds.enumerated()
            .filter { $0.element == .control || $0.element == .userDefined }
            .map { (text: vocabulary.tokens[$0.offset], id: $0.offset, kind: $0.element) }
            .filter { !$0.text.isEmpty }
            .sorted { $0.text.utf8.count > $1.text.utf8.count }
    }

    public var size: Int { vocabulary.tokens.count }

    /// Token ids for `text`. `addBOS` prepends BOS when the vocabulary adds one (`tokenizer.ggml.add_bos_token`);
    /// `parseSpecial` lets control tokens written in the text (`<|im_start|>`) stand for themselves; user-defined
    /// tokens always do.
    public func encode(_ text: String, addBOS: Bool = false, parseSpecial: Bool = false) -> [Int] {
        var output: [Int] = []
        if addBOS, vocabulary.addBOS, let bos = vocabulary.bos { output.append(bos) }
        var afterSpecial = true
        for fragment in partition(text, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
                afterSpecial = true
            case .text(let piece):
                switch algorithm {
                case .sentencePiece(let spm): output += spm.encode(piece, spacePrefix: vocabulary.addSpacePrefix && afterSpecial)
                case .bytePair(let bpe): output += bpe.encode(piece)
                }
                afterSpecial = false
            }
        }
        return output
    }

    private enum Fragment { case text(String), token(Int) }

    /// Splits `text` at every special token it contains, longest tokens first.
    private func partition(_ text: String, parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = [.text(text)]
        for special in specials where parseSpecial || special.kind == .userDefined {
            guard text.contains(special.text) else { continue }
            fragments = fragments.flatMap { fragment -> [Fragment] in
                guard case .text(let piece) = fragment, piece.contains(special.text) else { return [fragment] }
                var pieces: [Fragment] = []
                for (index, part) in piece.components(separatedBy: special.text).enumerated() {
                    if index > 0 { pieces.append(.token(special.id)) }
                    if !part.isEmpty { pieces.append(.text(part)) }
                }
                return pieces
            }
        }
        return fragments
    }

    /// The bytes token `id` stands for (empty for control tokens unless `special`), as llama.cpp's token_to_piece.
    public func piece(_ id: Int, special: Bool = false) -> [UInt8] {
        guard id >= 0, id < size else { return [] }
        let text = vocabulary.tokens[id]
        switch vocabulary.kinds[id] {
        case .control: return special ? Array(text.utf8) : []
        case .userDefined: return Array(text.utf8)
        case .unused, .undefined: return []
        case .unknown, .normal, .byte:
            switch algorithm {
            case .sentencePiece:
                if vocabulary.kinds[id] == .byte, text.hasPrefix("<0x"), text.hasSuffix(">"),
                   let byte = UInt8(text.dropFirst(3).dropLast(), radix: 16) {
                    return [byte]
                }
                if vocabulary.kinds[id] == .unknown { return Array("\u{2585}".utf8) }
                return Array(text.replacingOccurrences(of: "\u{2581}", with: " ").utf8)
            case .bytePair:
                return text.unicodeScalars.compactMap { BytePairTokenizer.byteValues[$0] }
            }
        }
    }

    /// The text of `ids`, with invalid UTF-8 replaced.
    public func decode(_ ids: [Int], special: Bool = false) -> String {
        String(decoding: ids.flatMap { piece($0, special: special) }, as: UTF8.self)
    }

    /// Tokens that end a generation: EOS, EOT and the end-of-turn control tokens of the common chat formats.
    public var endOfGeneration: Set<Int> {
        var ids = Set([vocabulary.eos, vocabulary.eot].compactMap { $0 })
        for text in ["<|eot_id|>", "<|im_end|>", "<|end|>", "<|endoftext|>", "<end_of_turn>", "<|eom_id|>"] {
            if let id = vocabulary.ids[text], vocabulary.kinds[id] == .control { ids.insert(id) }
        }
        return ids
    }
}
