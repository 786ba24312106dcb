import AWS
import Plan
import Stack

/// Reads the EC2 resources of a stack: one Describe call (and its pages) per type, filtered by the stack's tag.
/// Attributes a Describe answer does not carry (a VPC's DNS settings) are left out, and so never show as drift.
public struct EC2Reader: ResourceReader {
    let ec2: EC2

    public init(client: AWSClient) {
        ec2 = EC2(client: client)
    }

    public var types: [String] {
        ["aws.ec2.vpc", "aws.ec2.subnet", "aws.ec2.security_group", "aws.ec2.route_table", "aws.ec2.vpc_endpoint",
         "aws.ec2.instance"]
    }

    public func read(type: String, resources: [ResourceState], stack: StackIdentity) async throws -> ReadResult {
        let (action, setName, idName, convert) = Self.shape(type)
        let (items, calls) = try await ec2.describeTagged(action, tagKey: DeployTags.stack, tagValue: stack.name) { page in
            if type == "aws.ec2.instance" {
                return page.child("reservationSet")?.children("item").flatMap { $0.child("instancesSet")?.children("item") ?? [] } ?? []
            }
            return page.child(setName)?.children("item") ?? []
        }
        let byID = Dictionary(resources.compactMap { resource in resource.id.map { ($0, resource.address) } }) { first, _ in first }
        var live: [ResourceAddress: [String: Value]] = [:]
        for item in items {
            guard let id = item.child(idName)?.text, let address = byID[id] else { continue }
            guard let attributes = convert(item) else { continue }  // terminated, deleting: as good as gone
            live[address] = attributes.merging(["id": .string(id), "tags": EC2Attributes.tags(item)]) { own, _ in own }
        }
        return ReadResult(live: live, apiCalls: calls)
    }

    private typealias Converter = @Sendable (XMLNode) -> [String: Value]?

    /// The Describe action, result set, id element and attribute mapping of a type; the Refresher only asks for `types`.
    private static func shape(_ type: String) -> (String, String, String, Converter) {
        switch type {
        case "aws.ec2.vpc": return ("DescribeVpcs", "vpcSet", "vpcId", EC2Attributes.vpc)
        case "aws.ec2.subnet": return ("DescribeSubnets", "subnetSet", "subnetId", EC2Attributes.subnet)
        case "aws.ec2.security_group": return ("DescribeSecurityGroups", "securityGroupInfo", "groupId", EC2Attributes.securityGroup)
        case "aws.ec2.route_table": return ("DescribeRouteTables", "routeTableSet", "routeTableId", EC2Attributes.routeTable)
        case "aws.ec2.vpc_endpoint": return ("DescribeVpcEndpoints", "vpcEndpointSet", "vpcEndpointId", EC2Attributes.vpcEndpoint)
        case "aws.ec2.instance": return ("DescribeInstances", "reservationSet", "instanceId", EC2Attributes.instance)
        default: preconditionFailure("EC2Reader was asked for \(type), which is not one of its types")
        }
    }
}
