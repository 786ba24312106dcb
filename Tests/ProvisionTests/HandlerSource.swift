import Foundation

/// What a handler's source reads of the resource it is given, found by reading the source as text: each call of a
/// `DesiredResource` accessor (Sources/Provision/Core/Properties.swift), each `changed.contains`, each read of the
/// recorded state's attributes, with the literal that follows a read when it supplies a value of its own.
///
/// Text, not a parser: the handlers keep to a few plain forms (`resource.requireBool("name")`), and what does not
/// fit them (a name in a variable) is reported as dynamic, so nothing escapes the comparison silently.
struct HandlerSource {
    /// One place a property is read.
    struct Read: CustomStringConvertible {
        enum Kind: Equatable {
            /// `resource.<accessor>(...)` or `resource.properties[...]` (accessor "properties").
            case desired(accessor: String)
            /// `changed.contains("name")`: whether it changed, not its value.
            case changed
            /// `recorded.attributes["name"]`: the value the state recorded at the last apply.
            case recorded
        }

        var kind: Kind
        /// The property's name, or nil when it is not written as a literal.
        var name: String?
        /// What the source wrote right after the read when it supplies a value for a missing one: `?? "x"`, `== true`.
        var fallback: String?
        var file: String
        var line: Int

        var description: String { "\(file):\(line)" }
    }

    var file: String
    var text: String

    init(path: String) throws {
        file = (path as NSString).lastPathComponent
        text = try String(contentsOfFile: path, encoding: .utf8)
    }

    /// The accessors of Properties.swift that read one property's value.
    static let accessors = ["require", "requireString", "requireBool", "requireInt", "requireList", "requirePolicyJSON",
                            "string", "bool", "int", "strings", "policyJSON"]

    private static let literal = #""([^"\\]*)""#
    private static let desiredCall = regex(#"\bresource\.("# + accessors.joined(separator: "|") + #")\(\s*(?:"# + literal + #"\s*\)|([^)]*)\))"#)
    private static let desiredSubscript = regex(#"\bresource\.properties\[\s*(?:"# + literal + #"\s*\]|([^\]]*)\])"#)
    private static let changedCall = regex(#"\bchanged\.contains\(\s*"# + literal + #"\s*\)"#)
    private static let recordedSubscript = regex(#"\brecorded\.attributes\[\s*"# + literal + #"\s*\]"#)
    /// After a desired read: `?? <anything>`, or a comparison with a flag (`== true` treats a missing flag as false).
    private static let desiredFallback = regex(#"\s*(\?\?\s*(?:"[^"]*"|[^\s,)\]]+)|[=!]=\s*(?:true|false)\b)"#)
    /// After a recorded read: `?.intValue ?? 30` and the like.
    private static let recordedFallback = regex(#"\??\.\w+\s*\?\?\s*("[^"]*"|-?[0-9]+\b|true\b|false\b)"#)
    private static let tagRead = regex(#"\bresource\.(tags|removedTagKeys)\b"#)
    private static let desiredParameter = regex(#"(\w+)\s*:\s*DesiredResource\b"#)

    private static func regex(_ pattern: String) -> NSRegularExpression {
        do {
            return try NSRegularExpression(pattern: pattern)
        } catch {
            preconditionFailure("bad pattern \(pattern): \(error)")
        }
    }

    var reads: [Read] {
        var reads: [Read] = []
        for match in matches(Self.desiredCall) {
            reads.append(Read(kind: .desired(accessor: group(match, 1) ?? ""), name: group(match, 2), fallback: following(match, Self.desiredFallback),
                              file: file, line: line(match)))
        }
        for match in matches(Self.desiredSubscript) {
            reads.append(Read(kind: .desired(accessor: "properties"), name: group(match, 1), fallback: following(match, Self.desiredFallback),
                              file: file, line: line(match)))
        }
        for match in matches(Self.changedCall) {
            reads.append(Read(kind: .changed, name: group(match, 1), file: file, line: line(match)))
        }
        for match in matches(Self.recordedSubscript) {
            reads.append(Read(kind: .recorded, name: group(match, 1), fallback: following(match, Self.recordedFallback),
                              file: file, line: line(match)))
        }
        return reads.sorted { $0.line < $1.line }
    }

    /// Whether the source sets the resource's tags (the stack's, the template's and deploy's, merged by the Expander).
    var readsTags: Bool { !matches(Self.tagRead).isEmpty }

    /// The names given to `DesiredResource` parameters and bindings.
    var desiredNames: [(name: String, line: Int)] {
        matches(Self.desiredParameter).compactMap { match in group(match, 1).map { ($0, line(match)) } }
    }

    private func matches(_ regex: NSRegularExpression) -> [NSTextCheckingResult] {
        regex.matches(in: text, range: NSRange(location: 0, length: (text as NSString).length))
    }

    private func group(_ match: NSTextCheckingResult, _ index: Int) -> String? {
        Range(match.range(at: index), in: text).map { String(text[$0]) }
    }

    private func line(_ match: NSTextCheckingResult) -> Int {
        (text as NSString).substring(to: match.range.location).reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
    }

    /// The first group of `pattern` matched right where `match` ends, if it matches there.
    private func following(_ match: NSTextCheckingResult, _ pattern: NSRegularExpression) -> String? {
        let end = match.range.location + match.range.length
        let found = pattern.firstMatch(in: text, options: .anchored, range: NSRange(location: end, length: (text as NSString).length - end))
        return found.flatMap { Range($0.range(at: 1), in: text) }.map { String(text[$0]) }
    }
}
