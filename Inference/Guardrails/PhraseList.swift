/// Words and phrases an operator lists, found as whole words in the folded text (`NormalizedText.Form.folded`):
/// case, accents, look-alike letters, invisible characters and the spacing between words do not hide them.
public struct PhraseList: Sendable {
    /// The folded phrases, indexed by their first byte (256 lists: a table, not a hash, on the hot path).
    private let byFirstByte: [[[UInt8]]]
    /// The longest phrase, in folded bytes (a stream holds back at least this much).
    public let longest: Int

    /// Nil when a phrase folds to nothing (only invisible characters or spaces).
    public init?(_ phrases: [String]) {
        var index = [[[UInt8]]](repeating: [], count: 256)
        var longest = 0
        for phrase in phrases {
            var folded = NormalizedText(phrase, form: .folded).bytes[...]
            while folded.first == 0x20 { folded = folded.dropFirst() }
            while folded.last == 0x20 { folded = folded.dropLast() }
            guard let first = folded.first else { return nil }
            index[Int(first)].append(Array(folded))
            longest = max(longest, folded.count)
        }
        // longest first: "acme corp" stands over "acme" where both start at one place
        byFirstByte = index.map { $0.sorted { $0.count > $1.count } }
        self.longest = longest
    }

    /// The ranges of the folded text's bytes where a phrase stands as whole words.
    func matches(in text: NormalizedText) -> [Range<Int>] {
        let bytes = text.bytes
        var found: [Range<Int>] = []
        var position = 0
        while position < bytes.count {
            let candidates = byFirstByte[Int(bytes[position])]
            guard !candidates.isEmpty, position == 0 || !Self.continuesWord(bytes[position - 1], bytes[position]) else {
                position += 1
                continue
            }
            var matched = 0
            for phrase in candidates where position + phrase.count <= bytes.count {
                let end = position + phrase.count
                guard bytes[position..<end].elementsEqual(phrase) else { continue }
                if end < bytes.count, Self.continuesWord(bytes[end - 1], bytes[end]) { continue }
                matched = phrase.count
                break
            }
            if matched > 0 {
                found.append(position..<position + matched)
                position += matched
            } else {
                position += 1
            }
        }
        return found
    }

    /// Whether `next` runs on from `previous` within one word: both ASCII letters or digits. A phrase beside a
    /// non-ASCII letter (a CJK text has no spaces between words) still counts as standing alone.
    private static func continuesWord(_ previous: UInt8, _ next: UInt8) -> Bool {
        isWordByte(previous) && isWordByte(next)
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }
}
