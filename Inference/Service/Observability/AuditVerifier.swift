import Foundation
import Hashing
import Diagnostics

/// Checks an audit log (its rotated files oldest first) against itself, and against the signed checkpoints in its
/// records and, when given, in a checkpoint directory shipped off the node. The chain alone shows edits, deletions,
/// insertions and moves inside it; the checkpoints show what a chain recomputed by whoever holds the files cannot
/// hide: records cut from the end or the start, records appended, records rewritten with every later hash redone.
public enum AuditVerifier {
    /// A file, directory or key that could not be read: nothing was verified.
    public struct InputError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// A checkpoint file of the directory.
    struct Shipped {
        var name: String
        var checkpoint: AuditCheckpoint
    }

    /// Verifies `paths` in order (older rotated files first). `publicKey` is the key checkpoints must be signed
    /// with; without it, the checkpoint directory's `audit-key.pub.pem` is used, and without either, signatures
    /// go unchecked and nothing counts as anchored. With a key, the log must also be shaped as a keyed server
    /// writes it: a start checkpoint first, a checkpoint first in each file, no run of records past a checkpoint's
    /// interval, and (unless `live`: a server still writing it, checked at `now`) no unanchored records at the end
    /// of a log that does not end with a shutdown checkpoint.
    public static func verify(_ paths: [String], publicKey: Ed25519.PublicKey? = nil, checkpoints directory: String? = nil,
                              live: Bool = false, now: Date = Date()) throws(InputError) -> AuditVerification {
        var result = AuditVerification()
        result.live = live
        var trusted = publicKey
        if let publicKey { result.key = .given(fingerprint: publicKey.openSSHFingerprint) }
        var shipped: [Shipped] = []
        if let directory {
            let loaded = try load(directory, needKey: trusted == nil)
            shipped = loaded.checkpoints
            result.findings += loaded.findings
            if trusted == nil, let key = loaded.key {
                trusted = key
                result.key = .directory(fingerprint: key.openSSHFingerprint)
            }
            result.shippedCheckpoints = shipped.count + loaded.findings.count
        }
        // only the records a shipped checkpoint speaks of are kept: the one it covers and the one that should be it
        let wanted = Set(shipped.flatMap { [$0.checkpoint.seq, $0.checkpoint.seq + 1] })
        var hashes: [Int: String] = [:]
        var recordCheckpoints: [Int: AuditCheckpoint] = [:]

        var previous: (hash: String, seq: Int)?
        var afterShutdown = false, appendedReported = false, rewrittenReported = false
        var lastMatching = 0
        var lastCheckpointRecord = 0
        var firstUnanchored: AuditVerification.Location?
        // the records since the last checkpoint record (signed by the trusted key), held to its interval
        var run = Run()
        let formatter = ISO8601DateFormatter.withMilliseconds
        // the first record a finding puts in doubt: nothing from it on is reported anchored
        var doubted = Int.max
        var anchors: [(through: Int, checkpoint: AuditCheckpoint)] = []
        func flag(_ finding: AuditVerification.Finding, doubting seq: Int?) {
            result.findings.append(finding)
            if let seq { doubted = min(doubted, seq) }
        }
        for (fileIndex, path) in paths.enumerated() {
            let data: [UInt8]
            do {
                data = try RegularFile.contents(path)
            } catch {
                throw InputError(description: error.description)
            }
            let lines = data.split(separator: 10, omittingEmptySubsequences: false)
            for (index, bytes) in lines.enumerated() {
                if bytes.isEmpty, index == lines.count - 1 { break }
                var location = AuditVerification.Location(file: path, line: index + 1, seq: nil)
                if index == lines.count - 1, fileIndex == paths.count - 1 {
                    // no newline after it: a record torn by a crash or a failed write, which a restart cuts off.
                    // Not tampering, but nothing vouches for it; anywhere else an unterminated line cannot be a crash's
                    result.findings.append(.tornTail(location, bytes: bytes.count))
                    break
                }
                guard let line = AuditLine(Substring(decoding: bytes, as: UTF8.self)), let seq = line.seq else {
                    flag(.malformed(location), doubting: result.lastSeq + 1)
                    previous = nil
                    continue
                }
                location.seq = seq
                if !line.intact { flag(.edited(location), doubting: seq) }
                if result.records == 0 {
                    result.firstSeq = seq
                    if seq == 1 {
                        if line.previous != AuditLog.genesis { flag(.brokenLink(location), doubting: seq) }
                        let opening = line.validCheckpoint
                        if trusted != nil, opening?.kind != .start || opening?.seq != 0 { flag(.missingStart(location), doubting: seq) }
                    } else if line.validCheckpoint?.kind == .rotation {
                        flag(.missingRotatedFile(location, expected: 1), doubting: 1)
                    } else {
                        flag(.removedHead(location), doubting: 1)
                    }
                } else if let previous {
                    if index == 0, fileIndex > 0, seq > previous.seq + 1 {
                        flag(.missingRotatedFile(location, expected: previous.seq + 1), doubting: previous.seq + 1)
                    } else if line.previous != previous.hash {
                        flag(.brokenLink(location), doubting: seq)
                    } else if seq != previous.seq + 1 {
                        flag(.sequenceBreak(location, expected: previous.seq + 1), doubting: min(seq, previous.seq + 1))
                    }
                    if index == 0, fileIndex > 0, trusted != nil, ![.rotation, .start].contains(line.validCheckpoint?.kind) {
                        flag(.missingStart(location), doubting: seq)
                    }
                }
                if afterShutdown, line.validCheckpoint?.kind != .start, !appendedReported {
                    flag(.appended(location, afterShutdown: true), doubting: seq)
                    appendedReported = true
                }
                if firstUnanchored == nil { firstUnanchored = location }
                switch line.checkpoint {
                case .malformed?:
                    flag(.forgedCheckpoint(.log(location), .malformed), doubting: seq)
                case .valid(let checkpoint)?:
                    result.logCheckpoints += 1
                    let signature = trusted.map(checkpoint.check(with:))
                    if let signature, signature != .valid {
                        flag(.forgedCheckpoint(.log(location), forgery(signature, checkpoint)), doubting: seq)
                    } else if checkpoint.seq != seq - 1 || checkpoint.head != line.previous {
                        // numbered or hashed otherwise than when it was signed, though the chain links: recomputed
                        if !rewrittenReported {
                            flag(.rewritten(checkpoint: checkpoint.seq, since: lastMatching, source: .log(location)), doubting: lastMatching + 1)
                        }
                        rewrittenReported = true
                    } else {
                        lastMatching = checkpoint.seq
                        lastCheckpointRecord = seq
                        firstUnanchored = nil
                        // the checkpoint's own record is vouched for by its signature, as the records it covers
                        if signature == .valid { anchors.append((seq, checkpoint)) }
                    }
                    if signature == .valid { run = Run(checkpoint: checkpoint, seq: seq) }
                case nil:
                    if let finding = run.extend(with: line, at: location, formatter: formatter) { flag(finding, doubting: run.seq + 1) }
                }
                afterShutdown = line.validCheckpoint?.kind == .shutdown
                if wanted.contains(seq) {
                    hashes[seq] = line.hash
                    recordCheckpoints[seq] = line.validCheckpoint
                }
                previous = (line.hash, seq)
                result.records += 1
                result.lastSeq = seq
                result.endsWithShutdown = afterShutdown
            }
        }

        if result.firstSeq == 1 { hashes[0] = AuditLog.genesis }
        var tailReported = false
        for entry in shipped.sorted(by: { $0.checkpoint.seq > $1.checkpoint.seq }) {
            let checkpoint = entry.checkpoint, source = AuditVerification.Source.shipped(file: entry.name)
            let signature = trusted.map(checkpoint.check(with:))
            if let signature, signature != .valid {
                result.findings.append(.forgedCheckpoint(source, forgery(signature, checkpoint)))
                continue
            }
            // the checkpoint is itself a record, right after the one it covers: both must be in the log
            if checkpoint.seq + 1 > result.lastSeq {
                if !tailReported { result.findings.append(.removedTail(lastSeq: result.lastSeq, checkpoint: checkpoint.seq, source: source)) }
                tailReported = true
                continue
            }
            guard let hash = hashes[checkpoint.seq] else { continue }  // before the records given
            if hash == checkpoint.head, recordCheckpoints[checkpoint.seq + 1] == checkpoint {
                if signature == .valid { anchors.append((checkpoint.seq + 1, checkpoint)) }
            } else if checkpoint.seq + 1 > lastCheckpointRecord, let firstUnanchored {
                if !result.findings.contains(where: { if case .appended = $0 { true } else { false } }) {
                    flag(.appended(firstUnanchored, afterShutdown: false), doubting: firstUnanchored.seq)
                }
            } else if !rewrittenReported {
                flag(.rewritten(checkpoint: checkpoint.seq, since: 0, source: source), doubting: 1)
                rewrittenReported = true
            }
        }
        if trusted != nil, !result.endsWithShutdown, result.records > 0, let first = firstUnanchored, let firstSeq = first.seq {
            let count = result.lastSeq - firstSeq + 1
            var bounded = false
            if live, let interval = run.checkpoint?.interval, count <= interval.records {
                // a running server checkpoints a record within its interval of seconds: older ones should be covered
                let oldest = run.oldest ?? now
                bounded = now.timeIntervalSince(oldest) <= Double(interval.seconds) + AuditStartCheck.slackSeconds
            }
            if !bounded { flag(.unanchoredTail(first, count: count, live: live), doubting: firstSeq) }
        }
        if trusted != nil, let best = anchors.filter({ $0.through < doubted }).max(by: { $0.through < $1.through }) {
            result.anchoredThrough = best.through
            result.anchor = best.checkpoint
        }
        return result
    }

    /// The records since the last checkpoint record signed by the trusted key, held to the interval it was signed under.
    struct Run {
        var checkpoint: AuditCheckpoint?
        /// The checkpoint's own record.
        var seq = 0
        var count = 0
        /// The earliest and latest times its records were appended (their time plus latency), where they say.
        var oldest: Date?
        var newest: Date?
        var reported = false

        /// Counts one more record; a finding the first time the run goes past its checkpoint's interval.
        mutating func extend(with line: AuditLine, at location: AuditVerification.Location, formatter: ISO8601DateFormatter)
            -> AuditVerification.Finding? {
            count += 1
            if let appended = line.appended(formatter) {
                oldest = min(oldest ?? appended, appended)
                newest = max(newest ?? appended, appended)
            }
            guard !reported, let checkpoint, let interval = checkpoint.interval else { return nil }
            let tooMany = count > interval.records
            var tooLong = false
            if let oldest, let newest {
                tooLong = newest.timeIntervalSince(oldest) > Double(interval.seconds) + AuditStartCheck.slackSeconds
            }
            guard tooMany || tooLong else { return nil }
            reported = true
            return .missingCheckpoint(location, after: seq, interval: interval, seconds: !tooMany)
        }
    }

    private static func forgery(_ check: AuditCheckpoint.SignatureCheck, _ checkpoint: AuditCheckpoint) -> AuditVerification.Forgery {
        check == .unknownKey ? .unknownKey(checkpoint.key) : .badSignature
    }

    /// The checkpoint directory's checkpoints (files that are not well-formed ones are findings), and its public key.
    static func load(_ directory: String, needKey: Bool) throws(InputError)
        -> (checkpoints: [Shipped], findings: [AuditVerification.Finding], key: Ed25519.PublicKey?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw InputError(description: "\(directory): not a readable checkpoint directory")
        }
        var key: Ed25519.PublicKey?
        let keyPath = (directory as NSString).appendingPathComponent(AuditCheckpoint.publicKeyFileName)
        if needKey, FileManager.default.fileExists(atPath: keyPath) {
            do {
                key = try Ed25519.PublicKey(pem: try Ed25519.pemText(file: keyPath), file: keyPath)
            } catch {
                throw InputError(description: error.description)
            }
        }
        var checkpoints: [Shipped] = []
        var findings: [AuditVerification.Finding] = []
        for name in names.sorted() {
            guard let seq = AuditCheckpoint.seq(fileName: name) else { continue }
            let path = (directory as NSString).appendingPathComponent(name)
            let bytes: [UInt8]
            do {
                bytes = try RegularFile.contents(path, limit: 64 << 10)
            } catch {
                throw InputError(description: error.description)
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                  let checkpoint = AuditCheckpoint(object: object), checkpoint.seq == seq else {
                findings.append(.forgedCheckpoint(.shipped(file: name), .malformed))
                continue
            }
            checkpoints.append(Shipped(name: name, checkpoint: checkpoint))
        }
        return (checkpoints, findings, key)
    }
}

extension AuditVerifier.InputError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
