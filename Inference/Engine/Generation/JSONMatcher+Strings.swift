/// The bytes of a JSON string: escapes (no unpaired surrogate), UTF-8 checked byte by byte, the length bounds of the
/// rule, and a free key's bytes kept as written.
extension JSONMatcher {
    /// One byte inside a string (after its opening quote); nil if it may not come.
    func stringStep(_ s: inout StringState, _ byte: UInt8) -> StringByte? {
        if s.continuation > 0 {
            guard byte >= s.low, byte <= s.high else { return nil }
            s.continuation -= 1
            s.low = 0x80
            s.high = 0xBF
            if s.keyOf != nil { s.key.append(byte) }
            return .content
        }
        switch s.escape {
        case 1:
            if byte == UInt8(ascii: "u") {
                s.escape = 2
                return .content
            }
            guard [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                   UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t")].contains(byte) else { return nil }
            s.escape = 0
            return .content
        case 2...5:
            let isHex = (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66)
            guard isHex else { return nil }
            // no surrogate halves (\uD800-\uDFFF): an unpaired one is not a character
            if s.escape == 2 { s.escapeFirstDigitD = byte | 0x20 == UInt8(ascii: "d") }
            if s.escape == 3, s.escapeFirstDigitD, (byte >= 0x38 && byte <= 0x39) || byte | 0x20 >= 0x61 { return nil }
            s.escape = s.escape == 5 ? 0 : s.escape + 1
            return .content
        default: break
        }
        if byte == UInt8(ascii: "\"") {
            return s.count >= s.minimum ? .closed : nil
        }
        guard byte >= 0x20, s.count < (s.maximum ?? Int.max) else { return nil }
        if byte == UInt8(ascii: "\\") {
            // keys are kept as written, so a free key has no escapes (its name must be comparable)
            guard s.keyOf == nil else { return nil }
            s.escape = 1
            s.count += 1
            return .content
        }
        switch byte {
        case 0x20..<0x80: break
        case 0xC2...0xDF: s.continuation = 1
        case 0xE0: s.continuation = 2; s.low = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: s.continuation = 2
        case 0xED: s.continuation = 2; s.high = 0x9F
        case 0xF0: s.continuation = 3; s.low = 0x90
        case 0xF1...0xF3: s.continuation = 3
        case 0xF4: s.continuation = 3; s.high = 0x8F
        default: return nil
        }
        s.count += 1
        if s.keyOf != nil { s.key.append(byte) }
        return .content
    }
}
