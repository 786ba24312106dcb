/// SentencePiece-style tokenization (`tokenizer.ggml.model = llama`), as llama.cpp does it: spaces become "▁",
/// the text is split into characters, and the adjacent pair whose joined text is the highest-scoring token is merged
/// again and again; what no token covers falls back to byte tokens (`<0x41>`).
public struct SentencePieceTokenizer: Sendable {
    public let vocabulary: Vocabulary

    public init(_ vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
    }

    private struct Symbol {
        var start: Int
        var length: Int
        var previous: Int
        var next: Int
    }

    private struct Bigram: Comparable {
        var left: Int
        var right: Int
        var score: Float
        var length: Int

        // the heap pops the smallest: highest score first, then the leftmost
        static func < (a: Bigram, b: Bigram) -> Bool { a.score > b.score || (a.score == b.score && a.left < b.left) }
    }

    /// Token ids for `text`, without BOS, with a leading space when the vocabulary asks for one.
    public func encode(_ text: String) -> [Int] {
        encode(bytes: Array(text.utf8)[...], spacePrefix: vocabulary.addSpacePrefix)
    }

    /// Token ids for UTF-8 `text`, without BOS; `spacePrefix` puts a space before it (llama.cpp does so at the start
    /// of the text and after each special token). Everything works on bytes, as llama.cpp does: each space byte
    /// becomes "▁", symbols are whole UTF-8 sequences, and pieces are looked up byte for byte.
    public func encode(bytes text: ArraySlice<UInt8>, spacePrefix: Bool) -> [Int] {
        guard !text.isEmpty else { return [] }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count + 3)
        for byte in (spacePrefix ? [0x20] : []) + text {
            if byte == 0x20 { bytes += Self.spaceMark } else { bytes.append(byte) }
        }
        var symbols: [Symbol] = []
        var offset = 0
        while offset < bytes.count {
            let length = min(Self.utf8Length(bytes[offset]), bytes.count - offset)
            symbols.append(Symbol(start: offset, length: length, previous: symbols.count - 1, next: offset + length == bytes.count ? -1 : symbols.count + 1))
            offset += length
        }
        var queue = BinaryHeap<Bigram>()
        var merges: [ArraySlice<UInt8>: (Int, Int)] = [:]
        func slice(_ start: Int, _ length: Int) -> ArraySlice<UInt8> { bytes[start..<(start + length)] }
        func addBigram(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let joined = slice(symbols[left].start, symbols[left].length + symbols[right].length)
            guard let id = vocabulary.ids[joined] else { return }
            queue.push(Bigram(left: left, right: right, score: vocabulary.scores[id], length: joined.count))
            merges[joined] = (left, right)
        }
        for index in symbols.indices.dropFirst() { addBigram(index - 1, index) }
        while let bigram = queue.pop() {
            let left = symbols[bigram.left], right = symbols[bigram.right]
            guard left.length > 0, right.length > 0, left.length + right.length == bigram.length else { continue }
            symbols[bigram.left].length += right.length
            symbols[bigram.right].length = 0
            symbols[bigram.left].next = right.next
            if right.next >= 0 { symbols[right.next].previous = bigram.left }
            addBigram(symbols[bigram.left].previous, bigram.left)
            addBigram(bigram.left, symbols[bigram.left].next)
        }
        var output: [Int] = []
        func resegment(_ index: Int) {
            let symbol = symbols[index]
            let piece = slice(symbol.start, symbol.length)
            if let id = vocabulary.ids[piece] {
                output.append(id)
                return
            }
            guard let (left, right) = merges[piece] else {
                for byte in piece { output.append(byteToken(byte)) }
                return
            }
            resegment(left)
            resegment(right)
        }
        var index = symbols.isEmpty ? -1 : 0
        while index != -1 {
            if symbols[index].length > 0 { resegment(index) }
            index = symbols[index].next
        }
        return output
    }

    /// "▁" (U+2581), which stands for a space in SentencePiece vocabularies.
    private static let spaceMark: [UInt8] = [0xE2, 0x96, 0x81]

    private func byteToken(_ byte: UInt8) -> Int {
        let hex = String(byte, radix: 16, uppercase: true)
        return vocabulary.id("<0x\(hex.count == 1 ? "0" + hex : hex)>") ?? vocabulary.unknown ?? 0
    }

    static func utf8Length(_ lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xF: 4
        case 0xE: 3
        case 0xC, 0xD: 2
        default: 1
        }
    }
}
