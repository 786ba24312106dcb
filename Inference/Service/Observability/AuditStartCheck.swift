import Foundation
import Hashing

/// What a keyed server checks of the log on disk before it signs a start checkpoint over it. A start checkpoint
/// vouches for the head it names, so serve must not sign one over records it has not checked: someone who rewrote
/// the log while the server was down (without the key) would otherwise have the server sign the forgery.
///
/// The check reads the current file (the newest rotated one when the log itself is empty) from its last checkpoint
/// record on: that record must be a checkpoint signed by this server's key, numbered and hashed as the chain gives
/// (its head the hash of the intact record before it, in this file or the newest rotated one when it opens the
/// file), and every record after it intact, linked and numbered in turn. The records after it are the ones the
/// previous run never anchored; there may be no more of them than the interval the checkpoint was signed under (a
/// crash leaves at most that; their wall-clock span is not held against them here, since a clock step would refuse an
/// honest restart), and none after a shutdown checkpoint. Bytes after the final newline (a torn last record) are left
/// out of the check and handed back for the caller to cut off. Records before
/// the last checkpoint were anchored by the checkpoints that cover them; `audit verify` checks those. Cost: one read
/// of the current file and a scan back for the last checkpoint record, JSON and SHA-256 for at most an interval's
/// records.
enum AuditStartCheck {
    /// The chain's last record, and the last checkpoint record found before it.
    struct Head {
        var hash: String
        var seq: Int
        var checkpoint: AuditCheckpoint
    }

    /// Slack on the interval's seconds: the periodic thread's poll, a sync under load, the record's time taken
    /// before its latency was.
    static let slackSeconds = 10.0

    /// The log's head once checked (nil for a log with no records yet), and the torn bytes at the end of the current
    /// file, if any: the check covers the whole lines before them, and the caller cuts them off.
    static func verify(_ path: String, key: Ed25519.PublicKey) throws(AuditLog.LogError) -> (head: Head?, torn: AuditTornTail?) {
        var file = path
        var bytes = contents(path)
        let torn = AuditTornTail(bytes)
        if let torn { bytes.removeSubrange(torn.offset...) }
        if bytes.isEmpty {
            file = AuditLog.rotatedPath(path, 1)
            bytes = contents(file)
            // a rotated file is never written again: bytes torn there are no crash's, and stay for the check to refuse
        }
        guard !bytes.isEmpty else { return (nil, torn) }
        let lines = lineRanges(bytes)
        func refuse(_ what: String, line index: Int) -> AuditLog.LogError {
            AuditLog.LogError(description: "the audit log \(file):\(index + 1): \(what). Serve signs no checkpoint over records it "
                              + "cannot vouch for: verify the log (inference-server audit verify, with the shipped checkpoints), "
                              + "and move it aside to start a new one")
        }
        guard let last = lines.lastIndex(where: { isCheckpointRecord(bytes[$0]) }) else {
            throw refuse("\(lines.count) record\(lines.count == 1 ? "" : "s") and no checkpoint record: written without --audit-key, "
                         + "or its checkpoints were removed", line: lines.count - 1)
        }
        func parse(_ index: Int) throws(AuditLog.LogError) -> (line: AuditLine, seq: Int) {
            guard let line = AuditLine(Substring(decoding: bytes[lines[index]], as: UTF8.self)), let seq = line.seq else {
                throw refuse("not a record of the chain", line: index)
            }
            guard line.intact else { throw refuse("record \(seq) was changed (its hash does not match its content)", line: index) }
            return (line, seq)
        }

        let (record, seq) = try parse(last)
        guard let checkpoint = record.validCheckpoint else { throw refuse("record \(seq) is not a well-formed checkpoint", line: last) }
        switch checkpoint.check(with: key) {
        case .valid: break
        case .unknownKey: throw refuse("the last checkpoint is signed by another key (\(checkpoint.key)) than this server's", line: last)
        case .badSignature: throw refuse("the last checkpoint's signature is not this server's key's", line: last)
        }
        guard checkpoint.seq == seq - 1, checkpoint.head == record.previous else {
            throw refuse("the last checkpoint was signed for record \(checkpoint.seq) but stands as record \(seq) after another hash: "
                         + "the chain was recomputed", line: last)
        }
        try checkHead(checkpoint, before: last, file: file, log: path, parse: parse, refuse: refuse)

        var previous = (hash: record.hash, seq: seq)
        var tail: [AuditLine] = []
        for index in (last + 1)..<lines.count {
            let (line, seq) = try parse(index)
            guard line.previous == previous.hash, seq == previous.seq + 1 else {
                throw refuse("record \(seq) does not follow record \(previous.seq) (a record removed, inserted or moved)", line: index)
            }
            if checkpoint.kind == .shutdown {
                throw refuse("records follow the shutdown checkpoint of line \(last + 1) (only a start checkpoint may)", line: index)
            }
            tail.append(line)
            previous = (line.hash, seq)
        }
        if !tail.isEmpty {
            let range = "records \(seq + 1)-\(previous.seq) follow the last checkpoint (line \(last + 1)) with no shutdown checkpoint"
            guard let interval = checkpoint.interval else {
                throw refuse(range + ", and that checkpoint was written by an older inference-server that did not sign its interval: "
                             + "a crash cannot be told from records rewritten and checkpoints removed", line: lines.count - 1)
            }
            // only the count: the records' times are the wall clock's, and a clock stepped while the server ran would
            // refuse an honest restart; `audit verify` still reports a tail spanning more than the interval's seconds
            guard tail.count <= interval.records else {
                throw refuse(range + ": \(tail.count) records, more than the \(interval.records) its server checkpointed at; "
                             + "checkpoint records were removed or records added", line: lines.count - 1)
            }
        }
        return (Head(hash: previous.hash, seq: previous.seq, checkpoint: checkpoint), torn)
    }

    /// The checkpoint's head must be the hash of the intact record before it: in this file, or the last of the
    /// rotated file before it when it opens the file (not checked when that file is gone: archived or shipped).
    private static func checkHead(_ checkpoint: AuditCheckpoint, before index: Int, file: String, log: String,
                                  parse: (Int) throws(AuditLog.LogError) -> (line: AuditLine, seq: Int),
                                  refuse: (String, Int) -> AuditLog.LogError) throws(AuditLog.LogError) {
        let rewritten = "records up to \(checkpoint.seq) were rewritten: the checkpoint's head is not the hash of the record before it"
        if index > 0 {
            let (line, seq) = try parse(index - 1)
            guard seq == checkpoint.seq, line.hash == checkpoint.head else { throw refuse(rewritten, index) }
            return
        }
        if checkpoint.seq == 0 {
            guard checkpoint.head == AuditLog.genesis else { throw refuse(rewritten, index) }
            return
        }
        let older = file == log ? AuditLog.rotatedPath(log, 1) : AuditLog.rotatedPath(log, 2)
        let bytes = contents(older)
        guard let range = lineRanges(bytes).last else { return }
        guard let line = AuditLine(Substring(decoding: bytes[range], as: UTF8.self)), line.intact, line.seq == checkpoint.seq,
              line.hash == checkpoint.head else {
            throw refuse(rewritten + " (the last record of \(older))", index)
        }
    }

    private static func contents(_ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
    }

    /// Each line's bytes, without its newline; a last line without one counts.
    static func lineRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
            ranges.append(start..<end)
            start = end + 1
        }
        return ranges
    }

    /// Whether the line is a checkpoint record: its first field after the hash is `checkpoint` (fields are sorted,
    /// and a request's record has none of that name). Only a candidate: it is parsed and checked in full.
    static func isCheckpointRecord(_ line: ArraySlice<UInt8>) -> Bool {
        let marker = Array("\",\"checkpoint\":".utf8)
        let start = line.startIndex + 9 + 64
        return line.count > 9 + 64 + marker.count && line[start..<(start + marker.count)].elementsEqual(marker)
    }
}
