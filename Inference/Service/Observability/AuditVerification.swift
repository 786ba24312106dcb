/// What `AuditVerifier.verify` found: every sign of tampering, named, and how much of the chain a signed
/// checkpoint anchors.
public struct AuditVerification: Sendable, Equatable {
    /// A line of a given file.
    public struct Location: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int
        /// The record's sequence number, where it has one.
        public var seq: Int?

        public var description: String { "\(file):\(line)" + (seq.map { " (record \($0))" } ?? "") }
    }

    /// Where a checkpoint was found: a record of the log, or a file of the checkpoint directory (shipped).
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case log(Location)
        case shipped(file: String)

        public var description: String {
            switch self {
            case .log(let location): "the checkpoint record at \(location)"
            case .shipped(let file): "the shipped checkpoint \(file)"
            }
        }
    }

    /// Why a checkpoint is not trusted.
    public enum Forgery: Sendable, Equatable {
        /// Its signature is not the trusted key's signature of its fields.
        case badSignature
        /// It names another key than the trusted one.
        case unknownKey(String)
        /// It is not a well-formed checkpoint (or a shipped file's name and content disagree).
        case malformed
    }

    /// One sign of tampering.
    public enum Finding: Sendable, Equatable, CustomStringConvertible {
        /// A line that is not a record of the chain.
        case malformed(Location)
        /// A record whose hash does not match its content: edited in place.
        case edited(Location)
        /// A record that does not name the one before it: a record before it was deleted, or it was inserted or moved.
        case brokenLink(Location)
        /// Every hash links but sequence numbers skip or repeat: records removed or inserted and the chain recomputed.
        case sequenceBreak(Location, expected: Int)
        /// Records after the log's end: after a shutdown checkpoint, or unanchored records where a shipped
        /// checkpoint names other records at the same place (the log was cut and new records put after it).
        case appended(Location, afterShutdown: Bool)
        /// A checkpoint covers a record past the end of the log: its last records were removed.
        case removedTail(lastSeq: Int, checkpoint: Int, source: Source)
        /// The oldest file given starts past record 1 and not with a rotation checkpoint: its first records were removed.
        case removedHead(Location)
        /// A gap in the sequence numbers across the files given, or a first file that continues one not given.
        case missingRotatedFile(Location, expected: Int)
        /// A signed checkpoint's head disagrees with the chain recomputed from the records, though every hash links:
        /// records at or before `checkpoint` (after `since`, the last record a matching checkpoint covers) were
        /// rewritten and every later hash recomputed.
        case rewritten(checkpoint: Int, since: Int, source: Source)
        /// A checkpoint the trusted key did not sign.
        case forgedCheckpoint(Source, Forgery)
        /// With a key: the log's first record, or a later file's first, is not the checkpoint a keyed server writes
        /// there (a start checkpoint of record 0; a rotation or start checkpoint): written without a key, or its
        /// checkpoints removed.
        case missingStart(Location)
        /// More records after a checkpoint, or records spanning more seconds, than the interval it was signed under,
        /// with no checkpoint between: checkpoint records were removed (and the chain recomputed) or records added.
        /// `at` is the first record past the interval; `after` the checkpoint's record.
        case missingCheckpoint(Location, after: Int, interval: AuditCheckpoint.Interval, seconds: Bool)
        /// With a key: records after the last checkpoint of a log that does not end with a shutdown checkpoint. Without
        /// `--live` any such record (the server crashed, or records were cut or rewritten); with it, more records than
        /// the interval or records older than it (a running server would have checkpointed them).
        case unanchoredTail(Location, count: Int, live: Bool)
        /// Bytes after the last file's final newline: a record torn by a crash or a failed write (not by itself a sign
        /// of tampering, but nothing vouches for them). A restart of the server cuts them off and records that it did.
        case tornTail(Location, bytes: Int)

        /// The case's name, as `audit verify` prints it.
        public var name: String {
            switch self {
            case .malformed: "malformed"
            case .edited: "edited"
            case .brokenLink: "broken-link"
            case .sequenceBreak: "sequence-break"
            case .appended: "appended"
            case .removedTail: "removed-tail"
            case .removedHead: "removed-head"
            case .missingRotatedFile: "missing-rotated-file"
            case .rewritten: "rewritten"
            case .forgedCheckpoint: "forged-checkpoint"
            case .missingStart: "missing-start"
            case .missingCheckpoint: "missing-checkpoint"
            case .unanchoredTail: "unanchored-tail"
            case .tornTail: "torn-tail"
            }
        }

        public var description: String {
            switch self {
            case .malformed(let at): "\(at): not a record of the chain"
            case .edited(let at): "\(at): the record was changed (its hash does not match its content)"
            case .brokenLink(let at): "\(at): the record before it is missing, extra or out of order"
            case .sequenceBreak(let at, let expected):
                "\(at): record \(expected) was expected; the hashes link, so records were removed or inserted and the chain recomputed"
            case .appended(let at, true): "\(at): records follow the shutdown checkpoint (only a start checkpoint may)"
            case .appended(let at, false):
                "\(at): from here the records are not covered by a signed checkpoint of the log, and a shipped checkpoint names other records here"
            case .removedTail(let last, let covered, let source):
                "\(source) covers record \(covered) and is itself record \(covered + 1), but the log ends at record \(last): its last records were removed"
            case .removedHead(let at): "\(at): the oldest file does not start at record 1 and not with a rotation checkpoint: its first records were removed"
            case .missingRotatedFile(let at, let expected):
                "\(at): record \(expected) was expected: a rotated file was left out (or its last records removed)"
            case .rewritten(let checkpoint, let since, let source):
                "\(source) signed another hash for record \(checkpoint) than the chain gives: records \(since + 1)-\(checkpoint) were rewritten and the hashes after them recomputed"
            case .forgedCheckpoint(let source, .badSignature): "\(source): the signature is not the key's"
            case .forgedCheckpoint(let source, .unknownKey(let key)): "\(source): signed by an unknown key (\(key))"
            case .forgedCheckpoint(let source, .malformed): "\(source): not a well-formed checkpoint"
            case .missingStart(let at) where at.seq == 1:
                "\(at): the log does not begin with a start checkpoint as a keyed server begins it (written without a key, or its checkpoints removed)"
            case .missingStart(let at): "\(at): the file does not begin with a rotation or start checkpoint as a keyed server begins each file"
            case .missingCheckpoint(let at, let after, let interval, false):
                "\(at): more than \(interval.records) records follow the checkpoint of record \(after) with no checkpoint between, though it was signed to checkpoint every \(interval.records): checkpoints removed or records added"
            case .missingCheckpoint(let at, let after, let interval, true):
                "\(at): the records after the checkpoint of record \(after) span more than its \(interval.seconds) s with no checkpoint between: checkpoints removed or records added"
            case .unanchoredTail(let at, let count, false):
                "\(at): \(count) record\(count == 1 ? "" : "s") from here follow the last checkpoint and the log does not end with a shutdown checkpoint: a server that crashed, or records cut or rewritten (give --live for a server still running)"
            case .tornTail(let at, let bytes):
                "\(at): \(bytes) byte\(bytes == 1 ? "" : "s") after the last newline are not a whole record: a write torn by a crash or a full disk; restarting the server cuts them off (recording their SHA-256) and resumes the chain"
            case .unanchoredTail(let at, let count, true):
                "\(at): \(count) record\(count == 1 ? "" : "s") from here follow the last checkpoint: more, or older, than a running server leaves unanchored"
            }
        }
    }

    /// Where the trusted public key came from.
    public enum KeySource: Sendable, Equatable {
        /// `--public-key`: held apart from the node.
        case given(fingerprint: String)
        /// The checkpoint directory's `audit-key.pub.pem`: as trustworthy as the directory.
        case directory(fingerprint: String)
        /// None: signatures are not checked and nothing is anchored.
        case none
    }

    public var findings: [Finding] = []
    /// How many records the files hold (checkpoint records included).
    public var records = 0
    /// The first and last sequence numbers found (0 when there are none).
    public var firstSeq = 0
    public var lastSeq = 0
    /// The last record a checkpoint signed by the trusted key vouches for (the records it covers, whose head the
    /// chain agrees with, and its own record): it and every record before it are anchored. Never past a record a
    /// finding puts in doubt: with findings, only the records before the first of them can be anchored. 0 when none.
    public var anchoredThrough = 0
    /// The checkpoint that anchors them.
    public var anchor: AuditCheckpoint?
    /// Whether the last record is a shutdown checkpoint (the server stopped cleanly and nothing came after).
    public var endsWithShutdown = false
    /// Checkpoints found in the log's records, and in the checkpoint directory.
    public var logCheckpoints = 0
    public var shippedCheckpoints = 0
    public var key: KeySource = .none

    /// No sign of tampering.
    public var intact: Bool { findings.isEmpty }
    /// Whether the log was verified as a running server's (`--live`).
    public var live = false

    /// The records after the anchor, which no signed checkpoint vouches for yet.
    public var unanchored: Int { max(0, lastSeq - anchoredThrough) }
}
