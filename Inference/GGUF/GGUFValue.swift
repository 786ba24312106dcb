/// One metadata value of a GGUF file.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool)
    case string(String)
    case array([GGUFValue])

    /// The value as an integer, whatever its integer width.
    public var intValue: Int? {
        switch self {
        case .uint8(let value): Int(value)
        case .int8(let value): Int(value)
        case .uint16(let value): Int(value)
        case .int16(let value): Int(value)
        case .uint32(let value): Int(value)
        case .int32(let value): Int(value)
        case .uint64(let value): value <= UInt64(Int.max) ? Int(value) : nil
        case .int64(let value): Int(value)
        default: nil
        }
    }

    public var floatValue: Double? {
        switch self {
        case .float32(let value): Double(value)
        case .float64(let value): value
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(let value) = self { return value }
        return nil
    }
}

/// The element types GGUF metadata uses, by their numbers in the file.
enum GGUFValueType: UInt32 {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64
}
