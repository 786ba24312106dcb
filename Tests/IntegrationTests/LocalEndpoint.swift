import AWS
import Foundation

/// The local AWS endpoint started by scripts/local-aws (moto, IAM enforced), read from the environment
/// that scripts/test exports.
struct LocalEndpoint: Sendable {
    let url: String
    let accessKeyID: String
    let secretAccessKey: String
    let region: String
    let account: String
    let userARN: String
    let roleARN: String
    let externalID: String
    /// The CA that signed the endpoint's TLS certificate.
    let caBundle: String?

    static let current: LocalEndpoint? = {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["AWS_ENDPOINT_URL"], let id = env["AWS_ACCESS_KEY_ID"], let secret = env["AWS_SECRET_ACCESS_KEY"],
              let account = env["DEPLOY_TEST_ACCOUNT"], let user = env["DEPLOY_TEST_USER_ARN"],
              let role = env["DEPLOY_TEST_ROLE_ARN"], let externalID = env["DEPLOY_TEST_EXTERNAL_ID"] else { return nil }
        return LocalEndpoint(url: url, accessKeyID: id, secretAccessKey: secret, region: env["AWS_REGION"] ?? "us-east-1",
                             account: account, userARN: user, roleARN: role, externalID: externalID,
                             caBundle: env["AWS_CA_BUNDLE"].flatMap { $0.isEmpty ? nil : $0 })
    }()

    /// Integration tests run when the endpoint is up; scripts/test sets DEPLOY_REQUIRE_LOCAL_AWS so that a
    /// missing endpoint fails there instead of skipping.
    static var isAvailable: Bool {
        current != nil || ProcessInfo.processInfo.environment["DEPLOY_REQUIRE_LOCAL_AWS"] != nil
    }

    static func require() throws -> LocalEndpoint {
        guard let current else { throw MissingEndpoint() }
        return current
    }

    struct MissingEndpoint: Error, CustomStringConvertible {
        var description: String { "the local AWS endpoint is not running: use scripts/test, or scripts/local-aws start" }
    }

    /// The key environment with the outside-admin user's keys: an identity allowed everything, for tests about
    /// crashes and faults rather than permissions.
    var adminEnvironment: [String: String] {
        var environment = keyEnvironment
        let outside = ProcessInfo.processInfo.environment
        environment["AWS_ACCESS_KEY_ID"] = outside["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"]
        environment["AWS_SECRET_ACCESS_KEY"] = outside["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"]
        return environment
    }

    /// The administrator of the bootstrap's second account: for a test that changes account-wide settings, which in
    /// the first account would reach every other test's stacks.
    var isolatedEnvironment: [String: String] {
        var environment = keyEnvironment
        let outside = ProcessInfo.processInfo.environment
        environment["AWS_ACCESS_KEY_ID"] = outside["DEPLOY_TEST_ISOLATED_ACCESS_KEY_ID"]
        environment["AWS_SECRET_ACCESS_KEY"] = outside["DEPLOY_TEST_ISOLATED_SECRET_ACCESS_KEY"]
        return environment
    }

    /// The second account's id.
    var isolatedAccount: String { ProcessInfo.processInfo.environment["DEPLOY_TEST_ISOLATED_ACCOUNT"] ?? "222233334444" }

    /// A client for this endpoint, signing with `secret` (the real one unless a test wants it wrong).
    func client(secret: String? = nil, addressing: ClientConfiguration.S3AddressingStyle = .auto,
                url: String? = nil) -> AWSClient {
        var configuration = ClientConfiguration(region: region, endpoints: EndpointResolver(commandLineURL: url ?? self.url))
        configuration.s3AddressingStyle = addressing
        configuration.transport.caBundlePath = caBundle
        configuration.retry = RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.05)
        let keys = Credentials(accessKeyID: accessKeyID, secretAccessKey: secret ?? secretAccessKey)
        return AWSClient(configuration: configuration, credentials: StaticCredentialProvider(keys))
    }
}
