import CCrypto
import Foundation
import Diagnostics

/// Ed25519 keys through libcrypto: whoever holds the private key signs (a bundle's manifest, an audit log's
/// checkpoints); whoever holds only the public key can check a signature but never make one.
public enum Ed25519 {
    /// Why a key could not be read: what was wrong, and the file it came from.
    public struct KeyError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var file: String?

        public init(_ message: String, file: String? = nil) {
            self.message = message
            self.file = file
        }

        public var description: String { file.map { "\($0): \(message)" } ?? message }
    }

    /// A key of either half, freed with its owner.
    /// @unchecked: the pointer is set once and libcrypto's EVP_PKEY is safe to use from several threads for
    /// signing, verifying and reading (OpenSSL 1.1+ guards its reference count and cached data).
    final class Key: @unchecked Sendable {
        let pointer: OpaquePointer

        init(_ pointer: OpaquePointer) { self.pointer = pointer }

        deinit { EVP_PKEY_free(pointer) }

        func pem(privatePart: Bool) -> String {
            var buffer = [CChar](repeating: 0, count: 1024)
            let length = buffer.withUnsafeMutableBufferPointer { deploy_pem_write(pointer, privatePart ? 1 : 0, $0.baseAddress, 1024) }
            precondition(length > 0, "libcrypto could not write an Ed25519 key")
            return String(decoding: buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }

        var fingerprint: String { Ed25519.fingerprint(raw) }

        var openSSHFingerprint: String { Ed25519.openSSHFingerprint(raw) }

        private var raw: [UInt8] {
            var raw = [UInt8](repeating: 0, count: 32)
            precondition(deploy_ed25519_raw_public(pointer, &raw) == 1, "libcrypto could not read an Ed25519 public key")
            return raw
        }

        static func read(_ pem: String, privatePart: Bool) -> Key? {
            let bytes = Array(pem.utf8)
            return bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress.flatMap { base in
                    base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                        deploy_ed25519_pem_read($0, bytes.count, privatePart ? 1 : 0)
                    }
                }.map(Key.init)
            }
        }
    }

    /// `SHA256:` and the unpadded base64 of the raw 32-byte public key's SHA-256. It looks like OpenSSH's
    /// fingerprint but is not the same number: OpenSSH hashes the key's wire-format blob (`openSSHFingerprint`).
    static func fingerprint(_ raw: [UInt8]) -> String {
        "SHA256:" + Data(SHA256.digest(raw)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// What `ssh-keygen -l` prints for the key: `SHA256:` and the unpadded base64 of the SHA-256 of its SSH wire
    /// blob (string "ssh-ed25519", string <32 raw bytes>, each a 4-byte big-endian length and its bytes).
    static func openSSHFingerprint(_ raw: [UInt8]) -> String {
        let type = Array("ssh-ed25519".utf8)
        let blob = [0, 0, 0, UInt8(type.count)] + type + [0, 0, 0, UInt8(raw.count)] + raw
        return "SHA256:" + Data(SHA256.digest(blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// The private half: signs.
    public struct PrivateKey: Sendable {
        let key: Key

        /// A new random key.
        public static func generate() -> PrivateKey {
            guard let pointer = deploy_ed25519_generate() else { preconditionFailure("libcrypto could not make an Ed25519 key") }
            return PrivateKey(key: Key(pointer))
        }

        /// The key in a PEM file (PKCS#8, as `openssl genpkey -algorithm ed25519` writes it).
        public init(pem: String, file: String) throws(KeyError) {
            guard let key = Key.read(pem, privatePart: true) else { throw KeyError("not an Ed25519 private key in PEM", file: file) }
            self.key = key
        }

        init(key: Key) { self.key = key }

        public var pem: String { key.pem(privatePart: true) }

        public var publicKey: PublicKey {
            // our own key written by libcrypto and read straight back: failing here is libcrypto failing, not input
            guard let half = Key.read(key.pem(privatePart: false), privatePart: false) else {
                preconditionFailure("libcrypto could not read back an Ed25519 public key it wrote")
            }
            return PublicKey(key: half)
        }

        /// The 64-byte signature of `data`.
        public func sign(_ data: [UInt8]) -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: 64)
            let ok = data.withUnsafeBytes { deploy_ed25519_sign(key.pointer, $0.baseAddress, $0.count, &signature) }
            precondition(ok == 1, "libcrypto could not sign with Ed25519")
            return signature
        }
    }

    /// The public half: verifies.
    public struct PublicKey: Sendable {
        let key: Key

        /// The key in a PEM file (SubjectPublicKeyInfo).
        public init(pem: String, file: String) throws(KeyError) {
            guard let key = Key.read(pem, privatePart: false) else { throw KeyError("not an Ed25519 public key in PEM", file: file) }
            self.key = key
        }

        init(key: Key) { self.key = key }

        public var pem: String { key.pem(privatePart: false) }
        /// `SHA256:` and the base64 of the raw key's SHA-256: how bundles name their signer (not OpenSSH's number).
        public var fingerprint: String { key.fingerprint }
        /// The fingerprint `ssh-keygen -l` prints for this key (the audit log's checkpoints name their key by it).
        public var openSSHFingerprint: String { key.openSSHFingerprint }

        /// Whether `signature` is this key's signature of `data`.
        public func verify(_ data: [UInt8], signature: [UInt8]) -> Bool {
            guard signature.count == 64 else { return false }
            return data.withUnsafeBytes { deploy_ed25519_verify(key.pointer, $0.baseAddress, $0.count, signature) } == 1
        }
    }
}

extension Ed25519 {
    /// The text of a PEM key file: a regular file (a FIFO is refused, never waited on) of at most 64 KiB.
    public static func pemText(file path: String) throws(KeyError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.contents(path, limit: 64 << 10)
        } catch {
            throw KeyError(error.reason, file: error.path)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw KeyError("not a PEM key (not text)", file: path) }
        return text
    }
}

extension Ed25519.KeyError: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
