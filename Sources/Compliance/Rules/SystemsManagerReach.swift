import Stack

/// Whether Systems Manager's agent on an instance can register and open sessions: its instance profile's role may
/// call the agent's actions, and the VPC has endpoints for the three services the agent talks to.
struct SystemsManagerReach {
    static let actions = ["ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel",
                          "ec2messages:GetMessages"]
    static let endpoints = ["ssm", "ssmmessages", "ec2messages"]
    static let managedPolicy = ":policy/AmazonSSMManagedInstanceCore"

    /// Why the agent cannot work, or nil when it can.
    let missing: String?

    init(_ node: Subject, _ inventory: Inventory) {
        let profileName = node["iam_instance_profile"]
        let profile = inventory.subjects(of: "aws.iam.instance_profile").first { profile in
            profileName == .unknown ? node.dependencies.contains(profile.address) : profile["name"] == profileName
        }
        guard let profile else {
            missing = "the instance profile is not one of the stack's, so its role cannot be checked"
            return
        }
        let roleName = profile["role"]
        let role = inventory.subjects(of: "aws.iam.role").first { $0["name"] == roleName || profile.dependencies.contains($0.address) }
        let managed = role?.list("managed_policy_arns").contains { $0.stringValue?.hasSuffix(Self.managedPolicy) == true } ?? false
        let statements = inventory.subjects(of: "aws.iam.role_policy")
            .filter { policy in policy["role"] == roleName || role.map { policy.dependencies.contains($0.address) } == true }
            .flatMap { PolicyStatements($0["policy"])?.allowing ?? [] }
        let denied = managed ? [] : Self.actions.filter { action in !statements.contains { $0.allows(action) } }
        let present = Set(inventory.subjects(of: "aws.ec2.vpc_endpoint").filter { $0.string("vpc_endpoint_type") == "Interface" }
            .compactMap { $0.string("service_name")?.split(separator: ".").last.map(String.init) })
        let absent = Self.endpoints.filter { !present.contains($0) }
        var reasons: [String] = []
        if !denied.isEmpty { reasons.append("the role may not call \(denied.joined(separator: ", "))") }
        if !absent.isEmpty { reasons.append("no interface endpoint for \(absent.joined(separator: ", "))") }
        missing = reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }
}
