import AWS
import Plan
import Stack

/// `aws.ec2.vpc_endpoint`: gateway (S3, DynamoDB) and interface endpoints, waited on until available.
struct VPCEndpointHandler: ResourceHandler {
    let type = "aws.ec2.vpc_endpoint"
    let actions = HandlerActions(create: ["ec2:CreateVpcEndpoint", "ec2:DescribeVpcEndpoints", "ec2:CreateTags"],
                                 read: ["ec2:DescribeVpcEndpoints"],
                                 update: ["ec2:ModifyVpcEndpoint", "ec2:CreateTags", "ec2:DeleteTags"],
                                 delete: ["ec2:DeleteVpcEndpoints", "ec2:DescribeVpcEndpoints"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        var parameters = [("VpcId", try resource.require("vpc_id")), ("ServiceName", try resource.require("service_name")),
                          ("VpcEndpointType", try resource.require("vpc_endpoint_type")), ("ClientToken", token)]
        parameters += EC2Support.list("RouteTableId", resource.strings("route_table_ids"))
        parameters += EC2Support.list("SubnetId", resource.strings("subnet_ids"))
        parameters += EC2Support.list("SecurityGroupId", resource.strings("security_group_ids"))
        if resource.string("vpc_endpoint_type") == "Interface" {
            parameters.append(("PrivateDnsEnabled", String(try resource.requireBool("private_dns_enabled"))))
        }
        if let policy = try resource.policyJSON("policy") { parameters.append(("PolicyDocument", policy)) }
        let answer = try await ec2.call("CreateVpcEndpoint", parameters + EC2Support.tagSpecification("vpc-endpoint", resource.tags))
        guard let id = answer.child("vpcEndpoint")?.child("vpcEndpointId")?.text else {
            throw ProvisionError("CreateVpcEndpoint returned no vpcEndpointId")
        }
        try await context.recordID(id)
        return try await available(id, ec2: ec2)
    }

    /// Waits for the endpoint to be available and returns its computed attributes.
    private func available(_ id: String, ec2: EC2Support) async throws -> [String: Value] {
        var names: [Value] = []
        try await waitUntil("VPC endpoint \(id) to be available") {
            let answer = try await ec2.call("DescribeVpcEndpoints", [("VpcEndpointId.1", id)])
            let endpoint = answer.child("vpcEndpointSet")?.child("item")
            names = endpoint?.child("dnsEntrySet")?.children("item").compactMap { $0.child("dnsName").map { .string($0.text) } } ?? []
            let state = endpoint?.child("state")?.text.lowercased()
            if state == "failed" || state == "rejected" { throw ProvisionError("VPC endpoint \(id) is \(state ?? "")") }
            return state == "available"
        }
        return ["id": .string(id), "arn": ec2.arn("vpc-endpoint/\(id)"), "dns_names": .list(names)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        var parameters: [(String, String)] = [("VpcEndpointId", id)]
        for (property, name, desired) in [("route_table_ids", "RouteTableId", resource.strings("route_table_ids")),
                                          ("subnet_ids", "SubnetId", resource.strings("subnet_ids")),
                                          ("security_group_ids", "SecurityGroupId", resource.strings("security_group_ids"))]
        where changed.contains(property) {
            let before = Set(recorded.attributes[property]?.listValue?.compactMap(\.stringValue) ?? [])
            let after = Set(desired)
            parameters += EC2Support.list("Add\(name)", after.subtracting(before).sorted())
            parameters += EC2Support.list("Remove\(name)", before.subtracting(after).sorted())
        }
        if changed.contains("private_dns_enabled") {
            parameters.append(("PrivateDnsEnabled", String(try resource.requireBool("private_dns_enabled"))))
        }
        if changed.contains("policy") {
            if let policy = try resource.policyJSON("policy") { parameters.append(("PolicyDocument", policy)) } else { parameters.append(("ResetPolicy", "true")) }
        }
        if parameters.count > 1 { _ = try await ec2.call("ModifyVpcEndpoint", parameters) }
        if changed.contains("tags") { try await ec2.syncTags(id, from: recorded.attributes["tags"], to: resource.tags) }
        return try await available(id, ec2: ec2)
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        try await ec2.deleting(.vpcEndpoint, id) { _ = try await ec2.call("DeleteVpcEndpoints", [("VpcEndpointId.1", id)]) }
        try await waitUntil("VPC endpoint \(id) to be deleted") {
            do {
                let answer = try await ec2.call("DescribeVpcEndpoints", [("VpcEndpointId.1", id)])
                let state = answer.child("vpcEndpointSet")?.child("item")?.child("state")?.text.lowercased()
                return state == nil || state == "deleted"
            } catch let error as AWSError where error.isNotFound {
                return true
            }
        }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let ec2 = EC2Support(context)
        let (items, _) = try await ec2.describeTagged("DescribeVpcEndpoints", address: resource.address,
                                                      items: EC2Support.set("vpcEndpointSet"))
        guard let item = items.first(where: { !["deleted", "deleting"].contains($0.child("state")?.text.lowercased() ?? "") }),
              let id = item.child("vpcEndpointId")?.text else { return nil }
        return try await available(id, ec2: ec2)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        try await EC2Support(context).read(resources, action: "DescribeVpcEndpoints", idName: "vpcEndpointId",
                                           items: EC2Support.set("vpcEndpointSet"), convert: EC2Attributes.vpcEndpoint)
    }
}
