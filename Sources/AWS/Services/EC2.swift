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

    /// Every item a Describe action returns for resources carrying a tag, following NextToken pages.
    /// `items` picks the resources out of one page (for DescribeInstances, the instances inside reservations).
    /// Every item of a Describe action carrying the tag (or, with a nil `tagKey`, every item), following pages.
    public func describeTagged(_ action: String, tagKey: String?, tagValue: String,
                               items: (XMLNode) -> [XMLNode]) async throws -> (items: [XMLNode], calls: Int) {
        var found: [XMLNode] = []
        var token: String?
        var calls = 0
        repeat {
            var parameters = tagKey.map { [("Filter.1.Name", "tag:\($0)"), ("Filter.1.Value.1", tagValue)] } ?? []
            if let token { parameters.append(("NextToken", token)) }
            let page = try await client.query(.ec2, action: action, parameters: parameters)
            calls += 1
            found += items(page)
            token = page.child("nextToken")?.text
            if token?.isEmpty == true { token = nil }
        } while token != nil
        return (found, calls)
    }
}
