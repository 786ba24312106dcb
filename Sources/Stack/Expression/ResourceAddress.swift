import TextSafety

/// Names one resource instance: `phase.name` or, for counted resources, `phase.name[index]`.
public struct ResourceAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var phase: String
    public var name: String
    public var index: Int?

    public init(phase: String, name: String, index: Int? = nil) {
        self.phase = phase
        self.name = name
        self.index = index
    }

    /// Parses `phase.name` or `phase.name[3]`.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty else { return nil }
        phase = String(parts[0])
        var name = Substring(parts[1])
        index = nil
        if name.hasSuffix("]"), let open = name.firstIndex(of: "[") {
            guard let value = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]), value >= 0 else { return nil }
            index = value
            name = name[..<open]
        }
        guard !name.isEmpty, !name.contains("[") else { return nil }
        self.name = String(name)
    }

    public var description: String {
        index.map { "\(phase).\(name)[\($0)]" } ?? "\(phase).\(name)"
    }

    /// The address of the whole block, without an index.
    public var block: String { "\(phase).\(name)" }

    public static func < (lhs: ResourceAddress, rhs: ResourceAddress) -> Bool {
        if lhs.phase != rhs.phase { return (Phase(rawValue: lhs.phase)?.order ?? 9, lhs.phase) < (Phase(rawValue: rhs.phase)?.order ?? 9, rhs.phase) }
        if lhs.name != rhs.name { return lhs.name < rhs.name }
        return (lhs.index ?? -1) < (rhs.index ?? -1)
    }
}

extension ResourceAddress: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = ResourceAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid resource address '\(SafeText.quoted(text))'"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The four phases, applied in this order.
public enum Phase: String, Sendable, CaseIterable, Codable {
    case network, keys, storage, inference

    public var order: Int { Phase.allCases.firstIndex(of: self) ?? 0 }
}
