import Foundation
import Hashing
import Synchronization
#if canImport(Glibc)
import Glibc
import Diagnostics
#endif

/// The append-only record of every request, refused ones included, as JSON Lines. Each record starts with its own
/// SHA-256 (over the rest of its line), carries its sequence number (`seq`, from 1, continuing across restarts and
/// rotations) and the hash of the record before it, so an edited, deleted, inserted or reordered line breaks the
/// chain where it happened. Every record is synced to disk before the response goes out; past `maxBytes` the file
/// is rotated and the chain carried into the new file.
///
/// With `Checkpointing`, signed checkpoints (`AuditCheckpoint`) are written at start, every N records or T seconds
/// while records are appended, at rotation and at `close()`: each as a record of the chain and as a file in the
/// checkpoint directory, for shipping off the node. What the chain alone cannot show (records cut from its end,
/// forged records appended, the whole chain recomputed) a signed checkpoint held elsewhere does.
public final class AuditLog: Sendable {
    /// Hashes stand in for the prompt and the completion with `digest`; `full` keeps the text.
    public enum Content: String, Sendable { case full, digest }

    public struct LogError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Who signs checkpoints, where their files go, and how often.
    public struct Checkpointing: Sendable {
        public var key: Ed25519.PrivateKey
        public var directory: String
        /// A periodic checkpoint after this many records…
        public var everyRecords: Int
        /// …or this many seconds, whichever comes first, when records were appended since the last one.
        public var everySeconds: Double

        public init(key: Ed25519.PrivateKey, directory: String, everyRecords: Int = 256, everySeconds: Double = 60) {
            self.key = key
            self.directory = directory
            self.everyRecords = everyRecords
            self.everySeconds = everySeconds
        }

        /// The interval its checkpoints carry (seconds rounded up).
        var interval: AuditCheckpoint.Interval {
            AuditCheckpoint.Interval(records: everyRecords, seconds: Int(everySeconds.rounded(.up)))
        }

        /// `<log path>.checkpoints`.
        public static func defaultDirectory(log path: String) -> String { path + ".checkpoints" }
    }

    public let path: String
    public let content: Content
    public let maxBytes: Int
    private let checkpointing: Checkpointing?
    private let directory: AuditCheckpointDirectory?
    private struct Open {
        var descriptor: Int32
        var size: Int
        var lastHash: String
        var seq: Int
        var sinceCheckpoint = 0
        /// Set once the shutdown checkpoint is written, or a record or checkpoint could not be: nothing is appended after.
        var refusal: Refusal?
    }
    /// Why the log takes no more records.
    private enum Refusal {
        /// `close()` wrote the shutdown checkpoint.
        case closed
        /// A write, sync, rotation or checkpoint failed: only a restart, whose start check passes, resumes.
        case failed(String)
    }
    private let file: Mutex<Open>
    /// Ends the thread that writes periodic checkpoints.
    private let stopped = Atomic<Bool>(false)
    /// The torn bytes cut off the end of the log at start (their record follows the start checkpoint); nil when none.
    public let recoveredTail: AuditTornTail?

    /// The hash a chain starts from.
    public static let genesis = String(repeating: "0", count: 64)

    /// The largest sequence number a record or checkpoint may carry: 2^53, the largest integer every JSON reader
    /// holds exactly, and far past any real log. Capping it keeps every `seq + 1` in the log, serve and the verifier
    /// from overflowing on a number someone wrote into a file.
    public static let maxSeq = 1 << 53

    /// `value` as a sequence number (or count) in `low...maxSeq`; nil for anything else: a bool, a fraction, a
    /// string, a number out of range.
    static func sequenceNumber(_ value: Any?, from low: Int) -> Int? {
        // JSONSerialization gives NSNumbers, and `as? Int` takes true for 1 and 3.0 for 3: only an integer's type will do
        guard let number = value as? NSNumber, ["s", "i", "l", "q"].contains(String(cString: number.objCType)),
              let integer = value as? Int, integer >= low, integer <= maxSeq else { return nil }
        return integer
    }

    /// Opens (or creates) the log at `path`, continuing the chain found there or in its newest rotated file, and
    /// with `checkpointing` writes the start checkpoint.
    public init(path: String, content: Content = .full, maxBytes: Int = 256 * 1024 * 1024, checkpointing: Checkpointing? = nil) throws(LogError) {
        self.path = path
        self.content = content
        self.maxBytes = maxBytes
        self.checkpointing = checkpointing
        let head: (hash: String, seq: Int)
        let torn: AuditTornTail?
        if let checkpointing {
            // a start checkpoint vouches for the head it names: check what it will vouch for before signing it
            let checked = try AuditStartCheck.verify(path, key: checkpointing.key.publicKey)
            head = checked.head.map { ($0.hash, $0.seq) } ?? (Self.genesis, 0)
            torn = checked.torn
            directory = try AuditCheckpointDirectory(path: checkpointing.directory, key: checkpointing.key.publicKey, head: head.seq,
                                                     lastCheckpoint: checked.head?.checkpoint)
        } else {
            let found = try Self.head(path)
            torn = found.torn
            if let found = found.head {
                head = found
            } else {
                head = try Self.head(Self.rotatedPath(path, 1)).head ?? (Self.genesis, 0)
            }
            directory = nil
        }
        recoveredTail = torn
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LogError(description: "cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        var status = stat()
        fstat(descriptor, &status)
        var size = Int(status.st_size)
        if let torn {
            guard size == torn.offset + torn.count, ftruncate(descriptor, off_t(torn.offset)) == 0, fsync(descriptor) == 0 else {
                let reason = size == torn.offset + torn.count ? String(cString: strerror(errno)) : "it changed while being checked"
                Glibc.close(descriptor)
                throw LogError(description: "cannot cut the torn last line (\(torn.count) bytes) off the audit log \(path): \(reason)")
            }
            size = torn.offset
        }
        file = Mutex(Open(descriptor: descriptor, size: size, lastHash: head.hash, seq: head.seq))
        if checkpointing != nil { try file.withLock { (open: inout Open) throws(LogError) in try checkpoint(.start, &open) } }
        if let torn { try append(torn.record) }
        guard let checkpointing else { return }
        let interval = checkpointing.everySeconds
        let thread = Thread { [weak self] in
            // the monotonic clock: a wall clock stepped back would pause checkpoints, one stepped forward bunch them
            var next = ContinuousClock.now.advanced(by: .seconds(interval))
            while true {
                usleep(200_000)
                guard let self, !self.stopped.load(ordering: .relaxed) else { return }
                if ContinuousClock.now >= next {
                    self.periodic()
                    next = ContinuousClock.now.advanced(by: .seconds(interval))
                }
            }
        }
        thread.name = "audit-checkpoints"
        thread.start()
    }

    deinit {
        stopped.store(true, ordering: .relaxed)
        file.withLock { if $0.descriptor >= 0 { Glibc.close($0.descriptor) } }
    }

    /// The sequence number and hash of the chain's last record.
    public var head: (seq: Int, hash: String) { file.withLock { ($0.seq, $0.lastHash) } }

    /// Appends one record, numbered and chained to the one before, and syncs it to disk; a periodic checkpoint
    /// follows every `everyRecords`.
    public func append(_ record: AuditRecord) throws(LogError) {
        try file.withLock { (open: inout Open) throws(LogError) in
            if let refusal = open.refusal { throw refused(refusal) }
            var line = try encode(record, after: open)
            if open.size > 0, open.size + line.count > maxBytes {
                try rotate(&open)
                try checkpoint(.rotation, &open)
                line = try encode(record, after: open)
            }
            try write(line, &open)
            open.sinceCheckpoint += 1
            if let checkpointing, open.sinceCheckpoint >= checkpointing.everyRecords { try checkpoint(.periodic, &open) }
        }
    }

    /// Writes the shutdown checkpoint (with checkpointing) and refuses every later record: the server is stopping.
    /// A log refusing after a failed write gets no shutdown checkpoint (it would vouch for a log that lost records'
    /// place): that throws, saying so.
    public func close() throws(LogError) {
        stopped.store(true, ordering: .relaxed)
        try file.withLock { (open: inout Open) throws(LogError) in
            switch open.refusal {
            case .closed?: throw refused(.closed)
            case .failed(let reason)?:
                throw LogError(description: "no shutdown checkpoint was signed: \(reason). A restart checks the log and resumes it")
            case nil: break
            }
            if checkpointing != nil { try checkpoint(.shutdown, &open) }
            open.refusal = .closed
        }
    }

    /// Why appends are refused (a failed write or checkpoint, or `close()`); nil while the log takes records.
    public var refusal: String? {
        file.withLock { open in open.refusal.map { refused($0).description } }
    }

    private func refused(_ refusal: Refusal) -> LogError {
        switch refusal {
        case .closed: LogError(description: "the audit log \(path) is closed: the server is stopping")
        case .failed(let reason): LogError(description: "the audit log takes no more records until a restart: \(reason)")
        }
    }

    private func periodic() {
        file.withLock { (open: inout Open) in
            guard open.refusal == nil, open.sinceCheckpoint > 0 else { return }
            // a failure is kept in `refusal`, and the next append reports it
            try? checkpoint(.periodic, &open)
        }
    }

    /// Appends a checkpoint of the chain's head as a record, then writes its file. A failure refuses every later
    /// record: a log whose checkpoints stopped would go on unanchored without anyone knowing.
    private func checkpoint(_ kind: AuditCheckpoint.Kind, _ open: inout Open) throws(LogError) {
        guard let checkpointing, let directory else { return }
        let checkpoint = AuditCheckpoint.signed(kind, seq: open.seq, head: open.lastHash, interval: checkpointing.interval, signer: checkpointing.key)
        do {
            var record = AuditRecord()
            record.checkpoint = checkpoint
            try write(try encode(record, after: open), &open)
            try directory.write(checkpoint)
        } catch {
            if open.refusal == nil { open.refusal = .failed("an audit checkpoint could not be written: \(error.description)") }
            throw error
        }
        open.sinceCheckpoint = 0
    }

    /// The record's line: its hash, then its fields with `seq` and `prev`.
    private func encode(_ record: AuditRecord, after open: Open) throws(LogError) -> [UInt8] {
        var record = record
        record.seq = open.seq + 1
        record.prev = open.lastHash
        let body = try Self.encoded(record)
        let hash = SHA256.hex(body)
        return Array("{\"hash\":\"\(hash)\",".utf8) + body.dropFirst() + [10]
    }

    /// A record or checkpoint as one line of compact JSON, keys sorted, slashes as they are.
    static func encoded(_ value: some Encodable) throws(LogError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw LogError(description: "an audit record could not be encoded: \(error)")
        }
    }

    /// Writes and syncs one line. On a short write or a failed write or sync (disk full, file too large, I/O error)
    /// the file is cut back to its last whole record and synced, and the log refuses every later record whether or
    /// not that worked: a record glued onto torn bytes would be a malformed line in the middle of the chain.
    private func write(_ line: [UInt8], _ open: inout Open) throws(LogError) {
        var written = 0
        var failure: String?
        while written < line.count {
            let count = line[written...].withUnsafeBytes { Glibc.write(open.descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                written += count
            } else if count < 0, errno == EINTR {
                continue
            } else {
                failure = count == 0 ? "nothing written" : String(cString: strerror(errno))
                break
            }
        }
        if failure == nil, fsync(open.descriptor) != 0 { failure = "sync failed: \(String(cString: strerror(errno)))" }
        if let failure {
            var reason = "cannot write the audit log \(path): \(failure)"
            if ftruncate(open.descriptor, off_t(open.size)) != 0 || fsync(open.descriptor) != 0 {
                reason += "; and cutting it back to its last whole record (\(open.size) bytes) failed: \(String(cString: strerror(errno)))"
            } else {
                reason += " (cut back to its last whole record, \(open.size) bytes)"
            }
            open.refusal = .failed(reason)
            throw LogError(description: reason)
        }
        open.size += line.count
        open.seq += 1
        // the hash is the line's own, between `{"hash":"` and the next quote
        open.lastHash = String(decoding: line[9..<73], as: UTF8.self)
    }

    /// `path.1` is the newest rotated file, `path.2` the one before, and so on.
    static func rotatedPath(_ path: String, _ generation: Int) -> String { "\(path).\(generation)" }

    private func rotate(_ open: inout Open) throws(LogError) {
        var generation = 1
        while FileManager.default.fileExists(atPath: Self.rotatedPath(path, generation)) { generation += 1 }
        while generation > 1 {
            rename(Self.rotatedPath(path, generation - 1), Self.rotatedPath(path, generation))
            generation -= 1
        }
        guard rename(path, Self.rotatedPath(path, 1)) == 0 else {
            let reason = "cannot rotate the audit log \(path): \(String(cString: strerror(errno)))"
            open.refusal = .failed(reason)
            throw LogError(description: reason)
        }
        Glibc.close(open.descriptor)
        // never left naming the closed descriptor: deinit would close it again, by then perhaps another file's
        open.descriptor = -1
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = "cannot open the audit log \(path): \(String(cString: strerror(errno)))"
            open.refusal = .failed(reason)
            throw LogError(description: reason)
        }
        open.descriptor = descriptor
        open.size = 0
    }

    /// The hash and sequence number of the last whole record in `path` (nil when the file is missing or has none),
    /// and the torn bytes after it.
    static func head(_ path: String) throws(LogError) -> (head: (hash: String, seq: Int)?, torn: AuditTornTail?) {
        guard var data = FileManager.default.contents(atPath: path).map({ [UInt8]($0) }), !data.isEmpty else { return (nil, nil) }
        let torn = AuditTornTail(data)
        if let torn { data.removeSubrange(torn.offset...) }
        guard !data.isEmpty else { return (nil, torn) }
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last, let record = AuditLine(line) else {
            throw LogError(description: "the audit log \(path) does not end in a record of its chain; move it aside to start a new one")
        }
        guard let seq = record.seq else {
            throw LogError(description: "the audit log \(path) ends in a record without a sequence number (written by an older "
                           + "inference-server); verify it and move it aside to start a new one")
        }
        return ((record.hash, seq), torn)
    }
}

extension AuditLog.LogError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
