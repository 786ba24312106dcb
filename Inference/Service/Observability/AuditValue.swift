import Foundation

/// A JSON value an audit record keeps as the client gave it (a request's sampling parameters): typed, so that a
/// record is a struct the encoder writes, not a dictionary of anything.
public enum AuditValue: Encodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([AuditValue])
    case object([String: AuditValue])

    /// A value as `JSONSerialization` parsed it (NSNumber booleans told from numbers); anything else is its text.
    public init(parsed value: Any) {
        switch value {
        case is NSNull: self = .null
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c": self = .bool(number.boolValue)
            case "d", "f": self = .double(number.doubleValue)
            default: self = Int(exactly: number.doubleValue).map(AuditValue.int) ?? .double(number.doubleValue)
            }
        case let text as String: self = .string(text)
        case let list as [Any]: self = .array(list.map(AuditValue.init(parsed:)))
        case let object as [String: Any]: self = .object(object.mapValues(AuditValue.init(parsed:)))
        default: self = .string("\(value)")
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
        case .array(let values): try container.encode(values)
        case .object(let values): try container.encode(values)
        }
    }
}
