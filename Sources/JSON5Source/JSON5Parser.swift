import Foundation
import TextSafety

/// Parses JSON5 (comments, trailing commas, unquoted keys, single quotes, hex, leading/trailing decimal points,
/// Infinity and NaN, line continuations) into nodes that remember their line and column.
///
/// Foundation's JSON5 reader reports neither line nor column, and cannot say where a decoded value came from;
/// every error in a stack must name its file and line, so the parser keeps positions itself.
public struct JSON5Parser {
    private let bytes: [UInt8]
    private let file: String
    private var offset = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0
    private static let maximumDepth = 200

    /// Parses one JSON5 document; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(StackError) -> JSON5Node {
        var parser = JSON5Parser(bytes: Array(text.utf8), file: file)
        try parser.skipTrivia()
        let node = try parser.value()
        try parser.skipTrivia()
        guard parser.offset == parser.bytes.count else {
            throw parser.error("unexpected \(parser.describeNext()) after the end of the document")
        }
        return node
    }

    private init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// How far along the current line columns have been counted: positions are asked for in increasing order, so
    /// each byte of a line is counted once, however long the line (a generated stack can be one line of megabytes).
    private var counted = (offset: 0, column: 1)

    /// The position of `offset`; columns count characters (UTF-8 lead bytes), not bytes.
    private mutating func location() -> SourceLocation {
        if counted.offset < lineStart || counted.offset > offset { counted = (lineStart, 1) }
        while counted.offset < offset {
            if bytes[counted.offset] & 0xC0 != 0x80 { counted.column += 1 }
            counted.offset += 1
        }
        return SourceLocation(file: file, line: line, column: counted.column)
    }

    private mutating func error(_ message: String) -> StackError { StackError(message, at: location()) }

    private var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private func describeNext() -> String {
        guard let byte = peek else { return "end of file" }
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(UnicodeScalar(byte)))'" }
        return String(format: "byte 0x%02X", byte)
    }

    private mutating func advance() {
        if bytes[offset] == UInt8(ascii: "\n") {
            line += 1
            lineStart = offset + 1
        }
        offset += 1
    }

    private mutating func skipTrivia() throws(StackError) {
        while let byte = peek {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C:
                advance()
            case 0xC2 where offset + 1 < bytes.count && bytes[offset + 1] == 0xA0:  // no-break space
                offset += 2
            case 0xEF where offset + 2 < bytes.count && bytes[offset + 1] == 0xBB && bytes[offset + 2] == 0xBF:  // BOM
                offset += 3
            case UInt8(ascii: "/"):
                guard offset + 1 < bytes.count else { throw error("unexpected '/'") }
                if bytes[offset + 1] == UInt8(ascii: "/") {
                    while let next = peek, next != UInt8(ascii: "\n") { advance() }
                } else if bytes[offset + 1] == UInt8(ascii: "*") {
                    let start = location()
                    advance(); advance()
                    while true {
                        guard let next = peek else { throw StackError("unterminated block comment", at: start) }
                        if next == UInt8(ascii: "*"), offset + 1 < bytes.count, bytes[offset + 1] == UInt8(ascii: "/") {
                            advance(); advance()
                            break
                        }
                        advance()
                    }
                } else {
                    throw error("unexpected '/'")
                }
            default:
                return
            }
        }
    }

    private mutating func value() throws(StackError) -> JSON5Node {
        let start = location()
        guard let byte = peek else { throw error("expected a value, found end of file") }
        switch byte {
        case UInt8(ascii: "{"): return JSON5Node(kind: .object(try object()), location: start)
        case UInt8(ascii: "["): return JSON5Node(kind: .array(try array()), location: start)
        case UInt8(ascii: "\""), UInt8(ascii: "'"): return JSON5Node(kind: .string(try string()), location: start)
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSON5Node(kind: try number(), location: start)
        default:
            let word = identifier()
            switch word {
            case "true": return JSON5Node(kind: .bool(true), location: start)
            case "false": return JSON5Node(kind: .bool(false), location: start)
            case "null": return JSON5Node(kind: .null, location: start)
            case "Infinity": return JSON5Node(kind: .double(.infinity), location: start)
            case "NaN": return JSON5Node(kind: .double(.nan), location: start)
            case "": throw error("expected a value, found \(describeNext())")
            default: throw StackError("unexpected word '\(SafeText.quoted(word))'; strings need quotes", at: start)
            }
        }
    }

    private mutating func enter() throws(StackError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels deep") }
    }

    private mutating func object() throws(StackError) -> [JSON5Node.Member] {
        try enter()
        defer { depth -= 1 }
        let open = location()
        advance()
        var members: [JSON5Node.Member] = []
        var seen: [String: SourceLocation] = [:]
        while true {
            try skipTrivia()
            guard let byte = peek else { throw StackError("'{' is never closed", at: open) }
            if byte == UInt8(ascii: "}") {
                advance()
                return members
            }
            let keyLocation = location()
            let key: String
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                key = try string()
            } else {
                key = identifier()
                guard !key.isEmpty else { throw error("expected a key or '}', found \(describeNext())") }
            }
            if let first = seen[key] {
                throw StackError("duplicate key '\(SafeText.quoted(key))' (first at line \(first.line))", at: keyLocation)
            }
            seen[key] = keyLocation
            try skipTrivia()
            guard peek == UInt8(ascii: ":") else { throw error("expected ':' after key '\(SafeText.quoted(key))', found \(describeNext())") }
            advance()
            try skipTrivia()
            members.append(JSON5Node.Member(key: key, keyLocation: keyLocation, value: try value()))
            try skipTrivia()
            if peek == UInt8(ascii: ",") {
                advance()
            } else if peek != UInt8(ascii: "}") {
                guard peek != nil else { throw StackError("'{' is never closed", at: open) }
                throw error("expected ',' or '}' after the value of '\(SafeText.quoted(key))', found \(describeNext())")
            }
        }
    }

    private mutating func array() throws(StackError) -> [JSON5Node] {
        try enter()
        defer { depth -= 1 }
        let open = location()
        advance()
        var elements: [JSON5Node] = []
        while true {
            try skipTrivia()
            guard let byte = peek else { throw StackError("'[' is never closed", at: open) }
            if byte == UInt8(ascii: "]") {
                advance()
                return elements
            }
            elements.append(try value())
            try skipTrivia()
            if peek == UInt8(ascii: ",") {
                advance()
            } else if peek != UInt8(ascii: "]") {
                guard peek != nil else { throw StackError("'[' is never closed", at: open) }
                throw error("expected ',' or ']' in a list, found \(describeNext())")
            }
        }
    }

    /// An ECMAScript identifier, as unquoted keys and the literals true/false/null/Infinity/NaN are written.
    private mutating func identifier() -> String {
        let start = offset
        while let byte = peek {
            let isStart = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte == 0x24
            let isDigit = byte >= 0x30 && byte <= 0x39
            guard isStart || (isDigit && offset > start) || byte >= 0x80 else { break }
            offset += 1
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    private mutating func string() throws(StackError) -> String {
        let start = location()
        let quote = bytes[offset]
        advance()
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw StackError("string is never closed", at: start) }
            if byte == quote {
                advance()
                return String(decoding: out, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                throw StackError("string is never closed before the end of the line", at: start)
            }
            if byte != UInt8(ascii: "\\") {
                out.append(byte)
                offset += 1
                continue
            }
            advance()
            guard let escaped = peek else { throw StackError("string is never closed", at: start) }
            let escapeLocation = location()
            advance()
            switch escaped {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "0") where !(peek.map { $0 >= 0x30 && $0 <= 0x39 } ?? false): out.append(0)
            case UInt8(ascii: "\n"): break  // line continuation
            case UInt8(ascii: "\r"):
                if peek == UInt8(ascii: "\n") { advance() }
            case UInt8(ascii: "x"):
                out.append(contentsOf: Array(String(Character(try scalar(hexDigits: 2, at: escapeLocation))).utf8))
            case UInt8(ascii: "u"):
                var value = try scalarValue(hexDigits: 4, at: escapeLocation)
                if (0xD800..<0xDC00).contains(value), peek == UInt8(ascii: "\\"),
                   offset + 1 < bytes.count, bytes[offset + 1] == UInt8(ascii: "u") {
                    offset += 2
                    let low = try scalarValue(hexDigits: 4, at: escapeLocation)
                    guard (0xDC00..<0xE000).contains(low) else { throw StackError("invalid surrogate pair", at: escapeLocation) }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(value) else {
                    throw StackError("invalid unicode escape", at: escapeLocation)
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            case UInt8(ascii: "1")...UInt8(ascii: "9"):
                throw StackError("octal escapes are not allowed in JSON5", at: escapeLocation)
            default:
                out.append(escaped)  // \" \' \\ \/ and any other character stand for themselves
            }
        }
    }

    private mutating func scalarValue(hexDigits: Int, at escape: SourceLocation) throws(StackError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<hexDigits {
            guard let byte = peek, let digit = Self.hexValue(byte) else {
                throw StackError("expected \(hexDigits) hexadecimal digits in escape", at: escape)
            }
            value = value * 16 + UInt32(digit)
            offset += 1
        }
        return value
    }

    private mutating func scalar(hexDigits: Int, at escape: SourceLocation) throws(StackError) -> Unicode.Scalar {
        let value = try scalarValue(hexDigits: hexDigits, at: escape)
        guard let scalar = Unicode.Scalar(value) else { throw StackError("invalid escape", at: escape) }
        return scalar
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    private mutating func number() throws(StackError) -> JSON5Node.Kind {
        let start = location()
        var negative = false
        if peek == UInt8(ascii: "-") || peek == UInt8(ascii: "+") {
            negative = peek == UInt8(ascii: "-")
            offset += 1
        }
        let word = identifierOrDigits()
        if word == "Infinity" { return .double(negative ? -.infinity : .infinity) }
        if word == "NaN" { return .double(.nan) }
        if word.hasPrefix("0x") || word.hasPrefix("0X") {
            guard let value = Int(word.dropFirst(2), radix: 16) else { throw StackError("invalid number '\(SafeText.quoted(word))'", at: start) }
            return .int(negative ? -value : value)
        }
        if word.count > 1, word.hasPrefix("0"), word.dropFirst().first?.isNumber == true {
            throw StackError("numbers cannot have leading zeros: '\(SafeText.quoted(word))'", at: start)
        }
        if let value = Int(word) { return .int(negative ? -value : value) }
        guard let value = Double(word), word.first != "e", word.first != "E" else {
            throw StackError("invalid number '\(SafeText.quoted(word))'", at: start)
        }
        return .double(negative ? -value : value)
    }

    private mutating func identifierOrDigits() -> String {
        let start = offset
        while let byte = peek {
            let isWord = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            let isSign = (byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-"))
                && offset > start && (bytes[offset - 1] | 0x20) == UInt8(ascii: "e")
                && !(offset - start >= 2 && (bytes[start + 1] | 0x20) == UInt8(ascii: "x"))
            guard isWord || byte == UInt8(ascii: ".") || isSign else { break }
            offset += 1
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }
}
