/// Who can fix a failure, which decides the exit code: input the person running the command can correct (exit 2,
/// nothing was touched) or a failure while working (exit 1).
public enum FailureKind: String, Sendable, Codable, CaseIterable {
    /// A bad flag, a stack or file with a mistake in it, a stale plan, a refused confirmation: fix the input and rerun.
    case usage
    /// Something failed while working: AWS refused a call, the network dropped, a lock is held, a write failed.
    case failure

    /// The process exit code for this kind: 2 for usage, 1 for failure.
    public var exitCode: Int32 { self == .usage ? 2 : 1 }
}

/// Where in a file an error was found, as editors and compilers print it: `file:line[:column]`.
public struct ErrorLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int?

    public init(file: String, line: Int, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { column.map { "\(file):\(line):\($0)" } ?? "\(file):\(line)" }
}

/// An error that reaches a person: one line (its `description`), who can fix it, an optional hint and an optional
/// place in a file. Every module's errors adopt it, so that each binary maps errors to output and exit codes in one
/// place (`UserFacingReport`), never by switching over types.
public protocol UserFacingError: Error, Sendable, CustomStringConvertible {
    /// One line saying what went wrong, as a person reads it: with its place in front where it has one
    /// (`file:line:column: ...`), with the context a reader needs (service, code, request id), never a secret.
    var description: String { get }
    /// Who can fix it; decides the exit code.
    var failureKind: FailureKind { get }
    /// What to do about it, when there is something better to say than the description.
    var hint: String? { get }
    /// The place in a file the error is about, for programs reading a JSON error (the description already names it).
    var errorLocation: ErrorLocation? { get }
}

extension UserFacingError {
    public var hint: String? { nil }
    public var errorLocation: ErrorLocation? { nil }
}

/// Any error as a person reads it: a `UserFacingError` as it describes itself, a cancellation as an interruption,
/// and anything else as a failure described by its own text.
public struct UserFacingReport: Sendable, Equatable {
    public var message: String
    public var kind: FailureKind
    public var hint: String?
    public var location: ErrorLocation?

    public init(message: String, kind: FailureKind, hint: String? = nil, location: ErrorLocation? = nil) {
        self.message = message
        self.kind = kind
        self.hint = hint
        self.location = location
    }

    public init(_ error: any Error) {
        switch error {
        case let error as any UserFacingError:
            self.init(message: error.description, kind: error.failureKind, hint: error.hint, location: error.errorLocation)
        case is CancellationError:
            self.init(message: "interrupted", kind: .failure)
        default:
            self.init(message: "\(error)", kind: .failure)
        }
    }

    /// The process exit code.
    public var exitCode: Int32 { kind.exitCode }
}
