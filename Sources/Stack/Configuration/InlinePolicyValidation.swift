/// A role owns exactly the inline policies its `inline_policy_names` lists, and deploy removes any other as drift;
/// so every `aws.iam.role_policy` of the stack must be listed by its role, and every listed name put by one.
enum InlinePolicyValidation {
    static func check(_ resources: [DesiredResource]) throws(StackError) {
        let roles = resources.filter { $0.type == "aws.iam.role" }
        let policies = resources.filter { $0.type == "aws.iam.role_policy" }
        var put: [String: Set<String>] = [:]
        var allKnown = true
        for policy in policies {
            guard let roleName = policy.properties["role"]?.stringValue, let name = policy.properties["name"]?.stringValue else {
                allKnown = false
                continue
            }
            put[roleName, default: []].insert(name)
            guard let role = roles.first(where: { $0.properties["name"]?.stringValue == roleName }),
                  let listed = role.properties["inline_policy_names"]?.listValue else { continue }
            if !listed.contains(.string(name)) {
                throw StackError("\(policy.address): the inline policy '\(name)' is not in \(role.address)'s inline_policy_names, "
                                 + "so deploy would remove it from the role as drift; list it there",
                                 at: policy.propertyLocations["name"] ?? policy.location)
            }
        }
        guard allKnown else { return }
        for role in roles {
            guard let roleName = role.properties["name"]?.stringValue else { continue }
            let listed = (role.properties["inline_policy_names"]?.listValue ?? []).compactMap(\.stringValue)
            if let orphan = listed.first(where: { !(put[roleName] ?? []).contains($0) }) {
                throw StackError("\(role.address): inline_policy_names lists '\(orphan)', which no aws.iam.role_policy of the stack puts "
                                 + "on '\(roleName)'", at: role.propertyLocations["inline_policy_names"] ?? role.location)
            }
        }
    }
}
