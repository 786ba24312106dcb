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
        /// `*`, or the AWS/Service/Federated principals named.
        var principals: [String]
        var conditions: [String: Value]
    }

    var statements: [Statement]

    init?(_ value: Value?) {
        guard var document = value else { return nil }
        if case .string(let text) = document {
            guard let decoded = Self.decode(text) else { return nil }
            document = decoded
        }
        guard case .map(let fields) = document else { return nil }
        let raw: [Value] = switch fields["Statement"] {
        case .list(let items)?: items
        case .map?: [fields["Statement"]!]
        default: []
        }
        statements = raw.compactMap { item in
            guard case .map(let statement) = item else { return nil }
            return Statement(effect: statement["Effect"]?.stringValue ?? "", actions: Self.strings(statement["Action"]),
                             notActions: Self.strings(statement["NotAction"]), resources: Self.strings(statement["Resource"]),
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

    /// A JSON policy document as a value.
    static func decode(_ text: String) -> Value? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return nil }
        return convert(object)
    }

    private static func convert(_ object: Any) -> Value {
        switch object {
        case let text as String: .string(text)
        case let number as NSNumber where CFGetTypeID(number) == CFBooleanGetTypeID(): .bool(number.boolValue)
        case let number as NSNumber: number.doubleValue == Double(number.intValue) ? .int(number.intValue) : .double(number.doubleValue)
        case let items as [Any]: .list(items.map(convert))
        case let fields as [String: Any]: .map(fields.mapValues(convert))
        default: .null
        }
    }
}

extension PolicyStatements.Statement {
    /// Whether an action pattern of the statement matches `action` (IAM's `*` and `?` wildcards, case-insensitive).
    func allows(_ action: String) -> Bool {
        actions.contains { Self.matches($0, action) }
    }

    static func matches(_ pattern: String, _ action: String) -> Bool {
        let expression = "^" + NSRegularExpression.escapedPattern(for: pattern.lowercased())
            .replacingOccurrences(of: "\\*", with: ".*").replacingOccurrences(of: "\\?", with: ".") + "$"
        return action.lowercased().range(of: expression, options: .regularExpression) != nil
    }
}
