import AWS
import Foundation
import Plan
import Stack

/// `aws.kms.key`: the customer-managed key, with its policy and rotation. Deleting schedules the deletion with the
/// key's pending window, as KMS allows nothing sooner.
struct KMSKeyHandler: ResourceHandler {
    let type = "aws.kms.key"
    let actions = HandlerActions(
        create: ["kms:CreateKey", "kms:EnableKeyRotation", "kms:DescribeKey", "kms:TagResource", "kms:ListKeys", "kms:ListResourceTags"],
        read: ["kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy", "kms:ListResourceTags"],
        update: ["kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:PutKeyPolicy", "kms:UpdateKeyDescription", "kms:TagResource",
                 "kms:UntagResource"],
        delete: ["kms:ScheduleKeyDeletion", "kms:DescribeKey"])

    private func kms(_ context: HandlerContext) -> JSONService { JSONService(client: context.client, service: .kms) }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        var input: [String: JSONValue] = ["Description": .string(try resource.requireString("description")),
                                          "KeyUsage": .string(try resource.require("key_usage")),
                                          "KeySpec": .string(try resource.require("key_spec")),
                                          "Tags": JSONService.tagList(resource.tags, key: "TagKey", value: "TagValue")]
        if let policy = try resource.policyJSON("policy") { input["Policy"] = .string(policy) }
        let answer = try await kms(context).call("CreateKey", input)
        guard let id = answer["KeyMetadata"]?["KeyId"]?.stringValue, let arn = answer["KeyMetadata"]?["Arn"]?.stringValue else {
            throw ProvisionError("CreateKey returned no KeyId")
        }
        try await context.recordID(id)
        try await waitUntil("key \(id) to be enabled") {
            try await kms(context).call("DescribeKey", ["KeyId": .string(id)])["KeyMetadata"]?["KeyState"]?.stringValue == "Enabled"
        }
        try await setRotation(resource, id: id, context: context)
        return ["id": .string(id), "arn": .string(arn)]
    }

    private func setRotation(_ resource: DesiredResource, id: String, context: HandlerContext) async throws {
        if try resource.requireBool("enable_key_rotation") {
            try await kms(context).call("EnableKeyRotation", ["KeyId": .string(id),
                                                              "RotationPeriodInDays": .number(Double(try resource.requireInt("rotation_period_days")))])
        } else {
            try await kms(context).call("DisableKeyRotation", ["KeyId": .string(id)])
        }
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let id = try recorded.requireID()
        let service = kms(context)
        if changed.contains("enable_key_rotation") || changed.contains("rotation_period_days") {
            try await setRotation(resource, id: id, context: context)
        }
        if changed.contains("policy"), let policy = try resource.policyJSON("policy") {
            try await service.call("PutKeyPolicy", ["KeyId": .string(id), "PolicyName": "default", "Policy": .string(policy)])
        }
        if changed.contains("description") {
            try await service.call("UpdateKeyDescription", ["KeyId": .string(id), "Description": .string(try resource.requireString("description"))])
        }
        if changed.contains("tags") {
            let removed = resource.removedTagKeys(since: recorded)
            if !removed.isEmpty { try await service.call("UntagResource", ["KeyId": .string(id), "TagKeys": .array(removed.map(JSONValue.string))]) }
            try await service.call("TagResource", ["KeyId": .string(id), "Tags": JSONService.tagList(resource.tags, key: "TagKey", value: "TagValue")])
        }
        return ["id": .string(id), "arn": recorded.attributes["arn"] ?? .null]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let id = try recorded.requireID()
        let window = recorded.attributes["deletion_window_days"]?.intValue ?? 30
        do {
            let state = try await kms(context).call("DescribeKey", ["KeyId": .string(id)])["KeyMetadata"]?["KeyState"]?.stringValue
            if state == "PendingDeletion" { return }
            try await tolerating("KMSInvalidStateException") {
                try await kms(context).call("ScheduleKeyDeletion", ["KeyId": .string(id), "PendingWindowInDays": .number(Double(window))])
            }
        } catch let error as AWSError where error.isNotFound {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let service = kms(context)
        for key in try await KMS(client: context.client).listKeys() {
            let tags = JSONService.tags(try await service.call("ListResourceTags", ["KeyId": .string(key.KeyId)])["Tags"],
                                        key: "TagKey", value: "TagValue").mapValue ?? [:]
            guard tags[DeployTags.stack] == .string(context.stack.name), tags[DeployTags.address] == .string(resource.address.description)
            else { continue }
            let state = try await service.call("DescribeKey", ["KeyId": .string(key.KeyId)])["KeyMetadata"]?["KeyState"]?.stringValue
            guard state != "PendingDeletion" else { continue }
            try await context.recordID(key.KeyId)
            try await setRotation(resource, id: key.KeyId, context: context)
            return ["id": .string(key.KeyId), "arn": .string(key.KeyArn)]
        }
        return nil
    }

    /// A KMS timestamp (seconds since 1970) as ISO 8601 text.
    static func date(_ value: JSONValue?) -> Value {
        guard case .number(let seconds)? = value else { return .null }
        return .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds)))
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        // KMS has no batch read: a few calls per key, counted honestly
        let service = kms(context)
        var live: [ResourceAddress: [String: Value]] = [:]
        var lingering: [ResourceAddress: [String: Value]] = [:]
        var calls = 0
        for resource in resources {
            guard let id = resource.id else { continue }
            let metadata: JSONValue?
            do {
                metadata = try await service.call("DescribeKey", ["KeyId": .string(id)])["KeyMetadata"]
                calls += 1
            } catch let error as AWSError where error.isNotFound {
                calls += 1
                continue
            }
            guard let metadata else { continue }
            let pending = metadata["KeyState"]?.stringValue == "PendingDeletion"
            /// A read that a key pending deletion may refuse (KMSInvalidStateException): then nil, the attribute unread.
            func optionalCall(_ action: String, _ parameters: [String: JSONValue]) async throws -> JSONValue? {
                calls += 1
                do {
                    return try await service.call(action, parameters)
                } catch let error as AWSError where pending && error.code == "KMSInvalidStateException" {
                    return nil
                }
            }
            let rotation = try await optionalCall("GetKeyRotationStatus", ["KeyId": .string(id)])
            let policy = try await optionalCall("GetKeyPolicy", ["KeyId": .string(id), "PolicyName": "default"])
            let tags = try await optionalCall("ListResourceTags", ["KeyId": .string(id)])
            var attributes: [String: Value] = ["id": .string(id), "description": .string(metadata["Description"]?.stringValue ?? ""),
                                               "key_state": .string(metadata["KeyState"]?.stringValue ?? ""),
                                               "key_usage": .string(metadata["KeyUsage"]?.stringValue ?? ""),
                                               "key_spec": .string(metadata["KeySpec"]?.stringValue ?? "")]
            if let rotation {
                attributes["enable_key_rotation"] = .bool(rotation["KeyRotationEnabled"]?.boolValue ?? false)
                if let days = rotation["RotationPeriodInDays"]?.intValue { attributes["rotation_period_days"] = .int(days) }
            }
            if let text = policy?["Policy"]?.stringValue { attributes["policy"] = .string(text) }
            if let tags { attributes["tags"] = JSONService.tags(tags["Tags"], key: "TagKey", value: "TagValue") }
            if pending {
                // gone for planning; a compliance check still sees a key that can be saved
                attributes["deletion_date"] = Self.date(metadata["DeletionDate"])
                lingering[resource.address] = attributes
            } else {
                live[resource.address] = attributes
            }
        }
        return ReadResult(live: live, apiCalls: calls, lingering: lingering)
    }
}
