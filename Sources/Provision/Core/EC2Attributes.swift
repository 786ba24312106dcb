import AWS
import Stack

/// Turns EC2 Describe items into the attribute names the resource schemas use.
enum EC2Attributes {
    static func text(_ item: XMLNode, _ name: String) -> Value? { item.child(name).map { .string($0.text) } }

    static func bool(_ item: XMLNode, _ name: String) -> Value? { item.child(name).map { .bool($0.text == "true") } }

    static func int(_ item: XMLNode, _ name: String) -> Value? { item.child(name).flatMap { Int($0.text) }.map(Value.int) }

    /// The texts of `set/item/field`.
    static func list(_ item: XMLNode, _ set: String, _ field: String? = nil) -> Value {
        .list((item.child(set)?.children("item") ?? []).map { entry in
            .string(field.flatMap { entry.child($0)?.text } ?? entry.text)
        })
    }

    static func tags(_ item: XMLNode) -> Value {
        var tags: [String: Value] = [:]
        for tag in item.child("tagSet")?.children("item") ?? [] {
            if let key = tag.child("key")?.text { tags[key] = .string(tag.child("value")?.text ?? "") }
        }
        return .map(tags)
    }

    static func compact(_ values: [String: Value?]) -> [String: Value] { values.compactMapValues { $0 } }

    static let vpc: @Sendable (XMLNode) -> [String: Value]? = { item in
        compact(["cidr_block": text(item, "cidrBlock"), "instance_tenancy": text(item, "instanceTenancy")])
    }

    static let subnet: @Sendable (XMLNode) -> [String: Value]? = { item in
        compact(["vpc_id": text(item, "vpcId"), "cidr_block": text(item, "cidrBlock"),
                 "availability_zone": text(item, "availabilityZone"), "map_public_ip_on_launch": bool(item, "mapPublicIpOnLaunch"),
                 "arn": text(item, "subnetArn")])
    }

    static let securityGroup: @Sendable (XMLNode) -> [String: Value]? = { item in
        compact(["vpc_id": text(item, "vpcId"), "name": text(item, "groupName"), "description": text(item, "groupDescription"),
                 "ingress": rules(item.child("ipPermissions")), "egress": rules(item.child("ipPermissionsEgress"))])
    }

    /// A route table with its routes other than the VPC's local one, each `{destination, target}` (the target an
    /// internet, NAT, transit or endpoint gateway's id, a peering, an instance or an interface).
    static let routeTable: @Sendable (XMLNode) -> [String: Value]? = { item in
        let targets = ["gatewayId", "natGatewayId", "transitGatewayId", "vpcPeeringConnectionId", "instanceId", "networkInterfaceId",
                       "egressOnlyInternetGatewayId", "carrierGatewayId", "localGatewayId"]
        let routes: [Value] = (item.child("routeSet")?.children("item") ?? []).compactMap { route in
            let target = targets.lazy.compactMap { route.child($0)?.text }.first ?? ""
            guard target != "local" else { return nil }
            let destination = route.child("destinationCidrBlock")?.text ?? route.child("destinationIpv6CidrBlock")?.text
                ?? route.child("destinationPrefixListId")?.text ?? ""
            return .map(["destination": .string(destination), "target": .string(target)])
        }
        return compact(["vpc_id": text(item, "vpcId"), "routes": .list(routes)])
    }

    static let vpcEndpoint: @Sendable (XMLNode) -> [String: Value]? = { item in
        if let state = item.child("state")?.text.lowercased(), state == "deleted" || state == "deleting" { return nil }
        let type = item.child("vpcEndpointType")?.text
        var attributes = compact(["vpc_id": text(item, "vpcId"), "service_name": text(item, "serviceName"),
                                  "vpc_endpoint_type": text(item, "vpcEndpointType"),
                                  "route_table_ids": list(item, "routeTableIdSet"), "subnet_ids": list(item, "subnetIdSet"),
                                  "security_group_ids": list(item, "groupSet", "groupId")])
        // private DNS only exists for interface endpoints: a gateway endpoint has none
        attributes["private_dns_enabled"] = type == "Interface" ? bool(item, "privateDnsEnabled") ?? .bool(false) : .bool(false)
        // with no policy given, AWS attaches its full-access default: that is "no policy", not drift
        if let policy = item.child("policyDocument")?.text {
            attributes["policy"] = isDefaultEndpointPolicy(policy) ? .null : .string(policy)
        }
        return attributes
    }

    static let instance: @Sendable (XMLNode) -> [String: Value]? = { item in
        let state = item.child("instanceState")?.child("name")?.text
        if state == "terminated" || state == "shutting-down" { return nil }
        let profile = item.child("iamInstanceProfile")?.child("arn")?.text.split(separator: "/").last.map { Value.string(String($0)) }
        let metadata = item.child("metadataOptions")
        // the groups are the primary interface's, where the create puts them (moto lists no instance groups then)
        let primary = item.child("networkInterfaceSet")?.children("item").first { $0.child("attachment")?.child("deviceIndex")?.text == "0" }
        return compact(["ami": text(item, "imageId"), "instance_type": text(item, "instanceType"),
                        "subnet_id": text(item, "subnetId"), "security_group_ids": list(primary ?? item, "groupSet", "groupId"),
                        "iam_instance_profile": profile ?? .null, "private_ip": text(item, "privateIpAddress"),
                        "public_ip": text(item, "ipAddress") ?? .null,
                        "associate_public_ip_address": .bool(item.child("ipAddress").map { !$0.text.isEmpty } ?? false),
                        "metadata_http_tokens": metadata.flatMap { text($0, "httpTokens") },
                        "metadata_hop_limit": metadata.flatMap { int($0, "httpPutResponseHopLimit") },
                        "monitoring": item.child("monitoring")?.child("state").map { .bool($0.text == "enabled") }])
    }

    static func isDefaultEndpointPolicy(_ text: String) -> Bool {
        let normalized = PolicyDocument.normalize(.string(text))
        guard case .map(let document) = normalized, case .list(let statements)? = document["Statement"], statements.count == 1,
              case .map(let statement) = statements[0] else { return false }
        return statement["Effect"] == .string("Allow") && statement["Action"] == .string("*") && statement["Resource"] == .string("*")
            && (statement["Principal"] == .string("*") || statement["Principal"] == .map(["AWS": .string("*")]))
            && statement["Condition"] == nil
    }

    /// Security group permissions as the templates write rules: one rule per permission, its CIDRs as a list.
    static func rules(_ permissions: XMLNode?) -> Value? {
        guard let permissions else { return nil }
        return .list(permissions.children("item").map { permission in
            let ranges = permission.child("ipRanges")?.children("item") ?? []
            var rule: [String: Value] = [
                "protocol": .string(permission.child("ipProtocol")?.text ?? "-1"),
                "cidr_blocks": .list(ranges.compactMap { $0.child("cidrIp").map { .string($0.text) } }),
            ]
            rule["from_port"] = int(permission, "fromPort")
            rule["to_port"] = int(permission, "toPort")
            // IPv6 ranges and prefix lists too: a rule opened to ::/0 is as open as one to 0.0.0.0/0
            let ipv6 = permission.child("ipv6Ranges")?.children("item") ?? []
            let prefixLists = permission.child("prefixListIds")?.children("item") ?? []
            for (key, values) in [("security_group_ids", permission.child("groups")?.children("item").compactMap { $0.child("groupId")?.text } ?? []),
                                  ("ipv6_cidr_blocks", ipv6.compactMap { $0.child("cidrIpv6")?.text }),
                                  ("prefix_list_ids", prefixLists.compactMap { $0.child("prefixListId")?.text })] where !values.isEmpty {
                rule[key] = .list(values.map(Value.string))
            }
            let descriptions = Set((ranges + ipv6 + prefixLists).compactMap { $0.child("description")?.text })
            if descriptions.count == 1, let description = descriptions.first { rule["description"] = .string(description) }
            return .map(rule)
        })
    }
}
