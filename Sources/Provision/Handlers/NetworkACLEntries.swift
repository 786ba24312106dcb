import AWS
import Stack

/// Network ACL entries as the templates write them (`{rule_number, protocol, action, cidr_blocks, from_port,
/// to_port}`, one rule number per CIDR counting up from `rule_number`) and as EC2 holds them (one CIDR each).
struct NetworkACLEntry: Hashable, Sendable {
    var ruleNumber: Int
    var protocolNumber: String
    var action: String
    var cidr: String
    var fromPort: Int?
    var toPort: Int?

    /// The protocol numbers EC2 answers with, by the names templates use.
    static let protocolNumbers = ["tcp": "6", "udp": "17", "icmp": "1", "all": "-1", "-1": "-1"]
    private static let protocolNames = ["6": "tcp", "17": "udp", "1": "icmp", "-1": "-1"]

    /// The entries one template entry stands for.
    static func expand(_ value: Value) -> [NetworkACLEntry] {
        let fields = value.mapValue ?? [:]
        let name = fields["protocol"]?.stringValue ?? fields["protocol"]?.intValue.map(String.init) ?? "-1"
        let number = protocolNumbers[name.lowercased()] ?? name
        let ports = number == "-1" ? (nil, nil) : (fields["from_port"]?.intValue, fields["to_port"]?.intValue)
        let first = fields["rule_number"]?.intValue ?? 0
        let cidrs = fields["cidr_blocks"]?.listValue?.compactMap(\.stringValue) ?? []
        return cidrs.enumerated().map { index, cidr in
            NetworkACLEntry(ruleNumber: first + index, protocolNumber: number, action: fields["action"]?.stringValue ?? "allow",
                            cidr: cidr, fromPort: ports.0, toPort: ports.1)
        }
    }

    static func expand(_ list: Value?) -> Set<NetworkACLEntry> { Set((list?.listValue ?? []).flatMap(expand)) }

    /// One `entrySet` item of DescribeNetworkAcls, with whether it is an egress entry; nil for the catch-all deny
    /// (rule 32767), which no one can change.
    static func parse(_ item: XMLNode) -> (entry: NetworkACLEntry, egress: Bool)? {
        guard let number = item.child("ruleNumber").flatMap({ Int($0.text) }), number != 32767 else { return nil }
        let cidr = item.child("cidrBlock")?.text ?? item.child("ipv6CidrBlock")?.text ?? ""
        let range = item.child("portRange")
        let entry = NetworkACLEntry(ruleNumber: number, protocolNumber: item.child("protocol")?.text ?? "-1",
                                    action: item.child("ruleAction")?.text ?? "deny", cidr: cidr,
                                    fromPort: range?.child("from").flatMap { Int($0.text) }, toPort: range?.child("to").flatMap { Int($0.text) })
        return (entry, item.child("egress")?.text == "true")
    }

    /// The entry in the templates' form.
    var value: Value {
        var fields: [String: Value] = ["rule_number": .int(ruleNumber), "protocol": .string(Self.protocolNames[protocolNumber] ?? protocolNumber),
                                       "action": .string(action), "cidr_blocks": .list([.string(cidr)])]
        if let fromPort { fields["from_port"] = .int(fromPort) }
        if let toPort { fields["to_port"] = .int(toPort) }
        return .map(fields)
    }

    /// CreateNetworkAclEntry's parameters for this entry.
    func parameters(acl: String, egress: Bool) -> [(String, String)] {
        var parameters = [("NetworkAclId", acl), ("RuleNumber", String(ruleNumber)), ("Protocol", protocolNumber),
                          ("RuleAction", action), ("Egress", String(egress)), (cidr.contains(":") ? "Ipv6CidrBlock" : "CidrBlock", cidr)]
        if let fromPort, let toPort { parameters += [("PortRange.From", String(fromPort)), ("PortRange.To", String(toPort))] }
        return parameters
    }
}
