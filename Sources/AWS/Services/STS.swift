import Foundation

/// AWS Security Token Service: who am I, and entering another account's role.
public struct STS: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    /// The identity behind the credentials.
    public struct CallerIdentity: Sendable, Equatable, Codable {
        public var account: String
        public var arn: String
        public var userID: String
    }

    public func getCallerIdentity() async throws -> CallerIdentity {
        let root = try await client.query(.sts, action: "GetCallerIdentity")
        let result = root.child("GetCallerIdentityResult")
        return CallerIdentity(
            account: try AWSClient.required(result, "Account", service: .sts, operation: "GetCallerIdentity"),
            arn: try AWSClient.required(result, "Arn", service: .sts, operation: "GetCallerIdentity"),
            userID: try AWSClient.required(result, "UserId", service: .sts, operation: "GetCallerIdentity"))
    }

    /// Temporary credentials for `roleARN`.
    public func assumeRole(roleARN: String, sessionName: String, externalID: String? = nil,
                           durationSeconds: Int? = nil) async throws -> Credentials {
        var parameters = [("RoleArn", roleARN), ("RoleSessionName", sessionName)]
        if let externalID { parameters.append(("ExternalId", externalID)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        let root = try await client.query(.sts, action: "AssumeRole", parameters: parameters)
        let keys = root["AssumeRoleResult", "Credentials"]
        let operation = "AssumeRole"
        let expiration = try AWSClient.required(keys, "Expiration", service: .sts, operation: operation)
        guard let expires = Timestamp.parseISO8601(expiration) else {
            throw AWSError(category: .malformedResponse, service: "sts", operation: operation,
                           code: "MalformedResponse", message: "unreadable Expiration '\(expiration)'")
        }
        return Credentials(
            accessKeyID: try AWSClient.required(keys, "AccessKeyId", service: .sts, operation: operation),
            secretAccessKey: try AWSClient.required(keys, "SecretAccessKey", service: .sts, operation: operation),
            sessionToken: try AWSClient.required(keys, "SessionToken", service: .sts, operation: operation),
            expiration: expires)
    }
}
