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
            let length = utf8SequenceLength(lead: bytes[index])
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

    /// A whole message made safe for a terminal: line breaks and tabs stay, every other control character is
    /// escaped, and a message longer than `limit` characters is cut. The last guard before standard error, for
    /// whatever an error quotes that was not quoted through `quoted` at its source.
    public static func terminal(_ message: String, limit: Int = 8_000) -> String {
        var out = ""
        var count = 0
        for scalar in message.unicodeScalars {
            guard count < limit else { return out + "… (cut)" }
            out += scalar == "\n" || scalar == "\t" || !isControl(scalar) ? String(scalar) : escaped(scalar)
            count += 1
        }
        return out
    }

    /// How many bytes a UTF-8 sequence starting with `lead` has, or 0 when `lead` cannot start one.
    public static func utf8SequenceLength(lead: UInt8) -> Int {
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
        guard isControl(scalar) else { return String(scalar) }
        return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
    }

    /// C0 and C1 controls, DEL, and the bidirectional controls that can make a name read backwards.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7F...0x9F).contains(value) || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }

    /// `text` safe inside an XML element or a double-quoted attribute.
    public static func xmlEscaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
