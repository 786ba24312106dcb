/// Makes text that came from a user, a file or the network safe to quote in a message: control characters
/// (terminal escape sequences included) are written as escapes, bytes that are not UTF-8 as `\xNN`, and anything
/// long is cut with a note of how much was left out. Every error that quotes a value goes through here, so a 50 MB
/// value or an `ESC [2J` in a name can neither flood nor repaint the operator's terminal.
public enum SafeText {
    /// The longest quoted value, in characters, before it is cut.
    public static let defaultLimit = 120

    /// `text` with control characters escaped (`\n`, `\t`, `\u{1B}`) and cut to `limit` characters.
    public static func quoted(_ text: String, limit: Int = defaultLimit) -> String {
        quoted(bytes: Array(text.utf8), limit: limit)
    }

    /// Bytes that may not be UTF-8 (a corrupted name in a binary file): valid sequences are quoted as text, every
    /// other byte as `\xNN`.
    public static func quoted(bytes: [UInt8], limit: Int = defaultLimit) -> String {
        var out = ""
        var index = 0
        var written = 0
        while index < bytes.count {
            guard written < limit else { return out + "… (\(bytes.count - index) more bytes)" }
            let length = sequenceLength(lead: bytes[index])
            if length > 0, index + length <= bytes.count,
               let scalar = String(validating: bytes[index..<(index + length)], as: UTF8.self)?.unicodeScalars.first {
                out += escaped(scalar)
                index += length
            } else {
                out += "\\x" + hex(bytes[index])
                index += 1
            }
            written += 1
        }
        return out
    }

    private static func sequenceLength(lead: UInt8) -> Int {
        switch lead {
        case 0x00...0x7F: 1
        case 0xC2...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF4: 4
        default: 0
        }
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\\": return "\\\\"
        default: break
        }
        let value = scalar.value
        // C0 and C1 controls, DEL, and the bidirectional controls that can make a name read backwards
        let isControl = value < 0x20 || (0x7F...0x9F).contains(value) || (0x202A...0x202E).contains(value)
            || (0x2066...0x2069).contains(value)
        guard isControl else { return String(scalar) }
        return "\\u{" + String(value, radix: 16, uppercase: true) + "}"
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}
