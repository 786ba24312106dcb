import AWS
import Plan
import Stack

/// `aws.ec2.ebs_encryption_by_default`: the region's switch that encrypts every new EBS volume and snapshot copy.
/// It is the account's, not the stack's: destroy forgets it and leaves it on, since turning it off would weaken
/// every other workload in the region. Volumes keep AWS's default key (aws/ebs); the node's own volume names the
/// stack's key itself, so other workloads never need a grant on it.
struct EBSEncryptionByDefaultHandler: ResourceHandler {
    let type = "aws.ec2.ebs_encryption_by_default"
    let actions = HandlerActions(
        create: ["ec2:EnableEbsEncryptionByDefault", "ec2:DisableEbsEncryptionByDefault"],
        read: ["ec2:GetEbsEncryptionByDefault"],
        update: ["ec2:EnableEbsEncryptionByDefault", "ec2:DisableEbsEncryptionByDefault"],
        delete: [])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        try await set(try resource.requireBool("enabled"), context: context)
        let id = "\(context.stack.account)/\(context.stack.region)"
        try await context.recordID(id)
        return ["id": .string(id)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        try await set(try resource.requireBool("enabled"), context: context)
        return ["id": .string(try recorded.requireID())]
    }

    private func set(_ enabled: Bool, context: HandlerContext) async throws {
        _ = try await EC2Support(context).call(enabled ? "EnableEbsEncryptionByDefault" : "DisableEbsEncryptionByDefault")
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {}

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        try await create(resource, token: token, context: context)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        guard !resources.isEmpty else { return ReadResult(live: [:], apiCalls: 0) }
        let answer = try await EC2Support(context).call("GetEbsEncryptionByDefault")
        let enabled = Value.bool(answer.child("ebsEncryptionByDefault")?.text == "true")
        return ReadResult(live: Dictionary(uniqueKeysWithValues: resources.map { ($0.address, ["enabled": enabled]) }), apiCalls: 1)
    }
}
