/// Amazon DynamoDB.
public struct DynamoDB: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    struct ListTablesInput: Encodable, Sendable {
        var ExclusiveStartTableName: String?
    }

    struct ListTablesOutput: Decodable {
        var TableNames: [String]
        var LastEvaluatedTableName: String?
    }

    /// Every table name in the region, following pagination.
    public func listTables() async throws -> [String] {
        var names: [String] = []
        var start: String?
        repeat {
            let page = try await client.json(.dynamodb, operation: "ListTables",
                                             input: ListTablesInput(ExclusiveStartTableName: start),
                                             as: ListTablesOutput.self)
            names += page.TableNames
            start = page.LastEvaluatedTableName
        } while start != nil
        return names
    }

    public struct TableDescription: Sendable, Equatable, Decodable {
        public var TableName: String
        public var TableStatus: String
        public var TableArn: String?
    }

    struct DescribeTableInput: Encodable, Sendable {
        var TableName: String
    }

    struct DescribeTableOutput: Decodable {
        var Table: TableDescription
    }

    public func describeTable(name: String) async throws -> TableDescription {
        try await client.json(.dynamodb, operation: "DescribeTable", input: DescribeTableInput(TableName: name),
                              as: DescribeTableOutput.self).Table
    }
}
