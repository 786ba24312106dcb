import Foundation
import Hashing

/// One line of an audit log as read back: `{"hash":"<SHA-256 of the rest>",<the record's JSON, keys sorted>}`,
/// the record naming its sequence number (`seq`) and the hash of the record before it (`prev`).
struct AuditLine {
    var hash: String
    var previous: String
    /// nil in a record written before records were numbered.
    var seq: Int?
    /// Whether `hash` is the SHA-256 of the line's record.
    var intact: Bool
    /// The record's `time` (when its request came) and `latencyMs`; no time in a checkpoint record.
    var time: String?
    var latencyMs = 0
    /// The record's `checkpoint` field when it has one; `.malformed` when it is there but not a checkpoint.
    var checkpoint: Checkpoint?

    enum Checkpoint {
        case valid(AuditCheckpoint)
        case malformed
    }

    /// The line parsed; nil when it is not a record of a chain at all.
    init?(_ line: Substring) {
        let prefix = "{\"hash\":\""
        guard line.hasPrefix(prefix), line.utf8.count > prefix.utf8.count + 66 else { return nil }
        let hashStart = line.index(line.startIndex, offsetBy: prefix.count)
        let hashEnd = line.index(hashStart, offsetBy: 64)
        let hash = String(line[hashStart..<hashEnd])
        guard line[hashEnd...].hasPrefix("\","), AuditCheckpoint.isHash(hash) else { return nil }
        let body = "{" + line[line.index(hashEnd, offsetBy: 2)...]
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let previous = object["prev"] as? String else { return nil }
        self.hash = hash
        self.previous = previous
        self.intact = SHA256.hex(body) == hash
        if let number = object["seq"] {
            guard let seq = AuditLog.sequenceNumber(number, from: 1) else { return nil }
            self.seq = seq
        }
        time = object["time"] as? String
        latencyMs = AuditLog.sequenceNumber(object["latencyMs"], from: 0) ?? 0
        if let field = object["checkpoint"] {
            checkpoint = (field as? [String: Any]).flatMap(AuditCheckpoint.init(object:)).map { .valid($0) } ?? .malformed
        }
    }

    /// About when the record was appended: its time plus its latency. nil without a readable time.
    func appended(_ formatter: ISO8601DateFormatter) -> Date? {
        time.flatMap(formatter.date(from:)).map { $0.addingTimeInterval(Double(latencyMs) / 1000) }
    }

    /// The checkpoint this record is, when it is a well-formed one.
    var validCheckpoint: AuditCheckpoint? {
        if case .valid(let checkpoint) = checkpoint { return checkpoint }
        return nil
    }
}
