import AWS
import Plan
import Stack

/// `aws.ec2.security_group`: a group whose rules are exactly the template's (AWS's default allow-all egress
/// is revoked unless declared).
struct SecurityGroupHandler: ResourceHandler {
    let type = "aws.ec2.security_group"
    let actions = HandlerActions(
        create: ["ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
                 "ec2:RevokeSecurityGroupEgress", "ec2:CreateTags"],
        read: ["ec2:DescribeSecurityGroups"],
        update: ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
                 "ec2:RevokeSecurityGroupEgress", "ec2:CreateTags", "ec2:DeleteTags"],
        delete: ["ec2:DeleteSecurityGroup"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let answer = try await ec2.call("CreateSecurityGroup", [("GroupName", try resource.require("name")),
                                                                ("GroupDescription", try resource.require("description")),
                                                                ("VpcId", try resource.require("vpc_id"))]
                                        + EC2Support.tagSpecification("security-group", resource.tags))
        guard let id = answer.child("groupId")?.text else { throw ProvisionError("CreateSecurityGroup returned no groupId") }
        try await context.recordID(id)
        try await SecurityGroupRules(ec2: ec2).sync(groupID: id, desired: resource, existing: SecurityGroupRules.newGroupRules)
        return ["id": .string(id), "arn": ec2.arn("security-group/\(id)")]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let id = try await SecurityGroupRules(ec2: ec2).update(resource, recorded: recorded, changed: changed)
        return ["id": .string(id), "arn": ec2.arn("security-group/\(id)")]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        try await ec2.deleting(.securityGroup, id) { _ = try await ec2.call("DeleteSecurityGroup", [("GroupId", id)]) }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let ec2 = EC2Support(context)
        let (items, _) = try await ec2.describeTagged("DescribeSecurityGroups", address: resource.address,
                                                      items: EC2Support.set("securityGroupInfo"))
        guard let id = items.first?.child("groupId")?.text else { return nil }
        try await context.recordID(id)
        // the interrupted run may have stopped between creating the group and setting its rules
        try await SecurityGroupRules(ec2: ec2).sync(groupID: id, desired: resource)
        return ["id": .string(id), "arn": ec2.arn("security-group/\(id)")]
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        try await EC2Support(context).read(resources, action: "DescribeSecurityGroups", idName: "groupId",
                                           items: EC2Support.set("securityGroupInfo"), convert: EC2Attributes.securityGroup)
    }
}
