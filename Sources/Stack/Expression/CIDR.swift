import TextSafety

/// An IPv4 network in CIDR notation.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public var address: UInt32
    public var prefixLength: Int

    /// Parses `a.b.c.d/n`; the address must be the network's first address (no host bits set).
    public init(_ text: String) throws(EvaluationFailure) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length), parts[1].allSatisfy(\.isNumber) else {
            throw EvaluationFailure("'\(SafeText.quoted(text))' is not a CIDR block like 10.0.0.0/16")
        }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { throw EvaluationFailure("'\(SafeText.quoted(text))' is not a CIDR block like 10.0.0.0/16") }
        var address: UInt32 = 0
        for octet in octets {
            guard let value = UInt32(octet), value <= 255, octet.allSatisfy(\.isNumber), octet.count <= 3 else {
                throw EvaluationFailure("'\(SafeText.quoted(text))' is not a CIDR block like 10.0.0.0/16")
            }
            address = address << 8 | value
        }
        let cidr = CIDR(address: address, prefixLength: length)
        guard address & ~cidr.mask == 0 else {
            throw EvaluationFailure("'\(SafeText.quoted(text))' has host bits set; the network is \(CIDR(address: address & cidr.mask, prefixLength: length))")
        }
        self = cidr
    }

    public init(address: UInt32, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    public var mask: UInt32 { prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength) }
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }
    public var last: UInt32 { address | ~mask }

    public func contains(_ other: CIDR) -> Bool {
        other.prefixLength >= prefixLength && other.address & mask == address
    }

    public func overlaps(_ other: CIDR) -> Bool { contains(other) || other.contains(self) }

    public var description: String { "\(Self.dotted(address))/\(prefixLength)" }

    static func dotted(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }

    /// Terraform's cidrsubnet: the `number`th subnet with `newBits` more prefix bits.
    public func subnet(newBits: Int, number: Int) throws(EvaluationFailure) -> CIDR {
        guard newBits >= 0, newBits <= 32 - prefixLength else {
            throw EvaluationFailure("cidrsubnet: \(self) cannot be extended by \(newBits) bits (at most \(32 - prefixLength))")
        }
        let length = prefixLength + newBits
        guard number >= 0, UInt64(number) < (UInt64(1) << UInt64(newBits)) else {
            throw EvaluationFailure("cidrsubnet: \(newBits) new bits give \(UInt64(1) << UInt64(newBits)) subnets; \(number) is out of range")
        }
        let shifted = length == 32 ? UInt32(number) : UInt32(number) << UInt32(32 - length)
        return CIDR(address: address | shifted, prefixLength: length)
    }

    /// Terraform's cidrhost: the `number`th address in the network (negative counts from the end).
    public func host(_ number: Int) throws(EvaluationFailure) -> String {
        guard number >= -Int(size), number < Int(size) else {
            throw EvaluationFailure("cidrhost: \(self) has \(size) addresses; \(number) is out of range")
        }
        let offset = number >= 0 ? UInt64(number) : size - UInt64(-number)
        return Self.dotted(address + UInt32(offset))
    }
}
