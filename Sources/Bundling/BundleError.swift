import Hashing
import TextSafety
import Diagnostics

/// Why a bundle could not be made, read or trusted: what failed, and where (the archive, the entry, the offset).
public struct BundleError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a caller tells a person apart from a program.
    public enum Kind: Sendable, Equatable {
        /// The bundle is damaged, unsigned, signed by another key, or could not be read or written.
        case failure
        /// A path given (the bundle, one of its parts, a file to export) is a directory, FIFO, socket or device:
        /// refused before it was opened.
        case notRegularFile
    }

    public var message: String
    /// The archive or file it concerns.
    public var file: String?
    /// The entry of the archive, where one is at fault: text from the archive, quoted when shown.
    public var entry: String?
    /// The byte offset in the archive, where it is known.
    public var offset: Int64?
    public var kind: Kind

    public init(_ message: String, file: String? = nil, entry: String? = nil, offset: Int64? = nil, kind: Kind = .failure) {
        self.message = message
        self.file = file
        self.entry = entry
        self.offset = offset
        self.kind = kind
    }

    /// The longest piece of archive text an error shows, in characters.
    public static let quoteLimit = 200

    public var description: String {
        var place = file ?? ""
        // an entry's name comes from the archive: escaped, and cut, before it reaches anyone's terminal
        if let entry {
            let quoted = SafeText.quoted(entry, limit: Self.quoteLimit)
            place += place.isEmpty ? quoted : ": \(quoted)"
        }
        if let offset { place += " (byte \(offset))" }
        return place.isEmpty ? message : "\(place): \(message)"
    }
}

extension BundleError {
    /// The error for a path that `RegularFile.open` refused.
    init(_ failure: RegularFile.Failure) {
        self.init(failure.reason, file: failure.path, kind: failure.isNotRegular ? .notRegularFile : .failure)
    }
}

extension BundleError: UserFacingError {
    public var failureKind: FailureKind { kind == .notRegularFile ? .usage : .failure }
}
