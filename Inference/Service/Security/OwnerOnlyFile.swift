import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small file the server keeps for itself (the keys file, the quota counters), replaced whole: written to a
/// temporary file made anew and never followed (a link planted at its name cannot aim the write elsewhere),
/// readable by its owner only, synced, then renamed over the old one, so a reader sees the old file or the new one.
enum OwnerOnlyFile {
    /// Replaces `path` with `data`; nil when done, else why not.
    static func replace(_ path: String, with data: Data) -> String? {
        let temporary = "\(path).tmp-\(getpid())"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return "cannot write \(temporary): \(String(cString: strerror(errno)))" }
        let written = data.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        Glibc.close(descriptor)
        guard written == data.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return "cannot write \(path): \(reason)"
        }
        return nil
    }
}
