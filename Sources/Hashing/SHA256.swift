import CCrypto
import Foundation

/// SHA-256 through libcrypto, whole or fed in pieces: request signing, artifact digests, API keys and the audit
/// chain all use this one.
public struct SHA256: ~Copyable {
    private let context: OpaquePointer

    /// A digest to feed with `update`.
    public init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            preconditionFailure("libcrypto could not start a SHA-256 digest")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(EVP_DigestUpdate(context, base, bytes.count) == 1, "libcrypto SHA-256 failed")
    }

    /// The 32-byte digest of everything fed so far.
    public consuming func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &size) }
        precondition(ok == 1 && size == 32, "libcrypto SHA-256 failed")
        return digest
    }

    /// The digest of `bytes`.
    public static func digest(_ bytes: some ContiguousBytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        let ok = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { deploy_sha256(input.baseAddress, input.count, $0.baseAddress) }
        }
        precondition(ok == 1, "libcrypto SHA-256 failed")
        return digest
    }

    /// The lower-case hex digest of `bytes`.
    public static func hex(_ bytes: some ContiguousBytes) -> String { Hex.encode(digest(bytes)) }

    /// The lower-case hex digest of a string's UTF-8 bytes.
    public static func hex(_ text: String) -> String { hex(Array(text.utf8)) }
}

/// Lower-case hexadecimal.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `text`, or nil when it is not an even number of hex digits.
    public static func decode(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for pair in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[pair]), let low = value(digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// SHA-256 fed in pieces, held by reference: for digests kept in arrays and classes, where a `~Copyable` value
/// cannot be consumed.
public final class SHA256Stream {
    private var digest: SHA256?

    public init() { digest = SHA256() }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard var current = digest.take() else { preconditionFailure("SHA256Stream updated after finish") }
        current.update(bytes)
        digest = consume current
    }

    /// The digest of everything fed; the stream is done after this.
    public func finish() -> [UInt8] {
        guard let current = digest.take() else { preconditionFailure("SHA256Stream finished twice") }
        return current.finish()
    }
}
