import Hashing

/// Bytes after an audit log's final newline: not a whole record, but what a power cut or a failed write leaves at
/// the end (a record is written with its newline in one write, so only the last one can be torn). Serve cuts them
/// off at start once everything before them passes its check, and records that it did (their count and SHA-256,
/// never the bytes); `audit verify` names them `torn-tail`, apart from tampering.
public struct AuditTornTail: Sendable, Equatable {
    /// Where the torn bytes start: the length of the file's whole lines.
    public var offset: Int
    public var count: Int
    /// The SHA-256 of the torn bytes, in hex.
    public var sha256: String

    /// The torn bytes at the end of `bytes`; nil when it is empty or ends with a newline.
    public init?(_ bytes: [UInt8]) {
        guard let last = bytes.last, last != 10 else { return nil }
        offset = bytes.lastIndex(of: 10).map { $0 + 1 } ?? 0
        count = bytes.count - offset
        sha256 = SHA256.hex(Array(bytes[offset...]))
    }

    /// The field of the record that says the torn bytes were cut off (a record of its own, after the start checkpoint).
    var record: AuditRecord {
        var record = AuditRecord()
        record.tornTailRemoved = .init(bytes: count, sha256: sha256)
        return record
    }
}
