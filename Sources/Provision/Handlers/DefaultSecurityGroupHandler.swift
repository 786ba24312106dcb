import AWS
import Plan
import Stack

/// `aws.ec2.default_security_group`: the group AWS makes with every VPC, adopted and given exactly the declared
/// rules (none, in the shipped template). It goes away with its VPC, so delete only forgets it.
struct DefaultSecurityGroupHandler: ResourceHandler {
    let type = "aws.ec2.default_security_group"
    let actions = HandlerActions(
        create: ["ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
                 "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:CreateTags"],
        read: ["ec2:DescribeSecurityGroups"],
        update: ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
                 "ec2:AuthorizeSecurityGroupEgress", "ec2:CreateTags", "ec2:DeleteTags"],
        delete: [])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let vpc = try resource.require("vpc_id")
        let answer = try await ec2.call("DescribeSecurityGroups", EC2Support.filters([("vpc-id", [vpc]), ("group-name", ["default"])]))
        guard let id = answer.child("securityGroupInfo")?.child("item")?.child("groupId")?.text else {
            throw ProvisionError("VPC \(vpc) has no default security group")
        }
        try await context.recordID(id)
        try await SecurityGroupRules(ec2: ec2).sync(groupID: id, desired: resource)
        try await ec2.syncTags(id, from: nil, to: resource.tags)
        return ["id": .string(id)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        ["id": .string(try await SecurityGroupRules(ec2: EC2Support(context)).update(resource, recorded: recorded, changed: changed))]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {}

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        try await create(resource, token: token, context: context)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        try await EC2Support(context).read(resources, action: "DescribeSecurityGroups", idName: "groupId",
                                           items: EC2Support.set("securityGroupInfo"), convert: EC2Attributes.securityGroup)
    }
}
