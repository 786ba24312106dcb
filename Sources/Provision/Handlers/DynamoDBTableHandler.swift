import AWS
import Plan
import Stack

/// `aws.dynamodb.table`: encrypted with the stack's key, point-in-time recovery, deletion protection, an optional
/// time-to-live attribute; waited on until ACTIVE. A protected table is only deleted by a forced destroy, which lifts the protection first.
struct DynamoDBTableHandler: ResourceHandler {
    let type = "aws.dynamodb.table"
    let actions = HandlerActions(
        create: ["dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource",
                 "kms:CreateGrant", "kms:DescribeKey", "dynamodb:UpdateTimeToLive"],
        read: ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:ListTagsOfResource", "dynamodb:DescribeTimeToLive"],
        update: ["dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource", "dynamodb:UntagResource",
                 "dynamodb:DescribeTable", "dynamodb:UpdateTimeToLive"],
        delete: ["dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:DescribeTable"])

    private func dynamodb(_ context: HandlerContext) -> JSONService { JSONService(client: context.client, service: .dynamodb) }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let name = try resource.require("name")
        let hashKey = try resource.require("hash_key")
        var attributes: [JSONValue] = [["AttributeName": .string(hashKey), "AttributeType": .string(try resource.require("hash_key_type"))]]
        var schema: [JSONValue] = [["AttributeName": .string(hashKey), "KeyType": "HASH"]]
        if let rangeKey = resource.string("range_key") {
            attributes.append(["AttributeName": .string(rangeKey), "AttributeType": .string(try resource.require("range_key_type"))])
            schema.append(["AttributeName": .string(rangeKey), "KeyType": "RANGE"])
        }
        let billing = try resource.require("billing_mode")
        var input: [String: JSONValue] = ["TableName": .string(name), "AttributeDefinitions": .array(attributes), "KeySchema": .array(schema),
                                          "BillingMode": .string(billing),
                                          "DeletionProtectionEnabled": .bool(try resource.requireBool("deletion_protection")),
                                          "Tags": JSONService.tagList(resource.tags)]
        if billing == "PROVISIONED" {
            input["ProvisionedThroughput"] = ["ReadCapacityUnits": 1, "WriteCapacityUnits": 1]
        }
        if let key = resource.string("kms_key_arn") {
            input["SSESpecification"] = ["Enabled": true, "SSEType": "KMS", "KMSMasterKeyId": .string(key)]
        }
        try await dynamodb(context).call("CreateTable", input)
        try await context.recordID(name)
        let arn = try await active(name, context: context)
        if try resource.requireBool("point_in_time_recovery") { try await setRecovery(true, name: name, context: context) }
        if let attribute = resource.string("ttl_attribute") { try await setTimeToLive(attribute, enabled: true, name: name, context: context) }
        return ["id": .string(name), "arn": .string(arn)]
    }

    private func active(_ name: String, context: HandlerContext) async throws -> String {
        var arn = ""
        try await waitUntil("table \(name) to be active") {
            let table = try await dynamodb(context).call("DescribeTable", ["TableName": .string(name)])["Table"]
            arn = table?["TableArn"]?.stringValue ?? ""
            return table?["TableStatus"]?.stringValue == "ACTIVE"
        }
        return arn
    }

    private func setTimeToLive(_ attribute: String, enabled: Bool, name: String, context: HandlerContext) async throws {
        try await dynamodb(context).call("UpdateTimeToLive", [
            "TableName": .string(name), "TimeToLiveSpecification": ["AttributeName": .string(attribute), "Enabled": .bool(enabled)]])
    }

    private func setRecovery(_ enabled: Bool, name: String, context: HandlerContext) async throws {
        try await dynamodb(context).call("UpdateContinuousBackups", [
            "TableName": .string(name), "PointInTimeRecoverySpecification": ["PointInTimeRecoveryEnabled": .bool(enabled)]])
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let name = try recorded.requireID()
        let service = dynamodb(context)
        var input: [String: JSONValue] = ["TableName": .string(name)]
        if changed.contains("deletion_protection") { input["DeletionProtectionEnabled"] = .bool(try resource.requireBool("deletion_protection")) }
        if changed.contains("billing_mode") { input["BillingMode"] = .string(try resource.require("billing_mode")) }
        if changed.contains("kms_key_arn") {
            // without a key of the stack's, the table goes back to the key AWS owns
            input["SSESpecification"] = resource.string("kms_key_arn").map { ["Enabled": true, "SSEType": "KMS", "KMSMasterKeyId": .string($0)] }
                ?? ["Enabled": false]
        }
        if input.count > 1 { try await service.call("UpdateTable", input) }
        if changed.contains("ttl_attribute") {
            // items expire by at most one attribute: the one read from the account goes before another is named
            if let current = recorded.attributes["ttl_attribute"]?.stringValue {
                try await setTimeToLive(current, enabled: false, name: name, context: context)
            }
            if let attribute = resource.string("ttl_attribute") { try await setTimeToLive(attribute, enabled: true, name: name, context: context) }
        }
        if changed.contains("point_in_time_recovery") {
            try await setRecovery(try resource.requireBool("point_in_time_recovery"), name: name, context: context)
        }
        let arn = try await active(name, context: context)
        if changed.contains("tags") {
            let removed = resource.removedTagKeys(since: recorded)
            if !removed.isEmpty { try await service.call("UntagResource", ["ResourceArn": .string(arn), "TagKeys": .array(removed.map(JSONValue.string))]) }
            try await service.call("TagResource", ["ResourceArn": .string(arn), "Tags": JSONService.tagList(resource.tags)])
        }
        return ["id": .string(name), "arn": .string(arn)]
    }

    func deletionBlocker(_ recorded: ResourceState, context: HandlerContext) async throws -> String? {
        guard !context.force, let name = recorded.id else { return nil }
        do {
            let table = try await dynamodb(context).call("DescribeTable", ["TableName": .string(name)])["Table"]
            return table?["DeletionProtectionEnabled"]?.boolValue == true ? Self.protected(name) : nil
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
    }

    private static func protected(_ name: String) -> String {
        "table \(name) has deletion protection; destroy it with --force to lift the protection and delete it, or name it in the stack's protect list and keep it with --keep-protected"
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let name = try recorded.requireID()
        let service = dynamodb(context)
        do {
            let table = try await service.call("DescribeTable", ["TableName": .string(name)])["Table"]
            if table?["DeletionProtectionEnabled"]?.boolValue == true {
                guard context.force else { throw ProvisionError(Self.protected(name)) }
                try await service.call("UpdateTable", ["TableName": .string(name), "DeletionProtectionEnabled": false])
            }
            try await tolerating("ResourceInUseException") {  // already being deleted
                try await service.call("DeleteTable", ["TableName": .string(name)])
            }
            try await waitUntil("table \(name) to be deleted") {
                do {
                    _ = try await service.call("DescribeTable", ["TableName": .string(name)])
                    return false
                } catch let error as AWSError where error.isNotFound {
                    return true
                }
            }
        } catch let error as AWSError where error.isNotFound {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let name = try resource.require("name")
        do {
            _ = try await dynamodb(context).call("DescribeTable", ["TableName": .string(name)])
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
        try await context.recordID(name)
        let arn = try await active(name, context: context)
        if try resource.requireBool("point_in_time_recovery") { try await setRecovery(true, name: name, context: context) }
        return ["id": .string(name), "arn": .string(arn)]
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let service = dynamodb(context)
        var live: [ResourceAddress: [String: Value]] = [:]
        var calls = 0
        for resource in resources {
            guard let name = resource.id else { continue }
            calls += 1
            let table: JSONValue?
            do {
                table = try await service.call("DescribeTable", ["TableName": .string(name)])["Table"]
            } catch let error as AWSError where error.isNotFound {
                continue
            }
            guard let table, let arn = table["TableArn"]?.stringValue else { continue }
            let backups = try await service.call("DescribeContinuousBackups", ["TableName": .string(name)])
            let tags = try await service.call("ListTagsOfResource", ["ResourceArn": .string(arn)])
            let ttl = try await service.call("DescribeTimeToLive", ["TableName": .string(name)])["TimeToLiveDescription"]
            calls += 3
            let recovery = backups["ContinuousBackupsDescription"]?["PointInTimeRecoveryDescription"]?["PointInTimeRecoveryStatus"]?.stringValue
            let keys = Self.keySchema(table)
            var attributes: [String: Value] = ["name": .string(name), "arn": .string(arn),
                                               "hash_key": keys.hash?.name ?? .null, "hash_key_type": keys.hash?.type ?? .null,
                                               "range_key": keys.range?.name ?? .null,
                                               // a table made before billing modes existed, or in moto, has no summary: provisioned
                                               "billing_mode": .string(table["BillingModeSummary"]?["BillingMode"]?.stringValue ?? "PROVISIONED"),
                                               "deletion_protection": .bool(table["DeletionProtectionEnabled"]?.boolValue ?? false),
                                               "point_in_time_recovery": .bool(recovery == "ENABLED"),
                                               // no SSE description: the table is encrypted with a key AWS owns
                                               "kms_key_arn": table["SSEDescription"]?["KMSMasterKeyArn"]?.stringValue.map(Value.string) ?? .null,
                                               "tags": JSONService.tags(tags["Tags"])]
            // a range key's type exists only with a range key: without one there is nothing to compare
            if let range = keys.range { attributes["range_key_type"] = range.type }
            let expiring = ["ENABLED", "ENABLING"].contains(ttl?["TimeToLiveStatus"]?.stringValue ?? "")
            attributes["ttl_attribute"] = expiring ? ttl?["AttributeName"]?.stringValue.map(Value.string) ?? .null : .null
            live[resource.address] = attributes
        }
        return ReadResult(live: live, apiCalls: calls)
    }

    /// The table's hash and range keys, each with its attribute type.
    static func keySchema(_ table: JSONValue) -> (hash: (name: Value, type: Value)?, range: (name: Value, type: Value)?) {
        let types = Dictionary((table["AttributeDefinitions"]?.arrayValue ?? []).compactMap { definition in
            definition["AttributeName"]?.stringValue.map { ($0, definition["AttributeType"]?.stringValue ?? "") }
        }) { first, _ in first }
        func key(_ role: String) -> (name: Value, type: Value)? {
            guard let name = table["KeySchema"]?.arrayValue.first(where: { $0["KeyType"]?.stringValue == role })?["AttributeName"]?.stringValue
            else { return nil }
            return (.string(name), types[name].map(Value.string) ?? .null)
        }
        return (key("HASH"), key("RANGE"))
    }
}
