import Foundation
import Hashing

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
            summary = digest ? try FileDigest.summary(path: path) : (try FileDigest.regularFileSize(path), [])
        } catch {
            throw StackError("source '\(relative)': \(error.description)", at: location)
        }
        guard summary.size > 0 else { throw StackError("source '\(relative)' (\(path)) is empty", at: location) }
        return LocalArtifact(path: path, size: summary.size, sha256: summary.sha256.isEmpty ? "" : Hex.encode(summary.sha256))
    }

    /// The file's bytes, for a small file read whole (a certificate); what goes wrong, in words that follow its name.
    public func contents(atMost limit: Int) throws(EvaluationFailure) -> Data {
        guard size <= Int64(limit) else { throw EvaluationFailure("is \(size) bytes, more than the \(limit) read whole") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw EvaluationFailure("cannot be opened") }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            return try handle.read(upToCount: Int(size)) ?? Data()
        } catch {
            throw EvaluationFailure("cannot be read: \(error.localizedDescription)")
        }
    }

    public init(path: String, offset: Int64 = 0, size: Int64, sha256: String) {
        self.path = path
        self.offset = offset
        self.size = size
        self.sha256 = sha256
    }
}
