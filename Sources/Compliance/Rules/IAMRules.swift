import Stack

enum IAMRules {
    static let policies = ["aws.iam.role_policy"]

    /// Actions that let an identity grant itself more than it has.
    static let escalation = ["iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachRolePolicy",
                             "iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:PutRolePolicy", "iam:PutUserPolicy",
                             "iam:PutGroupPolicy", "iam:CreateAccessKey", "iam:UpdateAssumeRolePolicy", "iam:CreateLoginProfile",
                             "iam:UpdateLoginProfile", "iam:AddUserToGroup"]
    static let administrators = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"]

    static let all: [Rule] = [
        rule("iam-no-administrator-statement", "No policy allows every action on every resource", .critical, types: policies,
             Mappings(cis: ["1.15"], fsbp: ["IAM.1"], prowler: ["iam_inline_policy_no_administrative_privileges"]),
             rationale: "An identity that may do anything is what an attacker wants to become.",
             remediation: "Name the actions and resources the identity needs.", reads: ["policy"]) { policy, _ in
            let admin = PolicyStatements(policy["policy"])?.allowing.contains(where: \.grantsEverything) ?? false
            return admin ? "a statement allows * (or everything but a NotAction) on every resource" : nil
        },
        rule("iam-no-service-wildcards", "No policy allows every action of a service", .high, types: policies,
             Mappings(fsbp: ["IAM.21"],
                      prowler: ["iam_inline_policy_no_full_access_to_kms", "iam_inline_policy_no_full_access_to_cloudtrail"]),
             rationale: "service:* grants actions nobody reviewed, including ones added later.",
             remediation: "List the actions of the service the identity calls.", reads: ["policy"]) { policy, _ in
            let wild = PolicyStatements(policy["policy"])?.allowing.flatMap(\.actions).filter { $0.hasSuffix(":*") } ?? []
            return wild.isEmpty ? nil : "allows \(wild.joined(separator: ", "))"
        },
        rule("iam-no-privilege-escalation", "No policy lets its holder grant itself more", .critical, types: policies,
             Mappings(prowler: ["iam_inline_policy_allows_privilege_escalation"]),
             rationale: "iam:PassRole on * or the power to write policies turns a narrow identity into an administrator.",
             remediation: "Scope iam:PassRole to named roles; remove the iam:Create*/Attach*/Put*Policy actions.", reads: ["policy"]) { policy, _ in
            let statements = PolicyStatements(policy["policy"])?.allowing ?? []
            var found = escalation.filter { action in statements.contains { $0.allows(action) } }
            if statements.contains(where: \.passesAnyRole) { found.append("iam:PassRole on any role") }
            return found.isEmpty ? nil : "allows \(found.joined(separator: ", "))"
        },
        rule("iam-trust-no-wildcard-principal", "Role trust policies name who may assume them", .critical, types: ["aws.iam.role"],
             Mappings(),
             rationale: "A trust policy with Principal * lets any AWS account assume the role.",
             remediation: "Name the service or the account in the trust policy's Principal.", reads: ["assume_role_policy"]) { role, _ in
            let open = PolicyStatements(role["assume_role_policy"])?.allowing.contains { $0.principals.contains("*") } ?? false
            return open ? "anyone may assume the role" : nil
        },
        rule("iam-cross-account-external-id", "Roles trusted by another account require an external id", .high, types: ["aws.iam.role"],
             Mappings(),
             rationale: "Without an external id a vendor can be tricked into acting for someone else (the confused deputy).",
             remediation: "Add a StringEquals condition on sts:ExternalId to the trust statement.", reads: ["assume_role_policy"]) { role, inventory in
            /// The account a principal names: a 12-digit id, or the one in an IAM ARN.
            func account(_ principal: String) -> String? {
                if principal.count == 12, principal.allSatisfy(\.isNumber) { return principal }
                let fields = principal.split(separator: ":", omittingEmptySubsequences: false)
                return fields.count >= 5 && fields[0] == "arn" && fields[2] == "iam" ? String(fields[4]) : nil
            }
            let statements = PolicyStatements(role["assume_role_policy"])?.allowing ?? []
            let unguarded = statements.filter { statement in
                statement.principals.contains { account($0).map { $0 != inventory.account } ?? false }
                    && statement.conditions["StringEquals"]?.mapValue?["sts:ExternalId"] == nil
            }
            return unguarded.isEmpty ? nil : "another account may assume the role without an external id"
        },
        rule("iam-role-no-administrator-policy", "Roles carry no administrator managed policy", .critical, types: ["aws.iam.role"],
             Mappings(cis: ["1.15"], prowler: ["iam_role_administratoraccess_policy"]),
             rationale: "The node needs to read its artifacts and use its key, nothing more.",
             remediation: "Detach AdministratorAccess, PowerUserAccess and IAMFullAccess.", reads: ["managed_policy_arns"]) { role, _ in
            let attached = role.list("managed_policy_arns").compactMap(\.stringValue).filter { arn in
                administrators.contains { arn.hasSuffix(":policy/" + $0) }
            }
            return attached.isEmpty ? nil : "attached: \(attached.joined(separator: ", "))"
        },
    ]
}
