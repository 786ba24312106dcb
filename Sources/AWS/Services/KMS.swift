/// AWS Key Management Service.
public struct KMS: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    public struct KeyEntry: Sendable, Equatable, Codable {
        public var KeyId: String
        public var KeyArn: String
    }

    struct ListKeysInput: Encodable, Sendable {
        var Marker: String?
    }

    struct ListKeysOutput: Decodable {
        var Keys: [KeyEntry]
        var NextMarker: String?
        var Truncated: Bool?
    }

    /// Every key in the account and region, following pagination.
    public func listKeys() async throws -> [KeyEntry] {
        var keys: [KeyEntry] = []
        var marker: String?
        repeat {
            let page = try await client.json(.kms, operation: "ListKeys", input: ListKeysInput(Marker: marker),
                                             as: ListKeysOutput.self)
            keys += page.Keys
            marker = page.Truncated == true ? page.NextMarker : nil
        } while marker != nil
        return keys
    }
}
