/// What `EC2Support.deleting` deletes: named in its wait message, and deciding which refusals mean "dependants are
/// still going away, try again".
enum EC2Deletable: Sendable {
    case routeTable, routeTableAssociation, securityGroup, vpcEndpoint, flowLog, vpc, subnet, instance

    var noun: String {
        switch self {
        case .routeTable: "route table"
        case .routeTableAssociation: "route table association"
        case .securityGroup: "security group"
        case .vpcEndpoint: "VPC endpoint"
        case .flowLog: "flow log"
        case .vpc: "VPC"
        case .subnet: "subnet"
        case .instance: "instance"
        }
    }

    /// Error codes answered while something that depends on it is still being deleted. A subnet also answers
    /// InvalidParameterValue while the network interfaces of a terminating instance in it are released.
    var stillInUse: Set<String> {
        self == .subnet ? ["DependencyViolation", "InvalidParameterValue"] : ["DependencyViolation"]
    }
}
