/// Amazon EC2 (its Query dialect: no Result wrapper, errors under Response/Errors).
public struct EC2: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    /// The ids of the VPCs in the region.
    public func describeVpcIDs() async throws -> [String] {
        let root = try await client.query(.ec2, action: "DescribeVpcs")
        return root.child("vpcSet")?.children("item").compactMap { $0.child("vpcId")?.text } ?? []
    }
}
