import Foundation

/// Credentials of a role entered with STS AssumeRole from source credentials: how a vendor enters
/// a customer's account. Refreshed by `RefreshingCredentialProvider` before they expire.
public struct AssumeRoleCredentialProvider: CredentialProvider {
    public var roleARN: String
    public var sessionName: String
    public var externalID: String?
    public var durationSeconds: Int?
    let sts: STS
    let profileName: String

    /// - Parameter client: a client whose credentials are the source credentials.
    public init(roleARN: String, sessionName: String, externalID: String?, durationSeconds: Int?,
                client: AWSClient, profileName: String) {
        self.roleARN = roleARN
        self.sessionName = sessionName
        self.externalID = externalID
        self.durationSeconds = durationSeconds
        self.sts = STS(client: client)
        self.profileName = profileName
    }

    public func credentials() async throws -> Credentials {
        var credentials = try await sts.assumeRole(roleARN: roleARN, sessionName: sessionName, externalID: externalID,
                                                   durationSeconds: durationSeconds)
        credentials.source = "profile \(profileName) (assumed role \(roleARN))"
        return credentials
    }
}

/// Caches another provider's temporary credentials and fetches new ones a margin before they
/// expire; concurrent callers share one refresh.
public actor RefreshingCredentialProvider: CredentialProvider {
    /// Refresh this long before expiry, so that no request is signed with credentials about to lapse.
    public static let refreshMargin: TimeInterval = 5 * 60

    private let source: any CredentialProvider
    private let now: @Sendable () -> Date
    private var cached: Credentials?
    private var inFlight: Task<Credentials, any Error>?

    public init(source: any CredentialProvider, now: @escaping @Sendable () -> Date = { Date() }) {
        self.source = source
        self.now = now
    }

    public func credentials() async throws -> Credentials {
        if let cached, !cached.expires(within: Self.refreshMargin, now: now()) { return cached }
        if let inFlight { return try await inFlight.value }
        let task = Task { [source] in try await source.credentials() }
        inFlight = task
        defer { inFlight = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }
}
