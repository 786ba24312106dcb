import AWS
import Plan
import Stack

/// Brings a security group's rules to the desired set: read what is there, revoke what is not wanted,
/// authorize what is missing. Rules compare by meaning (their CIDR lists as sets).
struct SecurityGroupRules {
    let ec2: EC2Support

    /// AWS gives a new group one rule: all egress to anywhere.
    static let newGroupRules: [String: Value] = [
        "ingress": .list([]),
        "egress": .list([.map(["protocol": .string("-1"), "cidr_blocks": .list([.string("0.0.0.0/0")])])]),
    ]

    /// An in-place update of either kind of group: its rules, then its tags.
    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>) async throws -> String {
        let id = try recorded.requireID()
        if changed.contains("ingress") || changed.contains("egress") { try await sync(groupID: id, desired: resource) }
        if changed.contains("tags") { try await ec2.syncTags(id, from: recorded.attributes["tags"], to: resource.tags) }
        return id
    }

    /// `existing`: the group's rules when known (a group just created), saving a Describe.
    func sync(groupID: String, desired resource: DesiredResource, existing: [String: Value]? = nil) async throws {
        var rules = existing ?? [:]
        if existing == nil {
            let answer = try await ec2.call("DescribeSecurityGroups", [("GroupId.1", groupID)])
            guard let group = answer.child("securityGroupInfo")?.child("item") else { throw ProvisionError("security group \(groupID) not found") }
            rules["ingress"] = EC2Attributes.rules(group.child("ipPermissions"))
            rules["egress"] = EC2Attributes.rules(group.child("ipPermissionsEgress"))
        }
        for (property, direction, desired) in [("ingress", "Ingress", try resource.requireList("ingress")),
                                               ("egress", "Egress", try resource.requireList("egress"))] {
            let schema = resource.schema.attributes[property]
            let current = normalized(rules[property] ?? .list([]), schema)
            let wanted = normalized(.list(desired), schema)
            let revoke = current.filter { rule in !wanted.contains { $0.sortKey == rule.sortKey } }
            let authorize = wanted.filter { rule in !current.contains { $0.sortKey == rule.sortKey } }
            // a repeated call whose first answer was lost finds its work done: that is success
            if !revoke.isEmpty {
                try await tolerating("InvalidPermission.NotFound") {
                    _ = try await ec2.call("RevokeSecurityGroup\(direction)", [("GroupId", groupID)] + Self.permissions(revoke))
                }
            }
            if !authorize.isEmpty {
                try await tolerating("InvalidPermission.Duplicate") {
                    _ = try await ec2.call("AuthorizeSecurityGroup\(direction)", [("GroupId", groupID)] + Self.permissions(authorize))
                }
            }
        }
    }

    private func normalized(_ rules: Value, _ schema: AttributeSchema?) -> [Value] {
        AttributeComparison.normalize(rules, schema).listValue ?? []
    }

    /// Rules as `IpPermissions.N.*` parameters.
    static func permissions(_ rules: [Value]) -> [(String, String)] {
        var parameters: [(String, String)] = []
        for (position, rule) in rules.enumerated() {
            let fields = rule.mapValue ?? [:]
            let prefix = "IpPermissions.\(position + 1)"
            let proto = fields["protocol"]?.stringValue ?? "-1"
            parameters.append(("\(prefix).IpProtocol", proto))
            if proto != "-1" {
                if let from = fields["from_port"]?.intValue { parameters.append(("\(prefix).FromPort", String(from))) }
                if let to = fields["to_port"]?.intValue { parameters.append(("\(prefix).ToPort", String(to))) }
            }
            let description = fields["description"]?.stringValue
            for (key, list, field) in [("cidr_blocks", "IpRanges", "CidrIp"), ("ipv6_cidr_blocks", "Ipv6Ranges", "CidrIpv6"),
                                       ("prefix_list_ids", "PrefixListIds", "PrefixListId")] {
                for (index, value) in (fields[key]?.listValue ?? []).compactMap(\.stringValue).enumerated() {
                    parameters.append(("\(prefix).\(list).\(index + 1).\(field)", value))
                    if let description { parameters.append(("\(prefix).\(list).\(index + 1).Description", description)) }
                }
            }
            for (index, group) in (fields["security_group_ids"]?.listValue ?? []).compactMap(\.stringValue).enumerated() {
                parameters.append(("\(prefix).Groups.\(index + 1).GroupId", group))
            }
        }
        return parameters
    }
}
