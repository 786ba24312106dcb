import Glibc
import Diagnostics

/// Streamed SHA-256 of files and of parts of files, read a mebibyte at a time: a model of many gigabytes is hashed
/// in constant memory.
public enum FileDigest {
    /// Why a file could not be hashed, in words fit for an error message.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The size and SHA-256 of a whole file.
    public static func summary(path: String) throws(Failure) -> (size: Int64, sha256: [UInt8]) {
        let (descriptor, size) = try open(path)
        defer { close(descriptor) }
        return (size, try digest(descriptor, path: path, offset: 0, length: size))
    }

    /// The size of a regular file, read by no more than a stat.
    public static func regularFileSize(_ path: String) throws(Failure) -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else { throw Failure(description: "cannot read \(path): \(errorText())") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "\(path) is \(RegularFile.Kind(mode: status.st_mode)), not a regular file") }
        return Int64(status.st_size)
    }

    /// The SHA-256 of `length` bytes of the file from `offset`.
    public static func sha256(path: String, offset: Int64, length: Int64) throws(Failure) -> [UInt8] {
        let (descriptor, _) = try open(path)
        defer { close(descriptor) }
        return try digest(descriptor, path: path, offset: offset, length: length)
    }

    /// In one pass over the file: the SHA-256 of the whole and of each `partSize` piece (the last may be shorter),
    /// as a multipart upload sends them.
    /// With `length`, only that many bytes from `offset` (an artifact inside a bundle): what the file holds there.
    public static func parts(path: String, offset: Int64 = 0, length: Int64? = nil,
                             partSize: Int64) throws(Failure) -> (size: Int64, whole: [UInt8], parts: [[UInt8]]) {
        precondition(partSize > 0)
        let (descriptor, fileSize) = try open(path)
        defer { close(descriptor) }
        let size = length ?? (fileSize - offset)
        guard offset + size <= fileSize else {
            throw Failure(description: "\(path) ends at byte \(fileSize), before the \(size) bytes expected from \(offset)")
        }
        var whole = SHA256()
        var parts: [[UInt8]] = []
        var start: Int64 = 0
        while start < size {
            var part = SHA256()
            try read(descriptor, path: path, offset: offset + start, length: min(partSize, size - start)) { bytes in
                part.update(bytes)
                whole.update(bytes)
            }
            parts.append(part.finish())
            start += partSize
        }
        return (size, whole.finish(), parts)
    }

    /// Opens a regular file only: a FIFO or a device is refused before it is opened, never waited on.
    private static func open(_ path: String) throws(Failure) -> (descriptor: Int32, size: Int64) {
        do {
            return try RegularFile.open(path)
        } catch {
            switch error.problem {
            case .notRegular(let kind): throw Failure(description: "\(path) is \(kind), not a regular file")
            case .missing: throw Failure(description: "cannot read \(path): \(String(cString: strerror(ENOENT)))")
            case .unreadable(let code): throw Failure(description: "cannot read \(path): \(String(cString: strerror(code)))")
            }
        }
    }

    private static func digest(_ descriptor: Int32, path: String, offset: Int64, length: Int64) throws(Failure) -> [UInt8] {
        var hash = SHA256()
        try read(descriptor, path: path, offset: offset, length: length) { hash.update($0) }
        return hash.finish()
    }

    /// Hands `length` bytes of the file from `offset` to `body`, a mebibyte at a time.
    private static func read(_ descriptor: Int32, path: String, offset: Int64, length: Int64,
                             _ body: (UnsafeRawBufferPointer) -> Void) throws(Failure) {
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while done < length {
            let count = pread(descriptor, buffer.baseAddress, Int(min(Int64(chunk), length - done)), off_t(offset + done))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                throw Failure(description: count == 0 ? "\(path) ended at byte \(offset + done), before the \(length) bytes expected"
                                                      : "cannot read \(path): \(errorText())")
            }
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            done += Int64(count)
        }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}

extension FileDigest.Failure: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
