import Foundation
import Diagnostics

/// Byte-level BPE (`tokenizer.ggml.model = gpt2`), as llama.cpp does it: the text is split by the pre-tokeniser
/// that `tokenizer.ggml.pre` names, each piece's bytes are mapped to printable characters (GPT-2's byte table),
/// and the adjacent pair with the lowest merge rank is merged again and again.
public struct BytePairTokenizer: Sendable {
    public let vocabulary: Vocabulary
    private let ranks: [String: Int]
    private let splitter: NSRegularExpression
    /// Llama 3 emits a whole piece that is itself a token without merging it.
    private let ignoreMerges: Bool

    /// The pre-tokenisers by `tokenizer.ggml.pre` name (llama.cpp's patterns).
    static let patterns: [String: String] = [
        "llama-bpe": #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
        "qwen2": #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
    ]

    public struct Unsupported: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ vocabulary: Vocabulary, merges: [String], pre: String) throws {
        guard let pattern = Self.patterns[pre] else {
            throw Unsupported(description: "pre-tokenizer '\(pre)' is not supported (known: \(Self.patterns.keys.sorted().joined(separator: ", ")))")
        }
        self.vocabulary = vocabulary
        var ranks: [String: Int] = [:]
        ranks.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() where ranks[merge] == nil { ranks[merge] = rank }
        self.ranks = ranks
        self.splitter = try NSRegularExpression(pattern: pattern)
        self.ignoreMerges = pre == "llama-bpe"
    }

    /// Token ids for `text`, without BOS.
    public func encode(_ text: String) -> [Int] {
        var output: [Int] = []
        // pieces are cut by UTF-16 range: a piece may end inside a grapheme cluster (a letter and its combining
        // mark in different pieces), where String's own ranges cannot go
        let string = text as NSString
        for match in splitter.matches(in: text, range: NSRange(location: 0, length: string.length)) {
            encodePiece(Self.byteEncoded(string.substring(with: match.range)), into: &output)
        }
        return output
    }

    private struct Bigram: Comparable {
        var left: Int
        var right: Int
        var rank: Int
        var text: String

        static func < (a: Bigram, b: Bigram) -> Bool { a.rank < b.rank || (a.rank == b.rank && a.left < b.left) }
    }

    private func encodePiece(_ word: String, into output: inout [Int]) {
        if ignoreMerges, let id = vocabulary.id(word) {
            output.append(id)
            return
        }
        // symbols are scalars: GPT-2's byte characters never combine, and splitting by grapheme would join some
        var symbols = word.unicodeScalars.map { String($0) }
        var next = Array(1...symbols.count).map { $0 == symbols.count ? -1 : $0 }
        var previous = Array(-1..<(symbols.count - 1))
        var queue = BinaryHeap<Bigram>()
        func add(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0, let rank = ranks[symbols[left] + " " + symbols[right]] else { return }
            queue.push(Bigram(left: left, right: right, rank: rank, text: symbols[left] + symbols[right]))
        }
        for index in symbols.indices.dropFirst() { add(index - 1, index) }
        while let bigram = queue.pop() {
            guard !symbols[bigram.left].isEmpty, !symbols[bigram.right].isEmpty,
                  (symbols[bigram.left] + symbols[bigram.right]).utf8.elementsEqual(bigram.text.utf8) else { continue }
            symbols[bigram.left] = bigram.text
            symbols[bigram.right] = ""
            next[bigram.left] = next[bigram.right]
            if next[bigram.right] >= 0 { previous[next[bigram.right]] = bigram.left }
            add(previous[bigram.left], bigram.left)
            add(bigram.left, next[bigram.left])
        }
        var index = 0
        while index != -1 {
            let symbol = symbols[index]
            if let id = vocabulary.id(symbol) {
                output.append(id)
            } else {
                for scalar in symbol.unicodeScalars { if let id = vocabulary.id(String(scalar)) { output.append(id) } }
            }
            index = next[index]
        }
    }

    /// GPT-2's table: printable bytes stand for themselves, the others for characters from U+0100 on.
    static let byteCharacters: [Character] = {
        var table = [Character](repeating: " ", count: 256)
        var extra: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Character(Unicode.Scalar(UInt32(byte))!)
            } else {
                table[byte] = Character(Unicode.Scalar(extra)!)
                extra += 1
            }
        }
        return table
    }()

    /// The byte each character of GPT-2's table stands for.
    static let byteValues: [Unicode.Scalar: UInt8] = {
        var values: [Unicode.Scalar: UInt8] = [:]
        for (byte, character) in byteCharacters.enumerated() { values[character.unicodeScalars.first!] = UInt8(byte) }
        return values
    }()

    static func byteEncoded(_ text: String) -> String {
        String(text.utf8.map { byteCharacters[Int($0)] })
    }
}

extension BytePairTokenizer.Unsupported: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
