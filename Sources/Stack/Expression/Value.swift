/// A value in a stack: what parameters, properties, expressions and recorded state hold.
///
/// `unknown` stands for a value only known after apply (an id the cloud assigns); it flows through expressions,
/// so anything computed from it is unknown too.
public enum Value: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    case map([String: Value])
    case unknown

    /// Whether this value, or anything inside it, is unknown until apply.
    public var containsUnknown: Bool {
        switch self {
        case .unknown: true
        case .list(let items): items.contains { $0.containsUnknown }
        case .map(let entries): entries.values.contains { $0.containsUnknown }
        default: false
        }
    }

    /// A short name of the kind, for type errors.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .double: "number"
        case .string: "string"
        case .list: "list"
        case .map: "map"
        case .unknown: "unknown"
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .int(let value): value
        case .double(let value) where value.rounded() == value && abs(value) < 1e15: Int(value)
        default: nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var listValue: [Value]? {
        if case .list(let value) = self { return value }
        return nil
    }

    public var mapValue: [String: Value]? {
        if case .map(let value) = self { return value }
        return nil
    }

    /// The value converted from a parsed JSON5 node (positions dropped).
    public init(_ node: JSON5Node) {
        switch node.kind {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .int(let value): self = .int(value)
        case .double(let value): self = .double(value)
        case .string(let value): self = .string(value)
        case .array(let items): self = .list(items.map(Value.init))
        case .object(let members): self = .map(Dictionary(members.map { ($0.key, Value($0.value)) }) { first, _ in first })
        }
    }
}

extension Value: CustomStringConvertible {
    /// The value as it is written in plans: strings quoted, maps with sorted keys.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .double(let value): return value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .string(let value): return quoted(value)
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries):
            let body = entries.keys.sorted().map { "\(Value.displayKey($0)) = \(entries[$0]!.description)" }
            return "{" + body.joined(separator: ", ") + "}"
        case .unknown: return "(known after apply)"
        }
    }

    /// The text a value interpolates as inside a string.
    public var interpolated: String {
        switch self {
        case .string(let value): value
        default: description
        }
    }

    private func quoted(_ text: String) -> String {
        var out = ""
        CanonicalJSON.writeString(text, to: &out)
        return out
    }

    /// A map key as plans write it: bare when it is a plain word, quoted otherwise.
    public static func displayKey(_ key: String) -> String {
        key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ":" || $0 == "." } && !key.isEmpty
            ? key : Value.string(key).description
    }
}

extension Value: Codable {
    /// Values are stored as plain JSON; unknown is written as the object `{"$unknown": true}`, which no stack value can be.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([Value].self) { self = .list(value) }
        else {
            let entries = try container.decode([String: Value].self)
            self = entries == ["$unknown": .bool(true)] ? .unknown : .map(entries)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .list(let value): try container.encode(value)
        case .map(let value): try container.encode(value)
        case .unknown: try container.encode(["$unknown": true])
        }
    }
}
