/// The placeholders of one request: each distinct value of a label gets the next number (`[EMAIL_1]`,
/// `[EMAIL_2]`), the same value the same placeholder wherever it occurs, in the prompt and in the answer. With
/// pseudonymization the prompt's values are restored in what the caller gets (never a value the model wrote and
/// the output rules masked); they are never written anywhere.
public struct Placeholders: Sendable {
    private var byValue: [String: String] = [:]
    /// Placeholder to value, for the values masked in the prompt.
    public private(set) var values: [String: String] = [:]
    private var counters: [String: Int] = [:]

    public init() {}

    /// The placeholder of `value`; one masked in the prompt (`restorable`) is restored in the answer.
    mutating func placeholder(label: String, value: String, restorable: Bool) -> String {
        let key = label + "\u{0}" + value
        if let known = byValue[key] { return known }
        counters[label, default: 0] += 1
        let placeholder = "[\(label)_\(counters[label]!)]"
        byValue[key] = placeholder
        if restorable { values[placeholder] = value }
        return placeholder
    }

    /// `text` with every placeholder of this request replaced by its value.
    public func restore(_ text: String) -> String {
        guard !values.isEmpty, text.utf8.contains(UInt8(ascii: "[")) else { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "["), let close = bytes[index...].prefix(Self.longest).firstIndex(of: UInt8(ascii: "]")),
               let value = values[String(decoding: bytes[index...close], as: UTF8.self)] {
                out += Array(value.utf8)
                index = close + 1
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The longest a placeholder can be: a label (at most 40 bytes), "_", a number, brackets.
    static let longest = 64
}
