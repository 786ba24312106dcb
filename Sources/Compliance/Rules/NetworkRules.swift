import Stack

enum NetworkRules {
    /// One ingress rule of a security group, as the stacks write it.
    struct Ingress {
        var protocolName: String
        var from: Int
        var to: Int
        var cidrs: [String]

        init(_ value: Value) {
            let fields = value.mapValue ?? [:]
            protocolName = fields["protocol"]?.stringValue ?? String(fields["protocol"]?.intValue ?? -1)
            from = fields["from_port"]?.intValue ?? 0
            to = fields["to_port"]?.intValue ?? 65535
            cidrs = PolicyStatements.strings(fields["cidr_blocks"]) + PolicyStatements.strings(fields["ipv6_cidr_blocks"])
        }

        var allTraffic: Bool { ["-1", "all"].contains(protocolName) }

        func covers(_ port: Int) -> Bool { allTraffic || (from...max(from, to)).contains(port) }
    }

    static func ingress(_ group: Subject) -> [Ingress] { group.list("ingress").map(Ingress.init) }

    /// One network ACL entry per CIDR, numbered as the templates write them (counting up from `rule_number`).
    struct ACLEntry {
        var number: Int
        var rule: Ingress
        var allows: Bool

        static func entries(_ acl: Subject, _ direction: String) -> [ACLEntry] {
            acl.list(direction).flatMap { value -> [ACLEntry] in
                let fields = value.mapValue ?? [:]
                let rule = Ingress(value)
                let first = fields["rule_number"]?.intValue ?? 0
                return rule.cidrs.enumerated().map { index, cidr in
                    var single = rule
                    single.cidrs = [cidr]
                    return ACLEntry(number: first + index, rule: single, allows: fields["action"]?.stringValue != "deny")
                }
            }.sorted { $0.number < $1.number }
        }

        func carriesTCP(_ port: Int) -> Bool {
            rule.allTraffic || (["tcp", "6"].contains(rule.protocolName.lowercased()) && rule.covers(port))
        }
    }

    static let all: [Rule] = [
        rule("vpc-flow-logs", "Every VPC has flow logs", .medium, types: ["aws.ec2.vpc"],
             Mappings(cis: ["3.7"], fsbp: ["EC2.6"], prowler: ["vpc_flow_logs_enabled"]),
             rationale: "Every connection to and from the node is on record.",
             remediation: "Add an aws.ec2.flow_log for the VPC.", reads: ["id"]) { vpc, inventory in
            let logged = inventory.subjects(of: "aws.ec2.flow_log").contains { log in
                log.dependencies.contains(vpc.address) || (vpc.string("id") != nil && log.string("resource_id") == vpc.string("id"))
            }
            return logged ? nil : "no flow log records this VPC"
        },
        rule("vpc-default-security-group-closed", "The default security group allows no traffic", .high,
             types: ["aws.ec2.default_security_group"],
             Mappings(cis: ["5.5"], fsbp: ["EC2.2"], prowler: ["ec2_securitygroup_default_restrict_traffic"]),
             rationale: "Anything launched without a group of its own gets no network access by accident.",
             remediation: "Leave ingress and egress of the default group empty.", reads: ["ingress", "egress"]) { group, _ in
            group.list("ingress").isEmpty && group.list("egress").isEmpty ? nil : "the default security group has rules"
        },
        rule("sg-no-admin-ports-from-anywhere", "No security group admits the internet to SSH, RDP or every port", .critical,
             types: ["aws.ec2.security_group", "aws.ec2.default_security_group"],
             Mappings(cis: ["5.3", "5.4"], fsbp: ["EC2.13", "EC2.53", "EC2.54"],
                      prowler: ["ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22",
                                "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389",
                                "ec2_securitygroup_allow_ingress_from_internet_to_all_ports"]),
             rationale: "Administration ports open to the world are the first thing scanners find.",
             remediation: "Remove ingress from 0.0.0.0/0 and ::/0 to ports 22 and 3389 and to all traffic.", reads: ["ingress"]) { group, _ in
            let open = ingress(group).filter { !anywhere.isDisjoint(with: $0.cidrs) && ($0.allTraffic || $0.covers(22) || $0.covers(3389)) }
            return open.isEmpty ? nil : "ingress from anywhere to " + open.map { $0.allTraffic ? "all traffic" : "ports \($0.from)-\($0.to)" }.joined(separator: ", ")
        },
        rule("sg-inference-port-allowed-cidrs", "The inference port is open only to the stack's allowed networks", .high,
             types: ["aws.ec2.security_group"], Mappings(),
             rationale: "Only the corporate networks the customer named can reach the model.",
             remediation: "List only the network phase's allowed_cidrs on ingress to the inference port.", reads: ["ingress"]) { group, inventory in
            guard let port = inventory.inferencePort else { return nil }
            let extra = ingress(group).filter { $0.covers(port) }.flatMap(\.cidrs).filter { !inventory.allowedCIDRs.contains($0) }
            return extra.isEmpty ? nil : "port \(port) is also open to \(extra.joined(separator: ", "))"
        }.onlyFor { group, inventory in
            // the node's groups: the endpoints' group may serve 443 to the VPC when the inference port is 443 too
            inventory.subjects(of: "aws.ec2.instance").contains { node in
                if let id = group.string("id"), node.list("security_group_ids").contains(.string(id)) { return true }
                return node.dependencies.contains(group.address)
            }
        },
        rule("nacl-no-admin-ports-from-anywhere", "No network ACL admits the internet to SSH or RDP", .high,
             types: ["aws.ec2.default_network_acl"],
             Mappings(cis: ["5.2"], fsbp: ["EC2.21"],
                      prowler: ["ec2_networkacl_allow_ingress_tcp_port_22", "ec2_networkacl_allow_ingress_tcp_port_3389",
                                "ec2_networkacl_allow_ingress_any_port"]),
             rationale: "The subnet itself turns scanners away, whatever a security group lets through by mistake.",
             remediation: "Allow ingress from 0.0.0.0/0 and ::/0 only to ports other than 22 and 3389, or deny those first.",
             reads: ["ingress"]) { acl, _ in
            // the lowest-numbered entry that matches decides, as in EC2
            let open = [22, 3389].filter { port in
                ACLEntry.entries(acl, "ingress").first { !anywhere.isDisjoint(with: $0.rule.cidrs) && $0.carriesTCP(port) }?.allows == true
            }
            return open.isEmpty ? nil : "ingress from anywhere reaches port " + open.map(String.init).joined(separator: " and ")
        },
        rule("route-table-no-internet-route", "Private route tables have no route to an internet or NAT gateway", .high,
             types: ["aws.ec2.route_table"], Mappings(),
             rationale: "The node reaches AWS through the VPC's endpoints only: no path to the internet exists, either way.",
             remediation: "Delete routes to igw-, eigw- and nat- targets from the private route table.", reads: ["routes"]) { table, _ in
            let out = table.list("routes").compactMap { $0.mapValue?["target"]?.stringValue }
                .filter { ["igw-", "eigw-", "nat-"].contains(where: $0.hasPrefix) }
            return out.isEmpty ? nil : "routes to \(out.joined(separator: ", "))"
        },
        rule("subnet-no-public-ip", "Subnets do not give instances public addresses", .medium, types: ["aws.ec2.subnet"],
             Mappings(fsbp: ["EC2.15"], prowler: ["vpc_subnet_no_public_ip_by_default"]),
             rationale: "Nothing launched in the private network becomes reachable from the internet by default.",
             remediation: "Set map_public_ip_on_launch to false.", reads: ["map_public_ip_on_launch"]) { subnet, _ in
            isTrue(subnet["map_public_ip_on_launch"]) ? "instances launched here get a public address" : nil
        },
        rule("vpc-interface-endpoints", "The VPC reaches the services the node uses through interface endpoints", .medium,
             types: ["aws.ec2.vpc"], Mappings(),
             rationale: "KMS, STS and CloudWatch Logs are reached without an internet path.",
             remediation: "Declare an Interface endpoint for each service in the network phase's interface_endpoints.",
             reads: ["id"]) { vpc, inventory in
            let present = inventory.subjects(of: "aws.ec2.vpc_endpoint").filter { $0.string("vpc_endpoint_type") == "Interface" }
                .compactMap { $0.string("service_name")?.split(separator: ".").last.map(String.init) }
            let missing = inventory.requiredEndpoints.filter { !present.contains($0) }
            return missing.isEmpty ? nil : "no interface endpoint for \(missing.joined(separator: ", "))"
        },
        rule("vpc-s3-gateway-endpoint", "The VPC reaches S3 through a gateway endpoint", .medium, types: ["aws.ec2.vpc"], Mappings(),
             rationale: "The node fetches its model from S3 with no internet route.",
             remediation: "Declare a Gateway endpoint for S3 on the private route tables.", reads: ["id"]) { _, inventory in
            inventory.subjects(of: "aws.ec2.vpc_endpoint").contains {
                $0.string("vpc_endpoint_type") == "Gateway" && $0.string("service_name")?.hasSuffix(".s3") == true
            } ? nil : "no S3 gateway endpoint"
        },
    ]
}
