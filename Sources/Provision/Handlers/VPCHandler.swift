import AWS
import Plan
import Stack

/// `aws.ec2.vpc`: the VPC, its DNS settings, and the ids of the default security group and main route table.
struct VPCHandler: ResourceHandler {
    let type = "aws.ec2.vpc"
    let actions = HandlerActions(create: ["ec2:CreateVpc", "ec2:ModifyVpcAttribute", "ec2:CreateTags"],
                                 read: ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables"],
                                 update: ["ec2:ModifyVpcAttribute", "ec2:CreateTags", "ec2:DeleteTags"],
                                 delete: ["ec2:DeleteVpc"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let answer = try await ec2.call("CreateVpc", [("CidrBlock", try resource.require("cidr_block")),
                                                      ("InstanceTenancy", try resource.require("instance_tenancy"))]
                                        + EC2Support.tagSpecification("vpc", resource.tags))
        guard let id = answer.child("vpc")?.child("vpcId")?.text else { throw ProvisionError("CreateVpc returned no vpcId") }
        try await context.recordID(id)
        try await setDNS(resource, id: id, ec2: ec2, changed: nil)
        return try await computed(id, ec2: ec2)
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        try await setDNS(resource, id: id, ec2: ec2, changed: changed)
        if changed.contains("tags") { try await ec2.syncTags(id, from: recorded.attributes["tags"], to: resource.tags) }
        return try await computed(id, ec2: ec2)
    }

    private func setDNS(_ resource: DesiredResource, id: String, ec2: EC2Support, changed: Set<String>?) async throws {
        // one attribute per ModifyVpcAttribute call, as the API requires; the two calls are independent
        let calls = [("enable_dns_support", "EnableDnsSupport", try resource.requireBool("enable_dns_support")),
                     ("enable_dns_hostnames", "EnableDnsHostnames", try resource.requireBool("enable_dns_hostnames"))]
            .filter { changed?.contains($0.0) ?? true }
            .map { _, parameter, value in (parameter, value) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (parameter, value) in calls {
                group.addTask { _ = try await ec2.call("ModifyVpcAttribute", [("VpcId", id), ("\(parameter).Value", value ? "true" : "false")]) }
            }
            try await group.waitForAll()
        }
    }

    private func computed(_ id: String, ec2: EC2Support) async throws -> [String: Value] {
        async let groupsCall = ec2.call("DescribeSecurityGroups", EC2Support.filters([("vpc-id", [id]), ("group-name", ["default"])]))
        async let tablesCall = ec2.call("DescribeRouteTables", EC2Support.filters([("vpc-id", [id]), ("association.main", ["true"])]))
        let (groups, tables) = try await (groupsCall, tablesCall)
        return ["id": .string(id), "arn": ec2.arn("vpc/\(id)"),
                "default_security_group_id": .string(groups.child("securityGroupInfo")?.child("item")?.child("groupId")?.text ?? ""),
                "main_route_table_id": .string(tables.child("routeTableSet")?.child("item")?.child("routeTableId")?.text ?? "")]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        try await ec2.deleting(.vpc, id) { _ = try await ec2.call("DeleteVpc", [("VpcId", id)]) }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let ec2 = EC2Support(context)
        let (items, _) = try await ec2.describeTagged("DescribeVpcs", address: resource.address, items: EC2Support.set("vpcSet"))
        guard let id = items.first?.child("vpcId")?.text else { return nil }
        try await context.recordID(id)
        try await setDNS(resource, id: id, ec2: ec2, changed: nil)
        return try await computed(id, ec2: ec2)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let ec2 = EC2Support(context)
        var result = try await ec2.read(resources, action: "DescribeVpcs", idName: "vpcId", items: EC2Support.set("vpcSet"),
                                        convert: EC2Attributes.vpc)
        // the DNS settings are attributes of their own, one call each
        for (address, attributes) in result.live {
            guard let id = attributes["id"]?.stringValue else { continue }
            for (attribute, property) in [("enableDnsSupport", "enable_dns_support"), ("enableDnsHostnames", "enable_dns_hostnames")] {
                let answer = try await ec2.call("DescribeVpcAttribute", [("VpcId", id), ("Attribute", attribute)])
                result.apiCalls += 1
                result.live[address]?[property] = .bool(answer.child(attribute)?.child("value")?.text == "true")
            }
        }
        return result
    }
}
