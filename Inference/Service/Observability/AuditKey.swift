import Foundation
import Hashing
#if canImport(Glibc)
import Glibc
#endif

/// The private key that signs an audit log's checkpoints: a PEM file (PKCS#8, as `openssl genpkey -algorithm
/// ed25519` writes it) that only its owner may read.
public enum AuditKey {
    /// The key in `path`; refused when others may read or write the file.
    public static func load(_ path: String) throws(AuditLog.LogError) -> Ed25519.PrivateKey {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw AuditLog.LogError(description: "the audit key \(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw AuditLog.LogError(description: "the audit key \(path) may be read or written by others (mode \(String(status.st_mode & 0o777, radix: 8))); "
                                    + "chmod 600 it, and make a new key if it may have been read")
        }
        do {
            return try Ed25519.PrivateKey(pem: try Ed25519.pemText(file: path), file: path)
        } catch {
            throw AuditLog.LogError(description: "the audit key \(error.description)")
        }
    }

    /// A new key written to `path` (mode 0600); refused when `path` exists.
    public static func create(_ path: String) throws(AuditLog.LogError) -> Ed25519.PrivateKey {
        let key = Ed25519.PrivateKey.generate()
        let bytes = Array(key.pem.utf8)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AuditLog.LogError(description: "cannot create the audit key \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw AuditLog.LogError(description: "cannot write the audit key \(path): \(reason)")
        }
        return key
    }

    /// The key in `path`, made there first when there is none; `created` says which.
    public static func loadOrCreate(_ path: String) throws(AuditLog.LogError) -> (key: Ed25519.PrivateKey, created: Bool) {
        var status = stat()
        if lstat(path, &status) != 0, errno == ENOENT { return (try create(path), true) }
        return (try load(path), false)
    }
}
