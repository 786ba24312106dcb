import Foundation

/// JSON with sorted keys and no insignificant whitespace: equal values always give equal bytes.
public enum CanonicalJSON {
    /// Encodes a known value; unknown values cannot be encoded.
    public static func encode(_ value: Value) throws(EvaluationFailure) -> String {
        var out = ""
        try write(value, to: &out)
        return out
    }

    private static func write(_ value: Value, to out: inout String) throws(EvaluationFailure) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .int(let number): out += String(number)
        case .double(let number):
            guard number.isFinite else { throw EvaluationFailure("JSON cannot represent \(number)") }
            out += number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case .string(let text): writeString(text, to: &out)
        case .list(let items):
            out += "["
            for (position, item) in items.enumerated() {
                if position > 0 { out += "," }
                try write(item, to: &out)
            }
            out += "]"
        case .map(let entries):
            out += "{"
            for (position, key) in entries.keys.sorted().enumerated() {
                if position > 0 { out += "," }
                writeString(key, to: &out)
                out += ":"
                try write(entries[key]!, to: &out)
            }
            out += "}"
        case .unknown:
            throw EvaluationFailure("a value known only after apply cannot be encoded as JSON yet")
        }
    }

    /// Appends `text` as a JSON string literal.
    static func writeString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// IAM policy documents compared by meaning, not spelling: a single string and a one-element list are the same,
/// lists of actions, resources and principals are sets, statements are unordered, and `Version` defaults to 2012-10-17.
public enum PolicyDocument {
    /// Keys whose values are sets of strings in IAM's grammar.
    private static let setKeys: Set<String> = ["Action", "NotAction", "Resource", "NotResource", "AWS", "Service", "Federated", "CanonicalUser"]

    /// The normal form of a policy given as a map or as a JSON string.
    public static func normalize(_ value: Value) -> Value {
        var document = value
        if case .string(let text) = value, let node = try? JSON5Parser.parse(text, file: "policy") {
            document = Value(node)
        }
        guard case .map(var entries) = document else { return document }
        if entries["Version"] == nil { entries["Version"] = .string("2012-10-17") }
        if let statements = entries["Statement"] {
            let list: [Value] = statements.listValue ?? [statements]
            let normalized = Set(list.map { normalizeNode($0, key: "") })
            entries["Statement"] = .list(normalized.sorted { ($0.sortKey) < ($1.sortKey) })
        }
        return .map(entries)
    }

    private static func normalizeNode(_ value: Value, key: String) -> Value {
        switch value {
        case .map(let entries):
            return .map(entries.reduce(into: [:]) { $0[$1.key] = normalizeNode($1.value, key: $1.key) })
        case .list(let items) where setKeys.contains(key):
            let unique = Set(items.map { normalizeNode($0, key: "") })
            return unique.count == 1 ? unique.first! : .list(unique.sorted { $0.sortKey < $1.sortKey })
        case .list(let items):
            return .list(items.map { normalizeNode($0, key: "") })
        default:
            return value
        }
    }
}

extension Value {
    /// A total order for sorting sets of values deterministically.
    public var sortKey: String { (try? CanonicalJSON.encode(self)) ?? description }
}
