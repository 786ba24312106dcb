import Diagnostics
/// A state file that cannot be read, trusted or written.
public struct StateError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case unreadable, corrupt, unsupportedVersion, wrongStack, writeFailed
        /// A FIFO, device or directory given as the state: bad input, refused before it is opened.
        case notRegularFile
        /// A shared state changed since this run read it: another writer won.
        case conflict
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
    /// A state that is damaged, too new, another stack's or not a file is bad input, refused before anything is
    /// touched (exit 2); one that cannot be read or written is a failure of the machine (exit 1).
    public var failureKind: FailureKind {
        switch kind {
        case .corrupt, .unsupportedVersion, .wrongStack, .notRegularFile: .usage
        case .unreadable, .writeFailed, .conflict: .failure
        }
    }
}
