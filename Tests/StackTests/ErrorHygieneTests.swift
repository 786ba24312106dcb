import Foundation
import Testing
@testable import Stack
import TextSafety

/// What an error quotes is cut short and escaped, and an unreadable file says why and where.
@Suite("error hygiene")
struct ErrorHygieneTests {
    @Test("SafeText quotes control characters, invalid bytes and long values safely", arguments: [
        ("plain", "plain"),
        ("a\nb\tc\\d", "a\\nb\\tc\\\\d"),
        ("\u{1B}[2J\u{1B}]0;title\u{7}", "\\u{1B}[2J\\u{1B}]0;title\\u{7}"),
        ("\u{202E}txt.exe", "\\u{202E}txt.exe"),
        ("\u{9B}31m", "\\u{9B}31m"),
        ("é😀", "é😀"),
        (String(repeating: "x", count: 200), String(repeating: "x", count: 120) + "… (80 more bytes)"),
    ])
    func quoted(_ input: String, _ expected: String) {
        #expect(SafeText.quoted(input) == expected)
    }

    @Test("bytes that are not UTF-8 are written as \\xNN")
    func invalidBytes() {
        #expect(SafeText.quoted(bytes: [0x61, 0xFF, 0x62, 0xE2, 0x96]) == "a\\xFFb\\xE2\\x96")
        #expect(SafeText.terminal("line one\n\u{1B}[31mred\tok\\n") == "line one\n\\u{1B}[31mred\tok\\n")
    }

    static func load(_ text: String) throws(StackError) -> StackFile { try StackFile.parse(text, file: "s.json5") }

    @Test("a huge or hostile value is quoted short and escaped, wherever an error quotes it", arguments: [
        #"{ name: "HUGE", account: "123456789012", region: "eu-west-1" }"#,
        #"{ name: "ok", account: "HUGE", region: "eu-west-1" }"#,
        #"{ name: "ok", account: "123456789012", region: "HUGE" }"#,
        #"{ name: "ok", account: "123456789012", region: "eu-west-1", "HUGE": 1 }"#,
        #"{ name: "ok", account: "123456789012", region: "eu-west-1", phases: { "HUGE": {} } }"#,
        #"{ name: "ok", account: "123456789012", region: "eu-west-1", tags: { "HUGE": "x" } }"#,
    ])
    func hostileValue(_ template: String) {
        let hostile = "\u{1B}[2J\u{1B}[H" + String(repeating: "A", count: 2_000_000)
        do {
            _ = try Self.load(template.replacingOccurrences(of: "HUGE", with: hostile.replacingOccurrences(of: "\u{1B}", with: "\\u001b")))
            Issue.record("accepted")
        } catch {
            #expect(error.description.utf8.count < 1_000, "\(error.description.prefix(300))")
            #expect(!error.description.contains("\u{1B}"))
            #expect(error.description.contains("\\u{1B}[2J") && error.description.contains("more bytes)"), "\(error.description.prefix(300))")
        }
    }

    @Test("a file that is not UTF-8 is refused at the line and column of its first bad byte")
    func notUTF8() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("{\n  name: \"é".utf8 + [0xC3, 0x28] + Data("\",\n}".utf8)).write(to: URL(fileURLWithPath: path))
        #expect { _ = try StackFile.load(path) } throws: { error in
            (error as? StackError)?.description == "\(path):2:11: the stack file is not UTF-8 text: byte 0xC3 cannot start or continue a character"
        }
    }

    @Test("an unreadable stack file says why")
    func unreadable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unreadable-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect { _ = try StackFile.load(directory + "/missing.json5") } throws: { error in
            "\(error)".hasSuffix("missing.json5': no such file")
        }
        #expect { _ = try StackFile.load(directory) } throws: { error in "\(error)".hasSuffix("': it is a directory") }
    }
}
