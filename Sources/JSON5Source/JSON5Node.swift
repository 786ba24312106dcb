/// A JSON5 value with the position it was read from, so that later checks can point at the exact line.
public struct JSON5Node: Sendable {
    /// A key and its value, in file order.
    public struct Member: Sendable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: JSON5Node
    }

    public enum Kind: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case array([JSON5Node])
        case object([Member])
    }

    public var kind: Kind
    public var location: SourceLocation

    /// A short name for the kind, for "expected X, found Y" messages.
    public var kindName: String {
        switch kind {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}
