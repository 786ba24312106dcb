/// Supplies credentials for each request; providers of temporary credentials refresh them.
public protocol CredentialProvider: Sendable {
    func credentials() async throws -> Credentials
}

/// Fixed credentials (environment keys, a profile's keys).
public struct StaticCredentialProvider: CredentialProvider {
    public let value: Credentials

    public init(_ value: Credentials) {
        self.value = value
    }

    public func credentials() async throws -> Credentials { value }
}
