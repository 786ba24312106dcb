import Stack

/// Compares a desired property with a recorded or live one by meaning: policies normalised, unordered lists as
/// sets, security group rules with their own lists sorted, 2 and 2.0 the same.
public enum AttributeComparison {
    public static func equal(_ desired: Value, _ actual: Value?, schema: AttributeSchema?) -> Bool {
        guard desired != .unknown else { return false }
        let actual = actual ?? schema?.defaultValue ?? .null
        return normalize(desired, schema) == normalize(actual, schema)
    }

    /// The canonical form used for comparison.
    public static func normalize(_ value: Value, _ schema: AttributeSchema?) -> Value {
        guard let schema else { return numeric(value) }
        switch schema.kind {
        case .policy:
            return value == .null ? value : numeric(PolicyDocument.normalize(value))
        case .objectList:
            guard case .list(let items) = value else { return value }
            let rules = items.map { item -> Value in
                guard case .map(let fields) = item else { return numeric(item) }
                return .map(fields.mapValues { field in
                    if case .list(let inner) = field { return .list(inner.map(numeric).sorted { $0.sortKey < $1.sortKey }) }
                    return numeric(field)
                })
            }
            return .list(schema.unordered ? rules.sorted { $0.sortKey < $1.sortKey } : rules)
        case .stringList, .cidrList:
            guard case .list(let items) = value, schema.unordered else { return value }
            return .list(items.sorted { $0.sortKey < $1.sortKey })
        default:
            return numeric(value)
        }
    }

    /// Whole doubles become ints, so JSON round trips never show as changes.
    private static func numeric(_ value: Value) -> Value {
        switch value {
        case .double(let number) where number.rounded() == number && abs(number) < 1e15: .int(Int(number))
        case .list(let items): .list(items.map(numeric))
        case .map(let entries): .map(entries.mapValues(numeric))
        default: value
        }
    }
}
