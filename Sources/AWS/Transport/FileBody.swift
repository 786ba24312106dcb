/// A request body read from part of a file while it is sent, never held in memory whole: one part of a multipart
/// upload of a model.
public struct FileBody: Sendable, Equatable {
    public var path: String
    public var offset: Int64
    public var length: Int64
    /// SHA-256 of those bytes, computed beforehand: it is the signed payload hash, and S3 checks the bytes against it.
    public var sha256: [UInt8]

    public init(path: String, offset: Int64, length: Int64, sha256: [UInt8]) {
        self.path = path
        self.offset = offset
        self.length = length
        self.sha256 = sha256
    }
}
