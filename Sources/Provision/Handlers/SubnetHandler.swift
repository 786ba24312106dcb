import AWS
import Plan
import Stack

/// `aws.ec2.subnet`.
struct SubnetHandler: ResourceHandler {
    let type = "aws.ec2.subnet"
    let actions = HandlerActions(create: ["ec2:CreateSubnet", "ec2:ModifySubnetAttribute", "ec2:CreateTags"],
                                 read: ["ec2:DescribeSubnets"],
                                 update: ["ec2:ModifySubnetAttribute", "ec2:CreateTags", "ec2:DeleteTags"],
                                 delete: ["ec2:DeleteSubnet"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let answer = try await ec2.call("CreateSubnet", [("VpcId", try resource.require("vpc_id")),
                                                         ("CidrBlock", try resource.require("cidr_block")),
                                                         ("AvailabilityZone", try resource.require("availability_zone"))]
                                        + EC2Support.tagSpecification("subnet", resource.tags))
        guard let id = answer.child("subnet")?.child("subnetId")?.text else { throw ProvisionError("CreateSubnet returned no subnetId") }
        try await context.recordID(id)
        if try resource.requireBool("map_public_ip_on_launch") { try await setPublicIP(true, id: id, ec2: ec2) }
        return ["id": .string(id), "arn": ec2.arn("subnet/\(id)")]
    }

    private func setPublicIP(_ value: Bool, id: String, ec2: EC2Support) async throws {
        _ = try await ec2.call("ModifySubnetAttribute", [("SubnetId", id), ("MapPublicIpOnLaunch.Value", value ? "true" : "false")])
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        if changed.contains("map_public_ip_on_launch") { try await setPublicIP(try resource.requireBool("map_public_ip_on_launch"), id: id, ec2: ec2) }
        if changed.contains("tags") { try await ec2.syncTags(id, from: recorded.attributes["tags"], to: resource.tags) }
        return ["id": .string(id), "arn": ec2.arn("subnet/\(id)")]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        try await ec2.deleting(.subnet, id) { _ = try await ec2.call("DeleteSubnet", [("SubnetId", id)]) }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let ec2 = EC2Support(context)
        let (items, _) = try await ec2.describeTagged("DescribeSubnets", address: resource.address, items: EC2Support.set("subnetSet"))
        guard let id = items.first?.child("subnetId")?.text else { return nil }
        try await context.recordID(id)
        try await setPublicIP(try resource.requireBool("map_public_ip_on_launch"), id: id, ec2: ec2)
        return ["id": .string(id), "arn": ec2.arn("subnet/\(id)")]
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        try await EC2Support(context).read(resources, action: "DescribeSubnets", idName: "subnetId",
                                           items: EC2Support.set("subnetSet"), convert: EC2Attributes.subnet)
    }
}
