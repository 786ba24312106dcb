import Foundation
import Stack

/// An IAM policy's statements, whatever form the attribute holds (a document, or its JSON text as AWS returns it),
/// with each statement's lists normalised: a single string and a list of one read the same.
struct PolicyStatements {
    struct Statement {
        var effect: String
        var actions: [String]
        var notActions: [String]
        var resources: [String]
        var notResources: [String]
        /// `*`, or the AWS/Service/Federated principals named.
        var principals: [String]
        var conditions: [String: Value]
    }

    var statements: [Statement]

    init?(_ value: Value?) {
        // a map as the template wrote it, or the JSON text AWS returns: both in IAM's normal form
        guard let value, case .map(let fields) = PolicyDocument.normalize(value) else { return nil }
        let raw: [Value] = switch fields["Statement"] {
        case .list(let items)?: items
        case .map?: [fields["Statement"]!]
        default: []
        }
        statements = raw.compactMap { item in
            guard case .map(let statement) = item else { return nil }
            return Statement(effect: statement["Effect"]?.stringValue ?? "", actions: Self.strings(statement["Action"]),
                             notActions: Self.strings(statement["NotAction"]), resources: Self.strings(statement["Resource"]),
                             notResources: Self.strings(statement["NotResource"]),
                             principals: Self.principals(statement["Principal"]), conditions: statement["Condition"]?.mapValue ?? [:])
        }
    }

    var allowing: [Statement] { statements.filter { $0.effect == "Allow" } }

    static func strings(_ value: Value?) -> [String] {
        switch value {
        case .string(let text)?: [text]
        case .list(let items)?: items.compactMap(\.stringValue)
        default: []
        }
    }

    static func principals(_ value: Value?) -> [String] {
        switch value {
        case .string(let text)?: [text]
        case .map(let kinds)?: kinds.values.flatMap { strings($0) }
        default: []
        }
    }
}

extension PolicyStatements.Statement {
    /// Whether an action pattern of the statement matches `action` (IAM's `*` and `?` wildcards, case-insensitive);
    /// a NotAction statement allows every action it does not name.
    func allows(_ action: String) -> Bool {
        actions.contains { Self.matches($0, action) } || (!notActions.isEmpty && !notActions.contains { Self.matches($0, action) })
    }

    /// Whether the statement reaches every resource: `*`, or a NotResource (everything but what it names).
    var coversEveryResource: Bool { resources.contains("*") || !notResources.isEmpty }

    /// An Allow of every action (`*`, or a NotAction: everything but a few) on every resource: an administrator.
    var grantsEverything: Bool {
        effect == "Allow" && (actions.contains { $0 == "*" || $0 == "*:*" } || !notActions.isEmpty) && coversEveryResource
    }

    /// An Allow of iam:PassRole on any role at all (`*`, `arn:aws:iam::*:role/*`, a NotResource), which lets its holder
    /// hand any role, an administrator's among them, to a service it controls.
    var passesAnyRole: Bool {
        guard effect == "Allow", allows("iam:PassRole") else { return false }
        if coversEveryResource { return true }
        // a pattern that matches two unrelated roles of its account matches any of them, an administrator's too
        return resources.contains { pattern in
            let fields = pattern.split(separator: ":", omittingEmptySubsequences: false)
            let account = fields.count > 4 && !fields[4].contains("*") ? String(fields[4]) : "111122223333"
            return ["admin", "service-role/x9"].allSatisfy { Self.matches(pattern, "arn:aws:iam::\(account):role/\($0)") }
        }
    }

    static func matches(_ pattern: String, _ action: String) -> Bool {
        let expression = "^" + NSRegularExpression.escapedPattern(for: pattern.lowercased())
            .replacingOccurrences(of: "\\*", with: ".*").replacingOccurrences(of: "\\?", with: ".") + "$"
        return action.lowercased().range(of: expression, options: .regularExpression) != nil
    }
}
