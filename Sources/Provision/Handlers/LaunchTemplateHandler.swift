import AWS
import Foundation
import Plan
import Stack

/// `aws.ec2.launch_template`: what a fleet's nodes boot from, with the same guarantees as a single node (IMDSv2,
/// encrypted root volume, no public address, the node's instance profile). Nothing in it changes in place: any
/// change is a new version, made the default, whose number (`default_version`) the Auto Scaling group then rolls out.
/// The default, not the latest: a version someone adds without making it the default is not what the stack reviewed.
struct LaunchTemplateHandler: ResourceHandler {
    let type = "aws.ec2.launch_template"
    let actions = HandlerActions(
        create: ["ec2:CreateLaunchTemplate", "ec2:DescribeLaunchTemplates", "ec2:CreateTags"],
        read: ["ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"],
        update: ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DescribeLaunchTemplates", "ec2:CreateTags",
                 "ec2:DeleteTags"],
        delete: ["ec2:DeleteLaunchTemplate"], passesRole: true)

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let answer = try await ec2.call("CreateLaunchTemplate", [("LaunchTemplateName", try resource.require("name")), ("ClientToken", token)]
            + (try Self.launchData(resource)) + EC2Support.tagSpecification("launch-template", resource.tags))
        guard let id = answer.child("launchTemplate")?.child("launchTemplateId")?.text else {
            throw ProvisionError("CreateLaunchTemplate returned no launchTemplateId")
        }
        try await context.recordID(id)
        return try await computed(id, ec2: ec2)
    }

    /// `LaunchTemplateData.*`: the node's launch, as RunInstances takes it for a single node.
    static func launchData(_ resource: DesiredResource) throws -> [(String, String)] {
        try NodeLaunch.parameters(resource).map { ("LaunchTemplateData.\($0.0)", $0.1) }
    }

    private func describe(_ id: String, ec2: EC2Support) async throws -> XMLNode? {
        try await ec2.call("DescribeLaunchTemplates", [("LaunchTemplateId.1", id)]).child("launchTemplates")?.child("item")
    }

    private func computed(_ id: String, ec2: EC2Support) async throws -> [String: Value] {
        guard let template = try await describe(id, ec2: ec2) else { throw ProvisionError("launch template \(id) not found after its create") }
        return ["id": .string(id), "arn": ec2.arn("launch-template/\(id)"),
                "default_version": .string(template.child("defaultVersionNumber")?.text ?? "1")]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        if !changed.subtracting(["tags"]).isEmpty {
            let answer = try await ec2.call("CreateLaunchTemplateVersion", [("LaunchTemplateId", id)] + (try Self.launchData(resource)))
            guard let version = answer.child("launchTemplateVersion")?.child("versionNumber")?.text else {
                throw ProvisionError("CreateLaunchTemplateVersion returned no versionNumber")
            }
            _ = try await ec2.call("ModifyLaunchTemplate", [("LaunchTemplateId", id), ("SetDefaultVersion", version)])
        }
        if changed.contains("tags") { try await ec2.syncTags(id, from: recorded.attributes["tags"], to: resource.tags) }
        return try await computed(id, ec2: ec2)
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        do {
            _ = try await EC2Support(context).call("DeleteLaunchTemplate", [("LaunchTemplateId", try recorded.requireID())])
        } catch let error as AWSError where error.isNotFound || error.code == "InvalidLaunchTemplateId.Malformed" {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let ec2 = EC2Support(context)
        let (items, _) = try await ec2.describeTagged("DescribeLaunchTemplates", address: resource.address, items: EC2Support.set("launchTemplates"))
        guard let id = items.first?.child("launchTemplateId")?.text else { return nil }
        try await context.recordID(id)
        return try await computed(id, ec2: ec2)
    }

    /// Each template with its default version's launch data, read back into the properties it was made from.
    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let ec2 = EC2Support(context)
        var result = try await ec2.read(resources, action: "DescribeLaunchTemplates", idName: "launchTemplateId",
                                        items: EC2Support.set("launchTemplates")) { template in
            ["name": EC2Attributes.text(template, "launchTemplateName") ?? .null,
             "default_version": EC2Attributes.text(template, "defaultVersionNumber") ?? .null]
        }
        for (address, attributes) in result.live {
            guard let id = attributes["id"]?.stringValue else { continue }
            let answer = try await ec2.call("DescribeLaunchTemplateVersions", [("LaunchTemplateId", id), ("LaunchTemplateVersion.1", "$Default")])
            result.apiCalls += 1
            guard let data = answer.child("launchTemplateVersionSet")?.child("item")?.child("launchTemplateData") else { continue }
            result.live[address]?.merge(Self.properties(data)) { _, read in read }
            result.live[address]?["arn"] = ec2.arn("launch-template/\(id)")
        }
        return result
    }

    /// A version's `launchTemplateData`, as properties.
    static func properties(_ data: XMLNode) -> [String: Value] {
        let interface = data.child("networkInterfaceSet")?.child("item")
        let volume = data.child("blockDeviceMappingSet")?.child("item")?.child("ebs")
        let metadata = data.child("metadataOptions")
        let userData = data.child("userData")?.text
        return EC2Attributes.compact([
            "ami": EC2Attributes.text(data, "imageId"), "instance_type": EC2Attributes.text(data, "instanceType"),
            "security_group_ids": .list(interface?.child("groupSet")?.children("groupId").map { .string($0.text) } ?? []),
            "associate_public_ip_address": interface.flatMap { EC2Attributes.bool($0, "associatePublicIpAddress") } ?? .bool(false),
            "iam_instance_profile": data.child("iamInstanceProfile")?.child("name").map { .string($0.text) } ?? .null,
            "metadata_http_tokens": metadata.flatMap { EC2Attributes.text($0, "httpTokens") } ?? .string("optional"),
            "metadata_hop_limit": metadata.flatMap { EC2Attributes.int($0, "httpPutResponseHopLimit") } ?? .int(1),
            "monitoring": data.child("monitoring").flatMap { EC2Attributes.bool($0, "enabled") } ?? .bool(false),
            "root_volume_size": volume.flatMap { EC2Attributes.int($0, "volumeSize") } ?? .null,
            "root_volume_type": volume.flatMap { EC2Attributes.text($0, "volumeType") } ?? .null,
            "root_volume_encrypted": volume.flatMap { EC2Attributes.bool($0, "encrypted") } ?? .bool(false),
            "root_volume_kms_key_id": volume.flatMap { EC2Attributes.text($0, "kmsKeyId") } ?? .null,
            "user_data": userData.flatMap { Data(base64Encoded: $0) }.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null,
        ])
    }
}
