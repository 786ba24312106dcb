import AWS
import Plan
import Stack

/// `aws.ec2.default_network_acl`: the network ACL AWS makes with every VPC (and gives every subnet not associated
/// with another), adopted and given exactly the declared entries in place of AWS's allow-all. It goes away with its
/// VPC, so delete only forgets it.
struct DefaultNetworkACLHandler: ResourceHandler {
    let type = "aws.ec2.default_network_acl"
    let actions = HandlerActions(
        create: ["ec2:DescribeNetworkAcls", "ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry", "ec2:CreateTags"],
        read: ["ec2:DescribeNetworkAcls"],
        update: ["ec2:DescribeNetworkAcls", "ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry", "ec2:CreateTags", "ec2:DeleteTags"],
        delete: [])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let vpc = try resource.require("vpc_id")
        let answer = try await ec2.call("DescribeNetworkAcls", EC2Support.filters([("vpc-id", [vpc]), ("default", ["true"])]))
        guard let acl = answer.child("networkAclSet")?.child("item"), let id = acl.child("networkAclId")?.text else {
            throw ProvisionError("VPC \(vpc) has no default network ACL")
        }
        try await context.recordID(id)
        try await sync(id, acl: acl, desired: resource, ec2: ec2)
        try await ec2.syncTags(id, from: nil, to: resource.tags)
        return ["id": .string(id)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        if changed.contains("ingress") || changed.contains("egress") {
            let answer = try await ec2.call("DescribeNetworkAcls", [("NetworkAclId.1", id)])
            guard let acl = answer.child("networkAclSet")?.child("item") else { throw ProvisionError("network ACL \(id) not found") }
            try await sync(id, acl: acl, desired: resource, ec2: ec2)
        }
        if changed.contains("tags") { try await ec2.syncTags(id, from: recorded.attributes["tags"], to: resource.tags) }
        return ["id": .string(id)]
    }

    /// Brings the ACL's entries to the desired ones. Entries at free rule numbers go in before any is removed, so a
    /// change never closes what both the old and new entries allow.
    private func sync(_ id: String, acl: XMLNode, desired resource: DesiredResource, ec2: EC2Support) async throws {
        let current = (acl.child("entrySet")?.children("item") ?? []).compactMap(NetworkACLEntry.parse)
        for (egress, desired) in [(false, try resource.requireList("ingress")), (true, try resource.requireList("egress"))] {
            let have = Set(current.filter { $0.egress == egress }.map(\.entry))
            let want = Set(desired.flatMap(NetworkACLEntry.expand))
            let remove = have.subtracting(want)
            let add = want.subtracting(have)
            let taken = Set(have.map(\.ruleNumber))
            for entry in add.sorted(by: { $0.ruleNumber < $1.ruleNumber }) where !taken.contains(entry.ruleNumber) {
                try await tolerating("NetworkAclEntryAlreadyExists") {
                    _ = try await ec2.call("CreateNetworkAclEntry", entry.parameters(acl: id, egress: egress))
                }
            }
            for entry in remove.sorted(by: { $0.ruleNumber < $1.ruleNumber }) {
                try await tolerating("InvalidNetworkAclEntry.NotFound") {
                    _ = try await ec2.call("DeleteNetworkAclEntry", [("NetworkAclId", id), ("RuleNumber", String(entry.ruleNumber)),
                                                                     ("Egress", String(egress))])
                }
            }
            for entry in add.sorted(by: { $0.ruleNumber < $1.ruleNumber }) where taken.contains(entry.ruleNumber) {
                try await tolerating("NetworkAclEntryAlreadyExists") {
                    _ = try await ec2.call("CreateNetworkAclEntry", entry.parameters(acl: id, egress: egress))
                }
            }
        }
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {}

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        try await create(resource, token: token, context: context)
    }

    /// The entries as EC2 holds them; where they are exactly what the state records, in the recorded form (one
    /// entry per CIDR list), so that no drift shows.
    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        var result = try await EC2Support(context).read(resources, action: "DescribeNetworkAcls", idName: "networkAclId",
                                                        items: EC2Support.set("networkAclSet")) { item in
            let entries = (item.child("entrySet")?.children("item") ?? []).compactMap(NetworkACLEntry.parse)
                .sorted { $0.entry.ruleNumber < $1.entry.ruleNumber }
            return ["vpc_id": item.child("vpcId").map { .string($0.text) } ?? .null,
                    "ingress": .list(entries.filter { !$0.egress }.map(\.entry.value)),
                    "egress": .list(entries.filter(\.egress).map(\.entry.value))]
        }
        for resource in resources {
            guard var live = result.live[resource.address] else { continue }
            for property in ["ingress", "egress"] {
                let recorded = resource.attributes[property]
                if NetworkACLEntry.expand(recorded) == NetworkACLEntry.expand(live[property]) { live[property] = recorded ?? .list([]) }
            }
            result.live[resource.address] = live
        }
        return result
    }
}
