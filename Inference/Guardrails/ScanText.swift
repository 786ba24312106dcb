/// A text as the detectors walk it: its UTF-8 bytes, with the character classes they share.
struct ScanText {
    let bytes: [UInt8]

    init(_ text: String) { bytes = Array(text.utf8) }

    init(bytes: [UInt8]) { self.bytes = bytes }

    var count: Int { bytes.count }

    subscript(_ index: Int) -> UInt8 { index >= 0 && index < bytes.count ? bytes[index] : 0 }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    static func isLower(_ byte: UInt8) -> Bool { byte >= 0x61 && byte <= 0x7A }
    static func isLetter(_ byte: UInt8) -> Bool { isUpper(byte) || isLower(byte) }
    static func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }
    static func isHex(_ byte: UInt8) -> Bool { isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66) }
    /// A byte of a base64url run (JWT parts).
    static func isBase64URL(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") }

    /// Whether `index` starts a word: nothing before it that a token of letters and digits would run on from.
    func startsWord(_ index: Int) -> Bool { !Self.isAlphanumeric(self[index - 1]) }

    /// Whether a token ending before `index` ends a word.
    func endsWord(_ index: Int) -> Bool { !Self.isAlphanumeric(self[index]) }

    /// The digits of `range`, separators left out.
    func digits(_ range: Range<Int>) -> [Int] { range.compactMap { Self.isDigit(bytes[$0]) ? Int(bytes[$0] - 0x30) : nil } }

    /// Whether `word` (lower-case ASCII) occurs in `range`, ignoring case.
    func contains(_ word: String, in range: Range<Int>) -> Bool {
        let needle = Array(word.utf8)
        let lower = max(0, range.lowerBound), upper = min(count, range.upperBound)
        guard upper - lower >= needle.count else { return false }
        for start in lower...(upper - needle.count) where zip(needle, bytes[start..<start + needle.count]).allSatisfy({ $0 == ($1 | (Self.isUpper($1) ? 0x20 : 0)) }) {
            return true
        }
        return false
    }
}
