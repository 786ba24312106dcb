import AWS
import Plan
import Stack

/// `aws.ec2.route_table`: a route table with only the VPC's local route (and the gateway endpoints' routes).
struct RouteTableHandler: ResourceHandler {
    let type = "aws.ec2.route_table"
    let actions = HandlerActions(create: ["ec2:CreateRouteTable", "ec2:CreateTags"], read: ["ec2:DescribeRouteTables"],
                                 update: ["ec2:CreateTags", "ec2:DeleteTags"], delete: ["ec2:DeleteRouteTable"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let answer = try await ec2.call("CreateRouteTable", [("VpcId", try resource.require("vpc_id"))]
                                        + EC2Support.tagSpecification("route-table", resource.tags))
        guard let id = answer.child("routeTable")?.child("routeTableId")?.text else {
            throw ProvisionError("CreateRouteTable returned no routeTableId")
        }
        try await context.recordID(id)
        return ["id": .string(id), "arn": ec2.arn("route-table/\(id)")]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        if changed.contains("tags") { try await ec2.syncTags(id, from: recorded.attributes["tags"], to: resource.tags) }
        return ["id": .string(id), "arn": ec2.arn("route-table/\(id)")]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        try await ec2.deleting(.routeTable, id) { _ = try await ec2.call("DeleteRouteTable", [("RouteTableId", id)]) }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let ec2 = EC2Support(context)
        let (items, _) = try await ec2.describeTagged("DescribeRouteTables", address: resource.address,
                                                      items: EC2Support.set("routeTableSet"))
        guard let id = items.first?.child("routeTableId")?.text else { return nil }
        return ["id": .string(id), "arn": ec2.arn("route-table/\(id)")]
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        try await EC2Support(context).read(resources, action: "DescribeRouteTables", idName: "routeTableId",
                                           items: EC2Support.set("routeTableSet"), convert: EC2Attributes.routeTable)
    }
}
