import Glibc
import Diagnostics

/// Opens files that must be regular files (a bundle and its parts, a stack, a template, an artifact, a key) without
/// ever blocking on one that is not: opening a FIFO for reading waits for a writer, forever if none comes, and opening
/// a device may act on it. The path is checked with stat before it is opened, opened non-blocking, and checked again
/// on the descriptor, in case it was swapped in between.
public enum RegularFile {
    /// What a path that is not a regular file names.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case directory, fifo, socket, characterDevice, blockDevice, other

        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFDIR: self = .directory
            case S_IFIFO: self = .fifo
            case S_IFSOCK: self = .socket
            case S_IFCHR: self = .characterDevice
            case S_IFBLK: self = .blockDevice
            default: self = .other
            }
        }

        public var description: String {
            switch self {
            case .directory: "a directory"
            case .fifo: "a FIFO (named pipe)"
            case .socket: "a socket"
            case .characterDevice: "a character device"
            case .blockDevice: "a block device"
            case .other: "not a file"
            }
        }
    }

    /// Why a file was not opened.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Problem: Sendable, Equatable {
            /// Nothing at the path.
            case missing
            /// Something other than a regular file: the path given is wrong, not the system.
            case notRegular(Kind)
            /// The system refused (the errno).
            case unreadable(Int32)
        }

        public var path: String
        public var problem: Problem

        /// Whether the path names something other than a regular file.
        public var isNotRegular: Bool {
            if case .notRegular = problem { return true }
            return false
        }

        /// Why, without the path: `a FIFO (named pipe), not a regular file`, `cannot read: Permission denied`.
        public var reason: String {
            switch problem {
            case .missing: "cannot read: \(String(cString: strerror(ENOENT)))"
            case .notRegular(.directory): "a directory, not a regular file"
            case .notRegular(let kind): "\(kind), not a regular file"
            case .unreadable(let code): "cannot read: \(String(cString: strerror(code)))"
            }
        }

        public var description: String { "\(path): \(reason)" }
    }

    /// A descriptor open for reading (in blocking mode) on the regular file at `path`, and its size. The caller closes it.
    public static func open(_ path: String) throws(Failure) -> (descriptor: Int32, size: Int64) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw failure(path, errno) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Failure(path: path, problem: .notRegular(Kind(mode: status.st_mode))) }
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard descriptor >= 0 else { throw failure(path, errno) }
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw failure(path, code)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw Failure(path: path, problem: .notRegular(Kind(mode: status.st_mode)))
        }
        // reads of a regular file never wait anyway; blocking mode keeps the descriptor ordinary for whoever reads it
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return (descriptor, Int64(status.st_size))
    }

    /// The whole regular file at `path`; `limit` bounds how many bytes are read before it is called too large.
    public static func contents(_ path: String, limit: Int = Int.max) throws(Failure) -> [UInt8] {
        let (descriptor, size) = try open(path)
        defer { close(descriptor) }
        return try contents(of: descriptor, path: path, size: size, limit: limit)
    }

    /// Everything an open descriptor holds from its start, at most `limit` bytes (EFBIG past that).
    public static func contents(of descriptor: Int32, path: String, size: Int64, limit: Int = Int.max) throws(Failure) -> [UInt8] {
        guard size <= Int64(limit) else { throw Failure(path: path, problem: .unreadable(EFBIG)) }
        // one byte more than the size: the size is a hint, and a file that grew is read to its end, up to the limit
        var bytes = [UInt8](repeating: 0, count: Int(size) + 1)
        var done = 0
        while true {
            if done == bytes.count { bytes += [UInt8](repeating: 0, count: max(bytes.count, 4096)) }
            let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw failure(path, errno) }
            if count == 0 { break }
            done += count
            guard done <= limit else { throw Failure(path: path, problem: .unreadable(EFBIG)) }
        }
        return Array(bytes[0..<done])
    }

    private static func failure(_ path: String, _ code: Int32) -> Failure {
        Failure(path: path, problem: code == ENOENT ? .missing : .unreadable(code))
    }
}

extension RegularFile.Failure: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
