import Foundation
import Hashing
#if canImport(Glibc)
import Glibc
#endif

/// The directory a shipper uploads to the audit bucket: one file per checkpoint, `checkpoint-<seq>.json`, and the
/// public key in `audit-key.pub.pem`. Files only appear, never change: each is written under a temporary dot-name,
/// synced, linked to its final name (which fails rather than replace a file already there) and the directory synced.
struct AuditCheckpointDirectory: Sendable {
    let path: String

    /// Opens (creating it if need be) the directory for a chain whose last record is `head`, signed with `key`,
    /// whose last checkpoint record is `lastCheckpoint`. Refused when the directory holds another key, a checkpoint
    /// past the chain's end (the log it belonged to was cut short or replaced, and a new chain written beside it
    /// could never verify against it), a checkpoint past the log's last checkpoint record (checkpoint records were
    /// removed from the log: each is written to the log before its file), or a file of that checkpoint that differs.
    init(path: String, key: Ed25519.PublicKey, head: Int, lastCheckpoint: AuditCheckpoint? = nil) throws(AuditLog.LogError) {
        self.path = path
        var status = stat()
        if stat(path, &status) != 0 {
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
                throw AuditLog.LogError(description: "cannot create the audit checkpoint directory \(path): \(String(cString: strerror(errno)))")
            }
        } else if status.st_mode & S_IFMT != S_IFDIR {
            throw AuditLog.LogError(description: "the audit checkpoint directory \(path) is not a directory")
        }
        let keyPath = (path as NSString).appendingPathComponent(AuditCheckpoint.publicKeyFileName)
        if FileManager.default.fileExists(atPath: keyPath) {
            let found: Ed25519.PublicKey
            do {
                found = try Ed25519.PublicKey(pem: try Ed25519.pemText(file: keyPath), file: keyPath)
            } catch {
                throw AuditLog.LogError(description: "the audit checkpoint directory's key: \(error.description)")
            }
            guard found.fingerprint == key.fingerprint else {
                throw AuditLog.LogError(description: "\(keyPath) is another key's (\(found.openSSHFingerprint), not \(key.openSSHFingerprint)): "
                                        + "checkpoints of a new key go to a new directory (--audit-checkpoints)")
            }
        } else {
            try write(Array(key.pem.utf8), as: AuditCheckpoint.publicKeyFileName)
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw AuditLog.LogError(description: "cannot list the audit checkpoint directory \(path)")
        }
        let last = names.compactMap(AuditCheckpoint.seq(fileName:)).max()
        if let last, last >= head {
            throw AuditLog.LogError(description: "the audit checkpoint directory \(path) holds a checkpoint of record \(last), but the log's "
                                    + "last record is \(head): the log was cut short or replaced; verify it (inference-server audit verify) "
                                    + "and start a new log with a new checkpoint directory")
        }
        guard let lastCheckpoint else { return }
        if let last, last > lastCheckpoint.seq {
            throw AuditLog.LogError(description: "the audit checkpoint directory \(path) holds a checkpoint of record \(last), but the log's "
                                    + "last checkpoint record covers record \(lastCheckpoint.seq): checkpoint records were removed from the log; "
                                    + "verify it (inference-server audit verify) and start a new log with a new checkpoint directory")
        }
        let file = (path as NSString).appendingPathComponent(AuditCheckpoint.fileName(seq: lastCheckpoint.seq))
        // the record is written before its file: a crash between the two leaves the record alone
        guard FileManager.default.fileExists(atPath: file) else { return }
        let stored = (try? RegularFile.contents(file, limit: 64 << 10))
            .flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }.flatMap(AuditCheckpoint.init(object:))
        guard stored == lastCheckpoint else {
            throw AuditLog.LogError(description: "\(file) is not the checkpoint the log's last checkpoint record holds: one of them was "
                                    + "replaced; verify the log (inference-server audit verify) and start a new log with a new checkpoint directory")
        }
    }

    /// Writes the checkpoint's file.
    func write(_ checkpoint: AuditCheckpoint) throws(AuditLog.LogError) {
        try write(try AuditLog.encoded(checkpoint) + [10], as: AuditCheckpoint.fileName(seq: checkpoint.seq))
    }

    private func write(_ bytes: [UInt8], as name: String) throws(AuditLog.LogError) {
        let final = (path as NSString).appendingPathComponent(name)
        // a dot-name that no shipper matching checkpoint-*.json picks up half-written
        let temporary = (path as NSString).appendingPathComponent(".\(name).\(getpid()).tmp")
        func failure(_ what: String) -> AuditLog.LogError {
            AuditLog.LogError(description: "cannot \(what) \(final): \(String(cString: strerror(errno)))")
        }
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("create") }
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + done, $0.count - done) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let error = failure("write")
                close(descriptor)
                unlink(temporary)
                throw error
            }
            done += count
        }
        guard fsync(descriptor) == 0 else {
            let error = failure("sync")
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        // link, unlike rename, never replaces: a checkpoint file once written stays as it was
        guard link(temporary, final) == 0 else {
            let error = errno == EEXIST ? AuditLog.LogError(description: "\(final) exists already; checkpoint files are never rewritten")
                                        : failure("write")
            unlink(temporary)
            throw error
        }
        unlink(temporary)
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw failure("sync the directory of") }
        defer { close(directory) }
        guard fsync(directory) == 0 else { throw failure("sync the directory of") }
    }
}
