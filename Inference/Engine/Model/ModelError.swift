import Diagnostics
/// Why a model cannot be loaded or run: a missing or misshapen tensor, a missing or unsupported setting.
public struct ModelError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension ModelError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
