import Foundation
import TextSafety

/// Checks across resources that only make sense once values are known: subnets inside their VPC and not
/// overlapping each other, and rule CIDRs that parse.
enum NetworkValidation {
    static func check(_ resources: [DesiredResource]) throws(StackError) {
        var vpcs: [ResourceAddress: CIDR] = [:]
        var subnets: [(resource: DesiredResource, cidr: CIDR)] = []
        for resource in resources {
            switch resource.type {
            case "aws.ec2.vpc":
                if let text = resource.properties["cidr_block"]?.stringValue, let cidr = try? CIDR(text) {
                    vpcs[resource.address] = cidr
                    if cidr.prefixLength < 16 || cidr.prefixLength > 28 {
                        throw located(resource, "cidr_block", "a VPC block must be between /16 and /28, not /\(cidr.prefixLength)")
                    }
                }
            case "aws.ec2.subnet":
                if let text = resource.properties["cidr_block"]?.stringValue, let cidr = try? CIDR(text) {
                    subnets.append((resource, cidr))
                }
            case "aws.ec2.security_group", "aws.ec2.default_security_group":
                try checkRules(resource)
            case "aws.ec2.default_network_acl":
                try checkACLEntries(resource)
            default:
                break
            }
        }
        for (position, subnet) in subnets.enumerated() {
            // the subnet's VPC is the one it depends on
            if let vpc = subnet.resource.dependencies.lazy.compactMap({ vpcs[$0] }).first, !vpc.contains(subnet.cidr) {
                throw located(subnet.resource, "cidr_block", "\(subnet.cidr) is not inside the VPC's \(vpc)")
            }
            for other in subnets[..<position] where other.cidr.overlaps(subnet.cidr)
                && other.resource.properties["vpc_id"] == subnet.resource.properties["vpc_id"] {
                throw located(subnet.resource, "cidr_block", "\(subnet.cidr) overlaps \(other.resource.address)'s \(other.cidr)")
            }
        }
    }

    private static func checkRules(_ resource: DesiredResource) throws(StackError) {
        for direction in ["ingress", "egress"] {
            guard case .list(let rules) = resource.properties[direction] else { continue }
            for rule in rules {
                guard case .map(let fields) = rule else { continue }
                let allowed = ["protocol", "from_port", "to_port", "cidr_blocks", "ipv6_cidr_blocks", "security_group_ids", "prefix_list_ids",
                               "description"]
                for key in fields.keys.sorted() where !allowed.contains(key) {
                    throw located(resource, direction, Suggestion.message("unknown key '\(SafeText.quoted(key))' in a rule", for: key, among: allowed))
                }
                for port in ["from_port", "to_port"] {
                    if let value = fields[port], value != .unknown {
                        guard let number = value.intValue, (-1...65535).contains(number) else {
                            throw located(resource, direction, "\(port) must be a port number from 0 to 65535 (or -1 for all), not \(value)")
                        }
                    }
                }
                if case .list(let blocks) = fields["ipv6_cidr_blocks"] {
                    for case .string(let text) in blocks where !Self.isIPv6CIDR(text) {
                        throw located(resource, direction, "'\(SafeText.quoted(text))' is not an IPv6 CIDR block such as 2001:db8::/32")
                    }
                }
                guard case .list(let blocks) = fields["cidr_blocks"] else { continue }
                for case .string(let text) in blocks {
                    do { _ = try CIDR(text) } catch { throw located(resource, direction, error.message) }
                }
            }
        }
    }

    /// An IPv6 address (as inet_pton reads it) and a prefix length from 0 to 128.
    static func isIPv6CIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), (0...128).contains(length) else { return false }
        var address = in6_addr()
        return inet_pton(AF_INET6, String(parts[0]), &address) == 1
    }

    /// Network ACL entries: known keys, an allow or deny, a protocol, ports for TCP and UDP, CIDRs that parse, and
    /// rule numbers (one per CIDR, counting up) from 1 to 32766 that no two entries share.
    private static func checkACLEntries(_ resource: DesiredResource) throws(StackError) {
        let allowed = ["rule_number", "protocol", "action", "cidr_blocks", "from_port", "to_port"]
        for direction in ["ingress", "egress"] {
            guard case .list(let entries) = resource.properties[direction] else { continue }
            var taken: [Int: Int] = [:]
            for (position, entry) in entries.enumerated() {
                guard case .map(let fields) = entry else { continue }
                for key in fields.keys.sorted() where !allowed.contains(key) {
                    throw located(resource, direction, Suggestion.message("unknown key '\(SafeText.quoted(key))' in an entry", for: key, among: allowed))
                }
                if let action = fields["action"], action != .unknown, !["allow", "deny"].contains(action.stringValue ?? "") {
                    throw located(resource, direction, "action must be allow or deny, not \(action)")
                }
                let protocolName = fields["protocol"]?.stringValue ?? fields["protocol"]?.intValue.map(String.init)
                guard let protocolName, ["tcp", "udp", "icmp", "all", "-1"].contains(protocolName.lowercased()) || Int(protocolName) != nil else {
                    if fields["protocol"] == .unknown { continue }
                    throw located(resource, direction, "protocol must be tcp, udp, icmp, all or a protocol number")
                }
                if ["tcp", "udp", "6", "17"].contains(protocolName.lowercased()) {
                    for port in ["from_port", "to_port"] where fields[port] != .unknown {
                        guard let number = fields[port]?.intValue, (0...65535).contains(number) else {
                            throw located(resource, direction, "a \(protocolName) entry needs \(port), a port number from 0 to 65535")
                        }
                    }
                }
                guard let first = fields["rule_number"]?.intValue else {
                    if fields["rule_number"] == .unknown { continue }
                    throw located(resource, direction, "every entry needs a rule_number from 1 to 32766")
                }
                guard case .list(let blocks) = fields["cidr_blocks"] else { continue }
                for case .string(let text) in blocks {
                    do { _ = try CIDR(text) } catch { throw located(resource, direction, error.message) }
                }
                let last = first + max(blocks.count, 1) - 1
                guard first >= 1, last <= 32766 else {
                    throw located(resource, direction, "rule numbers \(first)...\(last) are outside 1 to 32766 (one number per CIDR)")
                }
                for number in first...last {
                    if let other = taken[number] {
                        throw located(resource, direction, "entries \(other + 1) and \(position + 1) both take rule number \(number) (one number per CIDR)")
                    }
                    taken[number] = position
                }
            }
        }
    }

    private static func located(_ resource: DesiredResource, _ property: String, _ message: String) -> StackError {
        StackError("\(resource.address): \(message)", at: resource.propertyLocations[property] ?? resource.location)
    }
}
