import Glibc

/// Streamed SHA-256 of files and of parts of files, read a mebibyte at a time: a model of many gigabytes is hashed
/// in constant memory.
public enum FileDigest {
    /// Why a file could not be hashed, in words fit for an error message.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The size and SHA-256 of a whole file.
    public static func summary(path: String) throws(Failure) -> (size: Int64, sha256: [UInt8]) {
        let descriptor = try open(path)
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Failure(description: "cannot read \(path): \(errorText())") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "\(path) is not a regular file") }
        let size = Int64(status.st_size)
        return (size, try digest(descriptor, path: path, offset: 0, length: size))
    }

    /// The size of a regular file, read by no more than a stat.
    public static func regularFileSize(_ path: String) throws(Failure) -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else { throw Failure(description: "cannot read \(path): \(errorText())") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "\(path) is not a regular file") }
        return Int64(status.st_size)
    }

    /// The SHA-256 of `length` bytes of the file from `offset`.
    public static func sha256(path: String, offset: Int64, length: Int64) throws(Failure) -> [UInt8] {
        let descriptor = try open(path)
        defer { close(descriptor) }
        return try digest(descriptor, path: path, offset: offset, length: length)
    }

    /// In one pass over the file: the SHA-256 of the whole and of each `partSize` piece (the last may be shorter),
    /// as a multipart upload sends them.
    /// With `length`, only that many bytes from `offset` (an artifact inside a bundle): what the file holds there.
    public static func parts(path: String, offset: Int64 = 0, length: Int64? = nil,
                             partSize: Int64) throws(Failure) -> (size: Int64, whole: [UInt8], parts: [[UInt8]]) {
        precondition(partSize > 0)
        let descriptor = try open(path)
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Failure(description: "cannot read \(path): \(errorText())") }
        let size = length ?? (Int64(status.st_size) - offset)
        guard offset + size <= Int64(status.st_size) else {
            throw Failure(description: "\(path) ends at byte \(status.st_size), before the \(size) bytes expected from \(offset)")
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

    private static func open(_ path: String) throws(Failure) -> Int32 {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(description: "cannot read \(path): \(errorText())") }
        return descriptor
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
