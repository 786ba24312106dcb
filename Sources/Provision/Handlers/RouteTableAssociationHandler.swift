import AWS
import Plan
import Stack

/// `aws.ec2.route_table_association`: a subnet's route table. Not taggable, so found through its subnet.
struct RouteTableAssociationHandler: ResourceHandler {
    let type = "aws.ec2.route_table_association"
    let actions = HandlerActions(create: ["ec2:AssociateRouteTable"], read: ["ec2:DescribeRouteTables"],
                                 update: ["ec2:ReplaceRouteTableAssociation"], delete: ["ec2:DisassociateRouteTable"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let answer = try await EC2Support(context).call("AssociateRouteTable", [("RouteTableId", try resource.require("route_table_id")),
                                                                                ("SubnetId", try resource.require("subnet_id"))])
        guard let id = answer.child("associationId")?.text else { throw ProvisionError("AssociateRouteTable returned no associationId") }
        try await context.recordID(id)
        return ["id": .string(id)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let id = try recorded.requireID()
        let answer = try await EC2Support(context).call("ReplaceRouteTableAssociation", [("AssociationId", id),
                                                                                         ("RouteTableId", try resource.require("route_table_id"))])
        let replaced = answer.child("newAssociationId")?.text ?? id
        try await context.recordID(replaced)
        return ["id": .string(replaced)]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        try await ec2.deleting(.routeTableAssociation, id) { _ = try await ec2.call("DisassociateRouteTable", [("AssociationId", id)]) }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let subnet = try resource.require("subnet_id")
        let tables = try await EC2Support(context).call("DescribeRouteTables", EC2Support.filters([("association.subnet-id", [subnet])]))
        for table in tables.child("routeTableSet")?.children("item") ?? [] {
            for association in table.child("associationSet")?.children("item") ?? [] where association.child("subnetId")?.text == subnet {
                if let id = association.child("routeTableAssociationId")?.text { return ["id": .string(id)] }
            }
        }
        return nil
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let (tables, calls) = try await EC2Support(context).describeTagged("DescribeRouteTables", items: EC2Support.set("routeTableSet"))
        var found: [String: [String: Value]] = [:]
        for table in tables {
            for association in table.child("associationSet")?.children("item") ?? [] {
                guard let id = association.child("routeTableAssociationId")?.text, let subnet = association.child("subnetId")?.text else { continue }
                found[id] = ["id": .string(id), "subnet_id": .string(subnet), "route_table_id": .string(table.child("routeTableId")?.text ?? "")]
            }
        }
        var live: [ResourceAddress: [String: Value]] = [:]
        for resource in resources { if let id = resource.id, let attributes = found[id] { live[resource.address] = attributes } }
        return ReadResult(live: live, apiCalls: calls)
    }
}
