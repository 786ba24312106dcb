/// Bounds on what an expression may produce. No AWS field holds more than 64 KiB of text (user data holds 16 KiB,
/// a key policy 32 KiB), so a larger value is a mistake or an attack, and it is refused before it can take the
/// process's memory.
enum Limits {
    /// The longest string, in UTF-8 bytes.
    static let stringBytes = 65_536
    /// The most elements of one list or map.
    static let listElements = 10_000
    /// The most a whole value may weigh: every string's bytes plus every element, all the way down.
    static let valueWeight = 1_048_576

    /// `value`, or an error naming `origin` when it is larger than the limits.
    static func checked(_ value: Value, from origin: String) throws(EvaluationFailure) -> Value {
        var weight = 0
        try measure(value, into: &weight, from: origin)
        return value
    }

    /// A string known to be about to grow to `bytes`, refused before it is built.
    static func checkString(bytes: Int, from origin: String) throws(EvaluationFailure) {
        guard bytes <= stringBytes else {
            throw EvaluationFailure("\(origin): the result would be \(bytes) bytes, more than the \(stringBytes) any value may hold")
        }
    }

    private static func measure(_ value: Value, into weight: inout Int, from origin: String) throws(EvaluationFailure) {
        switch value {
        case .string(let text):
            try checkString(bytes: text.utf8.count, from: origin)
            weight += text.utf8.count
        case .list(let items):
            try checkCount(items.count, from: origin)
            weight += items.count
            for item in items { try measure(item, into: &weight, from: origin) }
        case .map(let entries):
            try checkCount(entries.count, from: origin)
            weight += entries.count
            for (key, item) in entries {
                weight += key.utf8.count
                try measure(item, into: &weight, from: origin)
            }
        default:
            weight += 1
        }
        guard weight <= valueWeight else {
            throw EvaluationFailure("\(origin): the result is larger than the \(valueWeight) bytes any value may hold")
        }
    }

    private static func checkCount(_ count: Int, from origin: String) throws(EvaluationFailure) {
        guard count <= listElements else {
            throw EvaluationFailure("\(origin): the result has \(count) elements, more than the \(listElements) a list or map may hold")
        }
    }
}
