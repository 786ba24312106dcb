import Foundation
import Hashing
import TextSafety

/// Reads a JSON5 source file (stack, template, catalog, benchmark result) as UTF-8 text; every failure says why:
/// the file is missing, is a directory, FIFO, socket or device (refused without being opened), cannot be read (with
/// the system's reason), or where its first byte that is not UTF-8 stands (line and column).
public enum SourceFile {
    public static func text(_ path: String, what: String) throws(StackError) -> String {
        let quoted = "'\(SafeText.quoted(path))'"
        let bytes: [UInt8]
        do {
            // never opened unless it is a regular file: a FIFO named as a stack would otherwise block the read forever
            bytes = try RegularFile.contents(path)
        } catch {
            let why = switch error.problem {
            case .missing: "no such file"
            case .notRegular(.directory): "it is a directory"
            case .notRegular(let kind): "it is \(kind), not a regular file"
            case .unreadable(let code): String(cString: strerror(code)).lowercased()
            }
            throw StackError("cannot read the \(what) \(quoted): \(why)", at: nil)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let (value, line, column) = firstInvalidByte(bytes)
            throw StackError("the \(what) is not UTF-8 text: byte 0x\(String(value, radix: 16, uppercase: true)) cannot start or continue a character",
                             at: SourceLocation(file: path, line: line, column: column))
        }
        return text
    }

    /// The first byte of `bytes` that breaks UTF-8, with its line and column (columns count characters).
    static func firstInvalidByte(_ bytes: [UInt8]) -> (value: UInt8, line: Int, column: Int) {
        var index = 0, line = 1, column = 1
        while index < bytes.count {
            let lead = bytes[index]
            let length = SafeText.utf8SequenceLength(lead: lead)
            guard length > 0, index + length <= bytes.count,
                  String(validating: bytes[index..<(index + length)], as: UTF8.self) != nil else { break }
            if lead == 0x0A { line += 1; column = 1 } else { column += 1 }
            index += length
        }
        return (index < bytes.count ? bytes[index] : 0, line, column)
    }
}
