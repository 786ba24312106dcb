import AWS
import Foundation
import Plan
import Stack

/// `aws.ec2.instance`: the inference node. IMDSv2, encrypted root volume, no public address; created with the
/// idempotency token as ClientToken, waited on until running, and on delete until terminated.
struct InstanceHandler: ResourceHandler {
    let type = "aws.ec2.instance"
    let actions = HandlerActions(
        create: ["ec2:RunInstances", "ec2:DescribeInstances", "ec2:CreateTags", "kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext",
                 "kms:Decrypt"],
        read: ["ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeInstanceAttribute"],
        update: ["ec2:StopInstances", "ec2:StartInstances", "ec2:ModifyInstanceAttribute", "ec2:ModifyInstanceMetadataOptions",
                 "ec2:MonitorInstances", "ec2:UnmonitorInstances", "ec2:DescribeInstances", "ec2:CreateTags", "ec2:DeleteTags"],
        delete: ["ec2:TerminateInstances", "ec2:DescribeInstances"], passesRole: true)

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        // the subnet, groups and public address go on the primary interface, the one place RunInstances takes the
        // address: sent either way, so that a subnet that maps public addresses on launch cannot give the node one
        let parameters = [("MinCount", "1"), ("MaxCount", "1"), ("ClientToken", token),
                          ("NetworkInterface.1.SubnetId", try resource.require("subnet_id"))] + (try NodeLaunch.parameters(resource))
        let answer = try await ec2.call("RunInstances", parameters)
        guard let id = answer.child("instancesSet")?.child("item")?.child("instanceId")?.text else {
            throw ProvisionError("RunInstances returned no instanceId")
        }
        try await context.recordID(id)
        return try await running(id, ec2: ec2)
    }

    private func describe(_ id: String, ec2: EC2Support) async throws -> XMLNode? {
        let answer = try await ec2.call("DescribeInstances", [("InstanceId.1", id)])
        return answer.child("reservationSet")?.child("item")?.child("instancesSet")?.child("item")
    }

    private func running(_ id: String, ec2: EC2Support) async throws -> [String: Value] {
        var address = ""
        try await waitUntil("instance \(id) to be running", timeout: 900, interval: 5) {
            guard let instance = try await describe(id, ec2: ec2) else { return false }
            let state = instance.child("instanceState")?.child("name")?.text
            if state == "terminated" || state == "shutting-down" { throw ProvisionError("instance \(id) is \(state ?? "") instead of running") }
            address = instance.child("privateIpAddress")?.text ?? ""
            return state == "running"
        }
        return ["id": .string(id), "arn": ec2.arn("instance/\(id)"), "private_ip": .string(address)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        if changed.contains("instance_type") {
            _ = try await ec2.call("StopInstances", [("InstanceId.1", id)])
            try await waitUntil("instance \(id) to stop", timeout: 900, interval: 5) {
                try await describe(id, ec2: ec2)?.child("instanceState")?.child("name")?.text == "stopped"
            }
            _ = try await ec2.call("ModifyInstanceAttribute", [("InstanceId", id), ("InstanceType.Value", try resource.require("instance_type"))])
            _ = try await ec2.call("StartInstances", [("InstanceId.1", id)])
        }
        if changed.contains("metadata_http_tokens") || changed.contains("metadata_hop_limit") {
            _ = try await ec2.call("ModifyInstanceMetadataOptions", [
                ("InstanceId", id), ("HttpTokens", try resource.require("metadata_http_tokens")),
                ("HttpPutResponseHopLimit", String(try resource.requireInt("metadata_hop_limit"))), ("HttpEndpoint", "enabled")])
        }
        if changed.contains("security_group_ids") {
            _ = try await ec2.call("ModifyInstanceAttribute", [("InstanceId", id)] + EC2Support.list("GroupId", resource.strings("security_group_ids")))
        }
        if changed.contains("monitoring") {
            _ = try await ec2.call(try resource.requireBool("monitoring") ? "MonitorInstances" : "UnmonitorInstances", [("InstanceId.1", id)])
        }
        if changed.contains("tags") { try await ec2.syncTags(id, from: recorded.attributes["tags"], to: resource.tags) }
        return try await running(id, ec2: ec2)
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        try await ec2.deleting(.instance, id) { _ = try await ec2.call("TerminateInstances", [("InstanceId.1", id)]) }
        try await waitUntil("instance \(id) to terminate", timeout: 900, interval: 5) {
            do {
                let state = try await describe(id, ec2: ec2)?.child("instanceState")?.child("name")?.text
                return state == nil || state == "terminated"
            } catch let error as AWSError where error.isNotFound {
                return true
            }
        }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let ec2 = EC2Support(context)
        let (items, _) = try await ec2.describeTagged("DescribeInstances", address: resource.address) { page in
            page.child("reservationSet")?.children("item").flatMap { $0.child("instancesSet")?.children("item") ?? [] } ?? []
        }
        let alive = items.first { !["terminated", "shutting-down"].contains($0.child("instanceState")?.child("name")?.text ?? "") }
        guard let id = alive?.child("instanceId")?.text else { return nil }
        return try await running(id, ec2: ec2)
    }

    /// The instances, each with its attached volumes (`volumes`: id, device, encrypted, kms_key_id) from one
    /// DescribeVolumes, and its user data.
    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let ec2 = EC2Support(context)
        var result = try await ec2.read(resources, action: "DescribeInstances", idName: "instanceId", items: { page in
            page.child("reservationSet")?.children("item").flatMap { $0.child("instancesSet")?.children("item") ?? [] } ?? []
        }, convert: EC2Attributes.instance)
        let found = result.live.compactMap { address, attributes in attributes["id"]?.stringValue.map { (address, $0) } }
        guard !found.isEmpty else { return result }
        let answer = try await ec2.call("DescribeVolumes", EC2Support.filters([("attachment.instance-id", found.map(\.1))]))
        result.apiCalls += 1
        var volumes: [String: [Value]] = [:]
        for volume in answer.child("volumeSet")?.children("item") ?? [] {
            for attachment in volume.child("attachmentSet")?.children("item") ?? [] {
                guard let instance = attachment.child("instanceId")?.text else { continue }
                volumes[instance, default: []].append(.map(EC2Attributes.compact([
                    "id": EC2Attributes.text(volume, "volumeId"), "device": EC2Attributes.text(attachment, "device"),
                    "encrypted": EC2Attributes.bool(volume, "encrypted") ?? .bool(false),
                    "kms_key_id": EC2Attributes.text(volume, "kmsKeyId") ?? .null])))
            }
        }
        for (address, id) in found {
            let userData = try await ec2.call("DescribeInstanceAttribute", [("InstanceId", id), ("Attribute", "userData")])
            result.apiCalls += 1
            let encoded = userData.child("userData")?.child("value")?.text
            result.live[address]?["user_data"] = encoded.flatMap { Data(base64Encoded: $0) }.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null
            result.live[address]?["volumes"] = .list(volumes[id] ?? [])
        }
        return result
    }
}
