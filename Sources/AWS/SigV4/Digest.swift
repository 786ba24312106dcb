import CCrypto
import Foundation
import Hashing

/// SHA-256 and HMAC-SHA-256 over libcrypto, the only hashing SigV4 needs.
public enum Digest {
    /// The SHA-256 digest of `data`.
    public static func sha256(_ data: some ContiguousBytes) -> [UInt8] {
        SHA256.digest(data)
    }

    /// The SHA-256 digest of a string's UTF-8 bytes.
    public static func sha256(_ string: String) -> [UInt8] {
        sha256(Array(string.utf8))
    }

    /// HMAC-SHA-256 of `message` under `key`.
    public static func hmacSHA256(key: [UInt8], message: String) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 32)
        let bytes = Array(message.utf8)
        let ok = key.withUnsafeBufferPointer { keyBuffer in
            bytes.withUnsafeBufferPointer { messageBuffer in
                mac.withUnsafeMutableBufferPointer {
                    deploy_hmac_sha256(keyBuffer.baseAddress, keyBuffer.count,
                                       messageBuffer.baseAddress, messageBuffer.count, $0.baseAddress)
                }
            }
        }
        precondition(ok == 1, "libcrypto HMAC-SHA-256 failed")
        return mac
    }

    /// Lower-case hexadecimal of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    /// Hex SHA-256 of an empty payload, used for every bodiless request.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}
