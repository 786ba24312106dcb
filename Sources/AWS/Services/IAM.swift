/// AWS Identity and Access Management (global service).
public struct IAM: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    public struct Role: Sendable, Equatable {
        public var name: String
        public var arn: String
        public var roleID: String
    }

    public func getRole(name: String) async throws -> Role {
        let root = try await client.query(.iam, action: "GetRole", parameters: [("RoleName", name)])
        let role = root["GetRoleResult", "Role"]
        return Role(name: try AWSClient.required(role, "RoleName", service: .iam, operation: "GetRole"),
                    arn: try AWSClient.required(role, "Arn", service: .iam, operation: "GetRole"),
                    roleID: try AWSClient.required(role, "RoleId", service: .iam, operation: "GetRole"))
    }
}
