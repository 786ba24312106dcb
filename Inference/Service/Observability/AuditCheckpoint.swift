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
    /// The signing key's fingerprint as `ssh-keygen -l` prints it (`Ed25519.PublicKey.openSSHFingerprint`).
    public var key: String
    /// Base64 of the 64-byte Ed25519 signature over `message`.
    public var signature: String
    /// The interval the server that signed it checkpoints at, so that a verifier can tell a run of records too long
    /// to have no checkpoint (some were removed) from a normal one. nil in a checkpoint written before it was carried
    /// (format v1).
    public var interval: Interval?

    /// A periodic checkpoint follows at most `records` records, and at most `seconds` seconds after a record is appended.
    public struct Interval: Sendable, Equatable {
        public var records: Int
        public var seconds: Int

        public init(records: Int, seconds: Int) {
            self.records = records
            self.seconds = seconds
        }
    }

    /// A checkpoint of `seq` and `head`, signed now with `signer`.
    public static func signed(_ kind: Kind, seq: Int, head: String, interval: Interval, time: Date = Date(),
                              signer: Ed25519.PrivateKey) -> AuditCheckpoint {
        var checkpoint = AuditCheckpoint(kind: kind, seq: seq, head: head, time: ISO8601DateFormatter.withMilliseconds.string(from: time),
                                         key: signer.publicKey.openSSHFingerprint, signature: "", interval: interval)
        checkpoint.signature = Data(signer.sign(checkpoint.message)).base64EncodedString()
        return checkpoint
    }

    /// The bytes signed: a fixed tag and every field but the signature, one a line, so that no two checkpoints
    /// share a message (the fields are checked to hold no line break when read). v2 adds the interval; a v1
    /// checkpoint (no interval) is checked against the v1 message it was signed as.
    public var message: [UInt8] {
        let common = "\(kind.rawValue)\n\(seq)\n\(head)\n\(time)\n\(key)\n"
        guard let interval else { return Array("inference-server audit checkpoint v1\n\(common)".utf8) }
        return Array("inference-server audit checkpoint v2\n\(common)\(interval.records)\n\(interval.seconds)\n".utf8)
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
        // checkpoints written before they named the key as OpenSSH does name it by the SHA-256 of its raw bytes
        guard key == trusted.openSSHFingerprint || key == trusted.fingerprint else { return .unknownKey }
        guard let raw = Data(base64Encoded: signature), trusted.verify(message, signature: Array(raw)) else { return .badSignature }
        return .valid
    }

    /// The JSON object of the checkpoint file, and of the `checkpoint` field of its record.
    public var object: [String: Any] {
        var object: [String: Any] = ["kind": kind.rawValue, "seq": seq, "head": head, "time": time, "key": key, "signature": signature]
        if let interval {
            object["everyRecords"] = interval.records
            object["everySeconds"] = interval.seconds
        }
        return object
    }

    /// A checkpoint read from its JSON object; nil when a field is missing or malformed.
    public init?(object: [String: Any]) {
        guard object.count == 6 || object.count == 8,
              let kindText = object["kind"] as? String, let kind = Kind(rawValue: kindText),
              let seq = AuditLog.sequenceNumber(object["seq"], from: 0),
              let head = object["head"] as? String, Self.isHash(head),
              let time = object["time"] as? String, let key = object["key"] as? String, let signature = object["signature"] as? String,
              !time.contains("\n"), !key.contains("\n"), time.utf8.count <= 64, key.utf8.count <= 128, signature.utf8.count <= 128
        else { return nil }
        var interval: Interval?
        if object.count == 8 {
            guard let records = AuditLog.sequenceNumber(object["everyRecords"], from: 1),
                  let seconds = AuditLog.sequenceNumber(object["everySeconds"], from: 1) else { return nil }
            interval = Interval(records: records, seconds: seconds)
        }
        self.init(kind: kind, seq: seq, head: head, time: time, key: key, signature: signature, interval: interval)
    }

    init(kind: Kind, seq: Int, head: String, time: String, key: String, signature: String, interval: Interval?) {
        self.kind = kind
        self.seq = seq
        self.head = head
        self.time = time
        self.key = key
        self.signature = signature
        self.interval = interval
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

extension AuditCheckpoint: Encodable {
    private enum Keys: String, CodingKey { case kind, seq, head, time, key, signature, everyRecords, everySeconds }

    /// The same object as `object`: the checkpoint file, and the `checkpoint` field of its record.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(kind.rawValue, forKey: .kind)
        try container.encode(seq, forKey: .seq)
        try container.encode(head, forKey: .head)
        try container.encode(time, forKey: .time)
        try container.encode(key, forKey: .key)
        try container.encode(signature, forKey: .signature)
        if let interval {
            try container.encode(interval.records, forKey: .everyRecords)
            try container.encode(interval.seconds, forKey: .everySeconds)
        }
    }
}
