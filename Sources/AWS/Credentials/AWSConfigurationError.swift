import Diagnostics
/// Settings that cannot be used: no credentials, an unknown profile, no region, a bad value.
/// Always something the user can fix.
public struct AWSConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension AWSConfigurationError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
