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
                let allowed = ["protocol", "from_port", "to_port", "cidr_blocks", "security_group_ids", "prefix_list_ids", "description"]
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
                guard case .list(let blocks) = fields["cidr_blocks"] else { continue }
                for case .string(let text) in blocks {
                    do { _ = try CIDR(text) } catch { throw located(resource, direction, error.message) }
                }
            }
        }
    }

    private static func located(_ resource: DesiredResource, _ property: String, _ message: String) -> StackError {
        StackError("\(resource.address): \(message)", at: resource.propertyLocations[property] ?? resource.location)
    }
}
