import Foundation
import Hashing
import Synchronization

/// A local file a resource uploads (`aws.s3.object`'s `source`), hashed when the stack is expanded: its digest is
/// in the plan, other phases pin it, and a changed file shows as a change before anything is sent.
public struct LocalArtifact: Sendable, Equatable {
    /// The names under which the file's figures join the resource's properties.
    public static let attributes = ["sha256", "size"]

    /// The file, as its directory resolves it.
    public var path: String
    /// Where the bytes start in that file: 0, or an entry's offset in a bundle the artifact is read from.
    public var offset: Int64 = 0
    public var size: Int64
    /// Lower-case hex.
    public var sha256: String

    public var attributes: [String: Value] { ["sha256": .string(sha256), "size": .int(Int(size))] }

    /// Hashes `relative` (resolved against `directory`, unless absolute); a missing, unreadable or empty file is an
    /// error at `location`.
    /// Without `digest`, only the size: the digest is left empty, for callers that hash the file themselves.
    public static func describe(_ relative: String, in directory: String, at location: SourceLocation,
                                digest: Bool = true) throws(StackError) -> LocalArtifact {
        guard !relative.isEmpty else { throw StackError("the source file name is empty", at: location) }
        let path = relative.hasPrefix("/") || directory.isEmpty ? relative : (directory as NSString).appendingPathComponent(relative)
        let summary: (size: Int64, sha256: [UInt8])
        do {
            summary = digest ? try digests.summary(path) : (try FileDigest.regularFileSize(path), [])
        } catch {
            throw StackError("source '\(relative)': \(error.description)", at: location)
        }
        guard summary.size > 0 else { throw StackError("source '\(relative)' (\(path)) is empty", at: location) }
        return LocalArtifact(path: path, size: summary.size, sha256: summary.sha256.isEmpty ? "" : Hex.encode(summary.sha256))
    }

    public init(path: String, offset: Int64 = 0, size: Int64, sha256: String) {
        self.path = path
        self.offset = offset
        self.size = size
        self.sha256 = sha256
    }
}

/// Digests already computed in this process, by path, kept while the file's identity, size and modification time
/// stay the same: apply expands the stack again for each resource, and a model of gigabytes is hashed once per run.
private let digests = DigestCache()

private final class DigestCache: Sendable {
    private struct Identity: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int
    }

    private let known = Mutex<[String: (identity: Identity, sha256: [UInt8])]>([:])

    func summary(_ path: String) throws(FileDigest.Failure) -> (size: Int64, sha256: [UInt8]) {
        var status = stat()
        guard stat(path, &status) == 0 else { return try FileDigest.summary(path: path) }
        let identity = Identity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
                                seconds: status.st_mtim.tv_sec, nanoseconds: status.st_mtim.tv_nsec)
        if let cached = known.withLock({ $0[path] }), cached.identity == identity { return (identity.size, cached.sha256) }
        let summary = try FileDigest.summary(path: path)
        if summary.size == identity.size { known.withLock { $0[path] = (identity, summary.sha256) } }
        return summary
    }
}
