import Diagnostics
/// A state file that cannot be read, trusted or written.
public struct StateError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case unreadable, corrupt, unsupportedVersion, wrongStack, writeFailed
        /// A FIFO, device or directory given as the state: bad input, refused before it is opened.
        case notRegularFile
    }

    public var kind: Kind
    public var path: String
    public var message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "state \(path): \(message)" }
}

extension StateError: UserFacingError {
    public var failureKind: FailureKind { kind == .notRegularFile ? .usage : .failure }
}
