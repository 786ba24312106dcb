import AWS
import Plan
import Stack

/// `aws.kms.alias`: a friendly name for the key.
struct KMSAliasHandler: ResourceHandler {
    let type = "aws.kms.alias"
    let actions = HandlerActions(create: ["kms:CreateAlias"], read: ["kms:ListAliases"], update: ["kms:UpdateAlias"],
                                 delete: ["kms:DeleteAlias"])

    private func kms(_ context: HandlerContext) -> JSONService { JSONService(client: context.client, service: .kms) }

    private func arn(_ name: String, _ context: HandlerContext) -> Value {
        .string("arn:\(context.partition):kms:\(context.stack.region):\(context.stack.account):\(name)")
    }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let name = try resource.require("name")
        try await kms(context).call("CreateAlias", ["AliasName": .string(name), "TargetKeyId": .string(try resource.require("target_key_id"))])
        try await context.recordID(name)
        return ["arn": arn(name, context)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let name = try recorded.requireID()
        try await kms(context).call("UpdateAlias", ["AliasName": .string(name), "TargetKeyId": .string(try resource.require("target_key_id"))])
        return ["arn": arn(name, context)]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        do {
            try await kms(context).call("DeleteAlias", ["AliasName": .string(try recorded.requireID())])
        } catch let error as AWSError where error.isNotFound {}
    }

    private func aliases(_ context: HandlerContext) async throws -> [JSONValue] {
        try await kms(context).call("ListAliases", [:])["Aliases"]?.arrayValue ?? []
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let name = try resource.require("name")
        guard try await aliases(context).contains(where: { $0["AliasName"]?.stringValue == name }) else { return nil }
        try await context.recordID(name)
        return try await update(resource, recorded: ResourceState(address: resource.address, type: type, id: name, attributes: [:]),
                                changed: ["target_key_id"], context: context)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let all = try await aliases(context)
        var live: [ResourceAddress: [String: Value]] = [:]
        for resource in resources {
            guard let alias = all.first(where: { $0["AliasName"]?.stringValue == resource.id }) else { continue }
            live[resource.address] = ["name": .string(resource.id ?? ""), "target_key_id": .string(alias["TargetKeyId"]?.stringValue ?? "")]
        }
        return ReadResult(live: live, apiCalls: 1)
    }
}
