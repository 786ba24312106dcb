import Diagnostics
import Foundation
import Hashing

/// A state snapshot as a shared backend keeps it: encrypted under a data key of its own (AES-256-GCM; the data key
/// is kept only as the key service encrypted it), and chained: its serial is one more than the snapshot it
/// replaces, whose SHA-256 it names. Every field but the ciphertext is authenticated with it, so a reader that
/// remembers the newest serial it has seen refuses an older snapshot put back (a rollback) and a different one
/// with the same serial (a fork), and no field can be changed unseen.
public struct SealedSnapshot: Codable, Sendable, Equatable {
    public static let currentFormat = "deploy.sealed-state/1"
    /// The serials a snapshot may carry: twelve digits, so no count from anywhere (a cache file, a lock object) can
    /// overflow the next one.
    public static let serialRange = 1...999_999_999_999

    public var format = currentFormat
    public var serial: Int
    /// The SHA-256 of the sealed snapshot this one replaces, as stored; empty for the first.
    public var previousSHA256: String
    /// The key that encrypted the data key, and the data key as it encrypted it (base64).
    public var keyId: String
    public var encryptedDataKey: String
    /// What the key service binds the data key to (the stack, the bucket and key): it refuses to decrypt the data
    /// key under any other.
    public var encryptionContext: [String: String]
    public var nonce: String
    public var ciphertext: String
    public var tag: String

    /// A data key: the plaintext key to seal with (never stored) and the key service's encryption of it.
    public struct DataKey: Sendable {
        public var plaintext: [UInt8]
        public var encrypted: [UInt8]
        public var keyId: String

        public init(plaintext: [UInt8], encrypted: [UInt8], keyId: String) {
            self.plaintext = plaintext
            self.encrypted = encrypted
            self.keyId = keyId
        }
    }

    /// The newest snapshot a reader has seen: its serial and its SHA-256 as stored.
    public struct Seen: Codable, Sendable, Equatable {
        public var serial: Int
        public var sha256: String

        public init(serial: Int, sha256: String) {
            self.serial = serial
            self.sha256 = sha256
        }
    }

    /// Seals `state` as the snapshot after `previous` (nil: the first). Throws, and produces nothing, when the data
    /// key cannot encrypt: never an empty or a clear-text snapshot.
    public static func seal(_ state: [UInt8], after previous: Seen?, dataKey: DataKey, context: [String: String]) throws(SealError) -> SealedSnapshot {
        guard previous.map({ (0..<serialRange.upperBound).contains($0.serial) }) ?? true else {
            throw SealError(.unsupported, "the state's serial \(previous?.serial ?? 0) is at the end of its range; nothing was written")
        }
        guard dataKey.plaintext.count == AESGCM.keySize, !dataKey.encrypted.isEmpty, !dataKey.keyId.isEmpty else {
            throw SealError(.cannotEncrypt, "the data key is not a 256-bit key with its encrypted form and key id; nothing was written")
        }
        var nonce = [UInt8](repeating: 0, count: AESGCM.nonceSize)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = UInt8.random(in: 0...255, using: &generator) }
        var snapshot = SealedSnapshot(serial: (previous?.serial ?? 0) + 1, previousSHA256: previous?.sha256 ?? "", keyId: dataKey.keyId,
                                      encryptedDataKey: Data(dataKey.encrypted).base64EncodedString(), encryptionContext: context,
                                      nonce: Hex.encode(nonce), ciphertext: "", tag: "")
        guard let sealed = AESGCM.seal(state, key: dataKey.plaintext, nonce: nonce, additionalData: snapshot.authenticated) else {
            throw SealError(.cannotEncrypt, "libcrypto could not encrypt the state; nothing was written")
        }
        snapshot.ciphertext = Data(sealed.ciphertext).base64EncodedString()
        snapshot.tag = Hex.encode(sealed.tag)
        return snapshot
    }

    /// The state inside, once its data key (decrypted by the key service) proves every field unchanged and it is
    /// not older than, nor a fork of, the newest snapshot this reader has seen.
    public func open(dataKey: [UInt8], newestSeen: Seen?) throws(SealError) -> [UInt8] {
        guard format == Self.currentFormat else { throw SealError(.unsupported, "the state is sealed in format '\(format)', which this deploy does not read") }
        guard Self.serialRange.contains(serial) else { throw SealError(.tampered, "a snapshot with serial \(serial) was not sealed by deploy") }
        guard let nonce = Hex.decode(self.nonce), let tag = Hex.decode(self.tag), let ciphertext = Data(base64Encoded: self.ciphertext),
              let state = AESGCM.open(AESGCM.Sealed(ciphertext: Array(ciphertext), tag: tag), key: dataKey, nonce: nonce,
                                      additionalData: authenticated) else {
            throw SealError(.tampered, "snapshot \(serial) does not open with its data key: it was changed after it was sealed, or sealed under another")
        }
        if let newestSeen {
            guard serial >= newestSeen.serial else {
                throw SealError(.rollback, "snapshot \(serial) is older than snapshot \(newestSeen.serial), the newest this machine has seen: "
                                    + "an older state was put back; it is refused (deploy state restore VERSION writes a chosen version back "
                                    + "as the newest)")
            }
            guard serial > newestSeen.serial || SHA256.hex(Array(stored)) == newestSeen.sha256 else {
                throw SealError(.fork, "snapshot \(serial) is not the snapshot \(serial) this machine has seen: two states claim one serial")
            }
        }
        return state
    }

    /// The bytes as stored (keys sorted): what the next snapshot's `previousSHA256` names.
    public var stored: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// What the tag covers besides the ciphertext: every other field, as the snapshot's JSON with the ciphertext and
    /// tag left empty (keys sorted: one encoding, no two field sets alike).
    var authenticated: [UInt8] {
        var fields = self
        fields.ciphertext = ""
        fields.tag = ""
        return Array(fields.stored)
    }
}

/// A snapshot that cannot be sealed, or opened and trusted.
public struct SealError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        case cannotEncrypt, unsupported, tampered, rollback, fork
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "state: \(message)" }
}

extension SealError: UserFacingError {
    /// Nothing a flag can fix: a key that cannot encrypt, or a state that was changed, put back or forked, stops
    /// the run before anything is touched, for a person to look at.
    public var failureKind: FailureKind { .failure }
}
