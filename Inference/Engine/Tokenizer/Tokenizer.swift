import Foundation
import TextSafety

/// A model's tokenizer: the vocabulary's algorithm (SentencePiece or byte-level BPE), special tokens matched as
/// whole tokens before the text between them is tokenized, BOS from metadata, and decoding back to bytes.
public struct Tokenizer: Sendable {
    public let vocabulary: Vocabulary
    private let algorithm: Algorithm
    /// Control and user-defined tokens, longest first, as llama.cpp matches them.
    private let specials: [(text: [UInt8], id: Int, kind: Vocabulary.TokenKind)]
    /// The most bytes of text one token can stand for, found once at load; nil when some byte may yield no token.
    /// See `minimumTokens(forBytes:)`.
    public let longestPieceBytes: Int?

    private enum Algorithm: Sendable {
        case sentencePiece(SentencePieceTokenizer)
        case bytePair(BytePairTokenizer)
    }

    public init(_ vocabulary: Vocabulary) throws {
        self.vocabulary = vocabulary
        switch vocabulary.model {
        case "llama": algorithm = .sentencePiece(SentencePieceTokenizer(vocabulary))
        case "gpt2": algorithm = .bytePair(try BytePairTokenizer(vocabulary, merges: vocabulary.merges, pre: vocabulary.preTokenizer ?? ""))
        default: throw BytePairTokenizer.Unsupported(description: "tokenizer '\(SafeText.quoted(vocabulary.model))' is not supported (llama and gpt2 are)")
        }
        specials = vocabulary.kinds.enumerated()
            .filter { $0.element == .control || $0.element == .userDefined || $0.element == .unknown }
            .map { (text: Array(vocabulary.tokens[$0.offset].utf8), id: $0.offset, kind: $0.element) }
            .filter { !$0.text.isEmpty }
            .sorted { $0.text.count > $1.text.count }
        longestPieceBytes = Self.longestPiece(vocabulary)
    }

    public var size: Int { vocabulary.tokens.count }

    /// Token ids for `text`. `addBOS` prepends BOS when the vocabulary adds one (`tokenizer.ggml.add_bos_token`, or
    /// llama.cpp's default for the tokenizer); `parseSpecial` lets control and unknown tokens written in the text
    /// (`<|im_start|>`, `<unk>`) stand for themselves; user-defined tokens always do. Text is matched as bytes,
    /// exactly as llama.cpp matches it, never by Swift's canonical equivalence or grapheme clusters.
    /// `literal`: UTF-8 byte ranges of `text` where special tokens are not parsed (a user's message inside a chat
    /// format's markup): a control token spelled there is encoded as the text it spells.
    public func encode(_ text: String, addBOS: Bool = false, parseSpecial: Bool = false, literal: [Range<Int>] = []) -> [Int] {
        var output: [Int] = []
        if addBOS, vocabulary.addBOS, let bos = vocabulary.bos { output.append(bos) }
        var afterSpecial = true
        for fragment in partition(Array(text.utf8), parseSpecial: parseSpecial, literal: literal) {
            switch fragment {
            case .token(let id):
                output.append(id)
                afterSpecial = true
            case .text(let piece):
                switch algorithm {
                case .sentencePiece(let spm): output += spm.encode(bytes: piece, spacePrefix: vocabulary.addSpacePrefix && afterSpecial)
                case .bytePair(let bpe): output += bpe.encode(String(decoding: piece, as: UTF8.self))
                }
                afterSpecial = false
            }
        }
        return output
    }

    private enum Fragment { case text(ArraySlice<UInt8>), token(Int) }

    /// Splits `bytes` at every special token they contain, longest tokens first, as llama.cpp's
    /// `tokenizer_st_partition` does.
    private func partition(_ bytes: [UInt8], parseSpecial: Bool, literal: [Range<Int>]) -> [Fragment] {
        var fragments: [Fragment] = [.text(bytes[...])]
        for special in specials where parseSpecial || special.kind == .userDefined {
            fragments = fragments.flatMap { fragment -> [Fragment] in
                guard case .text(let piece) = fragment else { return [fragment] }
                var pieces: [Fragment] = []
                var rest = piece
                var searched = rest
                while let match = Self.firstRange(of: special.text, in: searched) {
                    // a control token spelled inside literal text is that text; so is a user-defined token that looks
                    // like markup (converters type chat delimiters that way), while other user-defined tokens are words
                    if special.kind != .userDefined || Self.looksLikeMarkup(special.text), literal.contains(where: { $0.overlaps(match) }) {
                        searched = searched[(match.lowerBound + 1)...]
                        continue
                    }
                    if match.lowerBound > rest.startIndex { pieces.append(.text(rest[rest.startIndex..<match.lowerBound])) }
                    pieces.append(.token(special.id))
                    rest = rest[match.upperBound...]
                    searched = rest
                }
                if !rest.isEmpty { pieces.append(.text(rest)) }
                return pieces
            }
        }
        return fragments
    }

    /// `<...>` or `[...]`: how chat formats spell their delimiters (`<|im_start|>`, `<start_of_turn>`, `[INST]`).
    static func looksLikeMarkup(_ text: [UInt8]) -> Bool {
        guard text.count >= 3, let first = text.first, let last = text.last else { return false }
        return (first == UInt8(ascii: "<") && last == UInt8(ascii: ">")) || (first == UInt8(ascii: "[") && last == UInt8(ascii: "]"))
    }

    private static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Range<Int>? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var start = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while start <= last {
            guard let candidate = haystack[start...last].firstIndex(of: first) else { return nil }
            if haystack[candidate..<(candidate + needle.count)].elementsEqual(needle) { return candidate..<(candidate + needle.count) }
            start = candidate + 1
        }
        return nil
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
                return Self.spacesRestored(Array(text.utf8))
            case .bytePair:
                return text.unicodeScalars.compactMap { BytePairTokenizer.byteValues[$0] }
            }
        }
    }

    /// SentencePiece's "▁" (E2 96 81) turned back into spaces, byte for byte.
    private static func spacesRestored(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index] == 0xE2, bytes[index + 1] == 0x96, bytes[index + 2] == 0x81 {
                out.append(0x20)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// The text of `ids`, with invalid UTF-8 replaced.
    public func decode(_ ids: [Int], special: Bool = false) -> String {
        String(decoding: ids.flatMap { piece($0, special: special) }, as: UTF8.self)
    }

    /// Tokens that end a generation: EOS, EOT and every end-of-turn token llama.cpp recognises.
    public var endOfGeneration: Set<Int> { vocabulary.endOfGeneration }
}
