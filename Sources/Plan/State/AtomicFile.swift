import Foundation
#if canImport(Glibc)
import Glibc
import Diagnostics
#endif

/// Replaces a file so that a reader or a crash only ever sees the old or the new content, never a mix:
/// write a temporary file beside it, fsync, keep the old one as a backup (a hard link), rename, fsync the directory.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var operation: String
        public var code: Int32
        public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
    }

    /// Writes `data` to `path` with permissions `mode`; with `backup`, the previous content is kept at that path.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o600, backup: String? = nil) throws(WriteError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw WriteError(path: temporary, operation: "create", code: errno) }
        var failure: WriteError?
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = WriteError(path: temporary, operation: "write", code: errno)
                    return
                }
                offset += written
            }
        }
        if failure == nil, fchmod(descriptor, mode) != 0 { failure = WriteError(path: temporary, operation: "chmod", code: errno) }
        if failure == nil, fsync(descriptor) != 0 { failure = WriteError(path: temporary, operation: "fsync", code: errno) }
        close(descriptor)
        if let failure {
            unlink(temporary)
            throw failure
        }
        if let backup, access(path, F_OK) == 0 {
            unlink(backup)
            if link(path, backup) != 0 {
                let code = errno
                unlink(temporary)
                throw WriteError(path: backup, operation: "keep backup", code: code)
            }
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw WriteError(path: path, operation: "rename", code: code)
        }
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Creates `path` and its parents with mode 0700 when missing.
    public static func makeDirectory(_ path: String) throws(WriteError) {
        guard !path.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw WriteError(path: path, operation: "create directory", code: (error as NSError).code == 0 ? EIO : Int32((error as NSError).code))
        }
    }
}

extension AtomicFile.WriteError: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
