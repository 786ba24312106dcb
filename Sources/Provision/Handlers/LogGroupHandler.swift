import AWS
import Plan
import Stack

/// `aws.logs.log_group`: a CloudWatch Logs group with its retention and, optionally, the stack's key.
struct LogGroupHandler: ResourceHandler {
    let type = "aws.logs.log_group"
    let actions = HandlerActions(create: ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:TagResource", "logs:DescribeLogGroups"],
                                 read: ["logs:DescribeLogGroups", "logs:ListTagsForResource"],
                                 update: ["logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey",
                                          "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource"],
                                 delete: ["logs:DeleteLogGroup"])

    private func logs(_ context: HandlerContext) -> JSONService { JSONService(client: context.client, service: .logs) }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let name = try resource.require("name")
        var input: [String: JSONValue] = ["logGroupName": .string(name), "tags": .object(resource.tags.mapValues(JSONValue.string))]
        if let key = resource.string("kms_key_id") { input["kmsKeyId"] = .string(key) }
        try await logs(context).call("CreateLogGroup", input)
        try await context.recordID(name)
        if let days = resource.int("retention_in_days") {
            try await logs(context).call("PutRetentionPolicy", ["logGroupName": .string(name), "retentionInDays": .number(Double(days))])
        }
        return try await computed(name, context: context) ?? ["id": .string(name)]
    }

    private func describe(_ name: String, context: HandlerContext) async throws -> JSONValue? {
        let answer = try await logs(context).call("DescribeLogGroups", ["logGroupNamePrefix": .string(name)])
        return answer["logGroups"]?.arrayValue.first { $0["logGroupName"]?.stringValue == name }
    }

    private func computed(_ name: String, context: HandlerContext) async throws -> [String: Value]? {
        guard let group = try await describe(name, context: context) else { return nil }
        return ["arn": .string(Self.arn(group, name: name, context: context))]
    }

    /// The group's ARN without the `:*` that DescribeLogGroups appends.
    static func arn(_ group: JSONValue, name: String, context: HandlerContext) -> String {
        var arn = group["arn"]?.stringValue ?? "arn:\(context.partition):logs:\(context.stack.region):\(context.stack.account):log-group:\(name)"
        if arn.hasSuffix(":*") { arn.removeLast(2) }
        return arn
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let name = try recorded.requireID()
        let service = logs(context)
        if changed.contains("retention_in_days") {
            if let days = resource.int("retention_in_days") {
                try await service.call("PutRetentionPolicy", ["logGroupName": .string(name), "retentionInDays": .number(Double(days))])
            } else {
                try await service.call("DeleteRetentionPolicy", ["logGroupName": .string(name)])
            }
        }
        if changed.contains("kms_key_id") {
            if let key = resource.string("kms_key_id") {
                try await service.call("AssociateKmsKey", ["logGroupName": .string(name), "kmsKeyId": .string(key)])
            } else {
                try await service.call("DisassociateKmsKey", ["logGroupName": .string(name)])
            }
        }
        let arn = recorded.attributes["arn"]?.stringValue ?? ""
        if changed.contains("tags") {
            let removed = resource.removedTagKeys(since: recorded)
            if !removed.isEmpty { try await service.call("UntagResource", ["resourceArn": .string(arn), "tagKeys": .array(removed.map(JSONValue.string))]) }
            try await service.call("TagResource", ["resourceArn": .string(arn), "tags": .object(resource.tags.mapValues(JSONValue.string))])
        }
        return try await computed(name, context: context) ?? ["id": .string(name)]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        do {
            try await logs(context).call("DeleteLogGroup", ["logGroupName": .string(try recorded.requireID())])
        } catch let error as AWSError where error.isNotFound {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let name = try resource.require("name")
        guard try await describe(name, context: context) != nil else { return nil }
        try await context.recordID(name)
        // finish what the interrupted create may not have reached
        return try await update(resource, recorded: ResourceState(address: resource.address, type: type, id: name, attributes: [:]),
                                changed: resource.string("kms_key_id") == nil ? ["retention_in_days"] : ["retention_in_days", "kms_key_id"],
                                context: context)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        // one DescribeLogGroups with the stack's common prefix finds them all
        let names = resources.compactMap(\.id)
        let prefix = names.reduce(names.first ?? "") { common, name in String(zip(common, name).prefix { $0 == $1 }.map(\.0)) }
        let answer = try await logs(context).call("DescribeLogGroups", ["logGroupNamePrefix": .string(prefix)])
        var live: [ResourceAddress: [String: Value]] = [:]
        var calls = 1
        for resource in resources {
            guard let name = resource.id, let group = answer["logGroups"]?.arrayValue.first(where: { $0["logGroupName"]?.stringValue == name })
            else { continue }
            var attributes: [String: Value] = ["name": .string(name), "arn": .string(Self.arn(group, name: name, context: context))]
            attributes["retention_in_days"] = group["retentionInDays"]?.intValue.map(Value.int) ?? .null
            attributes["kms_key_id"] = group["kmsKeyId"]?.stringValue.map(Value.string) ?? .null
            let tags = try await logs(context).call("ListTagsForResource", ["resourceArn": .string(Self.arn(group, name: name, context: context))])
            calls += 1
            var tagMap: [String: Value] = [:]
            if case .object(let entries)? = tags["tags"] { tagMap = entries.compactMapValues { $0.stringValue.map(Value.string) } }
            attributes["tags"] = .map(tagMap)
            live[resource.address] = attributes
        }
        return ReadResult(live: live, apiCalls: calls)
    }
}
