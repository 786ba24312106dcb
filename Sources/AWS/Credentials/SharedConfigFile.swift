import Foundation
import Diagnostics

/// An AWS shared config or credentials file (INI): `[section]` headers, `key = value` lines,
/// `#`/`;` comments, and indented lines that form a nested block under the key before them.
public struct SharedConfigFile: Sendable {
    /// One setting and the line it was on.
    public struct Setting: Sendable, Equatable {
        public var value: String
        public var line: Int
    }

    /// One `[section]` and its settings.
    public struct Section: Sendable, Equatable {
        public var name: String
        public var line: Int
        public var settings: [String: Setting]
    }

    public var path: String
    public var sections: [String: Section]

    /// Reads and parses `path`; a file that does not exist is an empty file, as for the AWS CLI.
    public static func load(path: String) throws(ConfigFileError) -> SharedConfigFile {
        guard FileManager.default.fileExists(atPath: path) else { return SharedConfigFile(path: path, sections: [:]) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigFileError(path: path, line: 0, message: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigFileError(path: path, line: 0, message: "is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(ConfigFileError) -> SharedConfigFile {
        var sections: [String: Section] = [:]
        var current: String?
        var nestedUnder: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            let indented = line.first == " " || line.first == "\t"

            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
                    throw ConfigFileError(path: path, line: number, message: "section header '\(trimmed)' is not closed by ']'")
                }
                let name = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                    .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                current = name
                nestedUnder = nil
                if sections[name] == nil { sections[name] = Section(name: name, line: number, settings: [:]) }
                continue
            }
            guard let section = current else {
                throw ConfigFileError(path: path, line: number, message: "'\(trimmed)' comes before any [section]")
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ConfigFileError(path: path, line: number, message: "expected 'key = value', found '\(trimmed)'")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let value = stripInlineComment(trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces))
            guard !key.isEmpty else {
                throw ConfigFileError(path: path, line: number, message: "a setting has no name")
            }
            if indented, let parent = nestedUnder {
                sections[section]?.settings["\(parent).\(key)"] = Setting(value: value, line: number)
            } else {
                sections[section]?.settings[key] = Setting(value: value, line: number)
                nestedUnder = value.isEmpty ? key : nil
            }
        }
        return SharedConfigFile(path: path, sections: sections)
    }

    /// Drops a ` #` or ` ;` comment that follows a value.
    private static func stripInlineComment(_ value: String) -> String {
        for marker in [" #", " ;", "\t#", "\t;"] {
            if let range = value.range(of: marker) { return value[..<range.lowerBound].trimmingCharacters(in: .whitespaces) }
        }
        return value
    }
}

/// A config or credentials file that cannot be used, with the place to fix it.
public struct ConfigFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    /// 1-based; 0 when the problem is the file as a whole.
    public var line: Int
    public var message: String

    public var description: String { line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)" }
}

extension ConfigFileError: UserFacingError {
    public var failureKind: FailureKind { .usage }
    public var errorLocation: ErrorLocation? { line > 0 ? ErrorLocation(file: path, line: line) : nil }
}
