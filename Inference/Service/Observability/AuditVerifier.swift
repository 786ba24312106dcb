import Foundation
import Hashing

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
    /// go unchecked and nothing counts as anchored.
    public static func verify(_ paths: [String], publicKey: Ed25519.PublicKey? = nil, checkpoints directory: String? = nil)
        throws(InputError) -> AuditVerification {
        var result = AuditVerification()
        var trusted = publicKey
        if let publicKey { result.key = .given(fingerprint: publicKey.fingerprint) }
        var shipped: [Shipped] = []
        if let directory {
            let loaded = try load(directory, needKey: trusted == nil)
            shipped = loaded.checkpoints
            result.findings += loaded.findings
            if trusted == nil, let key = loaded.key {
                trusted = key
                result.key = .directory(fingerprint: key.fingerprint)
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
                guard let line = AuditLine(Substring(decoding: bytes, as: UTF8.self)), let seq = line.seq else {
                    result.findings.append(.malformed(location))
                    previous = nil
                    continue
                }
                location.seq = seq
                if !line.intact { result.findings.append(.edited(location)) }
                if result.records == 0 {
                    result.firstSeq = seq
                    if seq == 1 {
                        if line.previous != AuditLog.genesis { result.findings.append(.brokenLink(location)) }
                    } else if line.validCheckpoint?.kind == .rotation {
                        result.findings.append(.missingRotatedFile(location, expected: 1))
                    } else {
                        result.findings.append(.removedHead(location))
                    }
                } else if let previous {
                    if index == 0, fileIndex > 0, seq > previous.seq + 1 {
                        result.findings.append(.missingRotatedFile(location, expected: previous.seq + 1))
                    } else if line.previous != previous.hash {
                        result.findings.append(.brokenLink(location))
                    } else if seq != previous.seq + 1 {
                        result.findings.append(.sequenceBreak(location, expected: previous.seq + 1))
                    }
                }
                if afterShutdown, line.validCheckpoint?.kind != .start, !appendedReported {
                    result.findings.append(.appended(location, afterShutdown: true))
                    appendedReported = true
                }
                if firstUnanchored == nil { firstUnanchored = location }
                switch line.checkpoint {
                case .malformed?:
                    result.findings.append(.forgedCheckpoint(.log(location), .malformed))
                case .valid(let checkpoint)?:
                    result.logCheckpoints += 1
                    let signature = trusted.map(checkpoint.check(with:))
                    if let signature, signature != .valid {
                        result.findings.append(.forgedCheckpoint(.log(location), forgery(signature, checkpoint)))
                    } else if checkpoint.seq != seq - 1 || checkpoint.head != line.previous {
                        // numbered or hashed otherwise than when it was signed, though the chain links: recomputed
                        if !rewrittenReported { result.findings.append(.rewritten(checkpoint: checkpoint.seq, since: lastMatching, source: .log(location))) }
                        rewrittenReported = true
                    } else {
                        lastMatching = checkpoint.seq
                        lastCheckpointRecord = seq
                        firstUnanchored = nil
                        // the checkpoint's own record is vouched for by its signature, as the records it covers
                        if signature == .valid, seq > result.anchoredThrough {
                            result.anchoredThrough = seq
                            result.anchor = checkpoint
                        }
                    }
                case nil:
                    break
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
                if signature == .valid, checkpoint.seq + 1 > result.anchoredThrough {
                    result.anchoredThrough = checkpoint.seq + 1
                    result.anchor = checkpoint
                }
            } else if checkpoint.seq + 1 > lastCheckpointRecord, let firstUnanchored {
                if !result.findings.contains(where: { if case .appended = $0 { true } else { false } }) {
                    result.findings.append(.appended(firstUnanchored, afterShutdown: false))
                }
            } else if !rewrittenReported {
                result.findings.append(.rewritten(checkpoint: checkpoint.seq, since: 0, source: source))
                rewrittenReported = true
            }
        }
        if trusted == nil {
            result.anchoredThrough = 0
            result.anchor = nil
        }
        return result
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
