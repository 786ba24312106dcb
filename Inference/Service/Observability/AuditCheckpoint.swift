import Foundation
import Hashing

/// A signed statement that the audit chain held `seq` records and that the last of them had the hash `head`.
/// The server writes one at start, every N records or T seconds, at rotation and at shutdown: as a record of the
/// chain (so deleting it breaks the chain) and as a file of its own that is shipped off the node. The signature is
/// Ed25519 over `message`, so whoever holds only the public key can check it and cannot make one.
public struct AuditCheckpoint: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Written when the server starts, naming the head it found on disk.
        case start
        /// Every N records or T seconds while records are appended.
        case periodic
        /// The first record of a new file after rotation, naming the old file's last record.
        case rotation
        /// The last record a server writes before it exits; only a start checkpoint may follow it.
        case shutdown
    }

    public var kind: Kind
    /// The last record it covers (0: none, the chain's start).
    public var seq: Int
    /// That record's hash (`AuditLog.genesis` for seq 0).
    public var head: String
    /// When it was made, ISO 8601.
    public var time: String
    /// The signing key's fingerprint (`Ed25519.PublicKey.fingerprint`).
    public var key: String
    /// Base64 of the 64-byte Ed25519 signature over `message`.
    public var signature: String

    /// A checkpoint of `seq` and `head`, signed now with `signer`.
    public static func signed(_ kind: Kind, seq: Int, head: String, time: Date = Date(), signer: Ed25519.PrivateKey) -> AuditCheckpoint {
        var checkpoint = AuditCheckpoint(kind: kind, seq: seq, head: head, time: ISO8601DateFormatter.withMilliseconds.string(from: time),
                                         key: signer.publicKey.fingerprint, signature: "")
        checkpoint.signature = Data(signer.sign(checkpoint.message)).base64EncodedString()
        return checkpoint
    }

    /// The bytes signed: a fixed tag and every field but the signature, one a line, so that no two checkpoints
    /// share a message (the fields are checked to hold no line break when read).
    public var message: [UInt8] {
        Array("inference-server audit checkpoint v1\n\(kind.rawValue)\n\(seq)\n\(head)\n\(time)\n\(key)\n".utf8)
    }

    /// What a public key says of this checkpoint.
    public enum SignatureCheck: Sendable, Equatable {
        case valid
        /// Signed (it says) by another key than the one trusted.
        case unknownKey
        /// The key is the trusted one, the signature is not its signature of these fields.
        case badSignature
    }

    public func check(with trusted: Ed25519.PublicKey) -> SignatureCheck {
        guard key == trusted.fingerprint else { return .unknownKey }
        guard let raw = Data(base64Encoded: signature), trusted.verify(message, signature: Array(raw)) else { return .badSignature }
        return .valid
    }

    /// The JSON object of the checkpoint file, and of the `checkpoint` field of its record.
    public var object: [String: Any] {
        ["kind": kind.rawValue, "seq": seq, "head": head, "time": time, "key": key, "signature": signature]
    }

    /// A checkpoint read from its JSON object; nil when a field is missing or malformed.
    public init?(object: [String: Any]) {
        guard object.count == 6,
              let kindText = object["kind"] as? String, let kind = Kind(rawValue: kindText),
              let seq = object["seq"] as? Int, seq >= 0,
              let head = object["head"] as? String, Self.isHash(head),
              let time = object["time"] as? String, let key = object["key"] as? String, let signature = object["signature"] as? String,
              !time.contains("\n"), !key.contains("\n"), time.utf8.count <= 64, key.utf8.count <= 128, signature.utf8.count <= 128
        else { return nil }
        self.init(kind: kind, seq: seq, head: head, time: time, key: key, signature: signature)
    }

    init(kind: Kind, seq: Int, head: String, time: String, key: String, signature: String) {
        self.kind = kind
        self.seq = seq
        self.head = head
        self.time = time
        self.key = key
        self.signature = signature
    }

    /// 64 lowercase hex digits.
    static func isHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// `checkpoint-<seq, 20 digits>.json`: the file a checkpoint of `seq` is written to.
    public static func fileName(seq: Int) -> String {
        let digits = String(seq)
        return "checkpoint-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".json"
    }

    /// The sequence number a checkpoint file's name gives, nil for any other name.
    public static func seq(fileName: String) -> Int? {
        guard fileName.hasPrefix("checkpoint-"), fileName.hasSuffix(".json") else { return nil }
        let digits = fileName.dropFirst("checkpoint-".count).dropLast(".json".count)
        guard digits.count == 20, digits.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(digits)
    }

    /// The name of the public key's file in a checkpoint directory.
    public static let publicKeyFileName = "audit-key.pub.pem"
}
