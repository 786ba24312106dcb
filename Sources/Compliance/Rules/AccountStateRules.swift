import Stack

/// Rules that judge what the account holds beyond what the stack declares: every policy a role really carries,
/// every security group really attached, the retention the audit bucket really has. On a plan they judge what the
/// stack itself gives (its inline policies, the groups it names, the retention it sets).
enum AccountStateRules {
    static let all: [Rule] = [
        rule("iam-role-effective-permissions",
             "Roles carry no policy, attached or inline, that allows every action on every resource or iam:PassRole on any role",
             .critical, types: ["aws.iam.role"],
             Mappings(cis: ["1.15"], fsbp: ["IAM.1"],
                      prowler: ["iam_aws_attached_policy_no_administrative_privileges", "iam_customer_attached_policy_no_administrative_privileges",
                                "iam_inline_policy_no_administrative_privileges", "iam_policy_allows_privilege_escalation"]),
             rationale: "What a role may do is every policy it holds, including one attached or put on it outside the stack.",
             remediation: "Apply the stack: it detaches every managed policy and deletes every inline policy it does not declare.",
             reads: ["attached_policies", "inline_policies", "managed_policy_arns"]) { role, inventory in
            var found: [String] = []
            for (arn, document) in attachedPolicies(role).sorted(by: { $0.key < $1.key }) {
                if let name = IAMRules.administrators.first(where: { arn.hasSuffix(":policy/" + $0) }) {
                    found.append("attached \(name)")
                } else if document == .null {
                    if role.live { found.append("attached \(arn) could not be read") }
                } else {
                    found += grants(document).map { "attached \(arn) allows \($0)" }
                }
            }
            for (name, document) in inlinePolicies(role, inventory).sorted(by: { $0.key < $1.key }) {
                found += grants(document).map { "inline policy \(name) allows \($0)" }
            }
            return found.isEmpty ? nil : found.joined(separator: "; ")
        },
        rule("ec2-only-stack-security-groups", "Instances and interface endpoints carry only the stack's security groups", .high,
             types: ["aws.ec2.instance", "aws.ec2.vpc_endpoint"], Mappings(),
             rationale: "A security group attached outside the stack opens the node or the endpoint to whatever that group admits.",
             remediation: "Apply the stack: it sets exactly the declared security groups.", reads: ["security_group_ids"]) { subject, inventory in
            let own = Set(inventory.subjects(of: "aws.ec2.security_group").compactMap { $0.string("id") })
            let foreign = subject.list("security_group_ids").compactMap(\.stringValue).filter { !own.contains($0) }
            return foreign.isEmpty ? nil : "attached security groups not of this stack: \(foreign.sorted().joined(separator: ", "))"
        },
        rule("s3-audit-bucket-retention", "The trail's bucket keeps logs a year or more, and no shorter than the stack says", .high,
             types: ["aws.s3.bucket"], Mappings(),
             rationale: "A lifecycle rule added outside the stack can expire the audit trail before anyone reads it; "
                 + "audits (PCI DSS 10.5.1 among them) ask for a year of history.",
             remediation: "Set lifecycle_expiration_days to 365 or more (or leave it out) and apply: apply puts back the stack's own "
                 + "lifecycle configuration, replacing any other rule.",
             reads: ["lifecycle_expiration_days"]) { bucket, _ in
            guard let days = bucket.int("lifecycle_expiration_days") else { return nil }
            if days < minimumAuditDays { return "objects expire after \(days) days, under a year" }
            guard let kept = bucket.declared["lifecycle_expiration_days"]?.intValue else {
                return "objects expire after \(days) days; the stack keeps them without limit"
            }
            return days < kept ? "objects expire after \(days) days; the stack keeps them \(kept)" : nil
        }.onlyFor { bucket, inventory in
            inventory.subjects(of: "aws.cloudtrail.trail").contains { $0["s3_bucket_name"] == bucket["bucket"] }
        },
        rule("s3-bucket-object-lock", "Buckets keep new objects under the Object Lock retention the stack gives them", .high,
             types: ["aws.s3.bucket"], Mappings(),
             rationale: "Under Object Lock no one, the node and the account's administrators included, can delete or overwrite a "
                 + "version before its retention ends (in COMPLIANCE mode; GOVERNANCE yields to s3:BypassGovernanceRetention): "
                 + "what was shipped off the node stays as it was. A shorter or weaker default set outside the stack ends that early.",
             remediation: "Apply the stack: it puts back its object_lock_days and object_lock_mode (Object Lock itself cannot be turned off).",
             reads: ["object_lock_days", "object_lock_mode"]) { bucket, _ in
            guard let kept = bucket.declared["object_lock_days"]?.intValue, kept > 0, let days = bucket.int("object_lock_days") else { return nil }
            if days < kept {
                return days == 0 ? "new objects get no Object Lock retention; the stack keeps them \(kept) days"
                    : "new objects are locked \(days) days; the stack keeps them \(kept)"
            }
            let mode = bucket.string("object_lock_mode")
            return bucket.declared["object_lock_mode"]?.stringValue == "COMPLIANCE" && mode == "GOVERNANCE"
                ? "new objects are locked in GOVERNANCE mode, which s3:BypassGovernanceRetention lifts; the stack says COMPLIANCE" : nil
        },
    ]

    static let minimumAuditDays = 365

    /// The managed policies attached to a role, by ARN: their documents as read from the account, or null.
    static func attachedPolicies(_ role: Subject) -> [String: Value] {
        if let read = role["attached_policies"]?.mapValue { return read }
        return Dictionary(role.list("managed_policy_arns").compactMap(\.stringValue).map { ($0, Value.null) }) { first, _ in first }
    }

    /// The inline policies on a role, by name: as read from the account, or, on a plan, the stack's own
    /// aws.iam.role_policy resources that name the role.
    static func inlinePolicies(_ role: Subject, _ inventory: Inventory) -> [String: Value] {
        if let read = role["inline_policies"]?.mapValue { return read }
        let policies = inventory.subjects(of: "aws.iam.role_policy").filter { $0["role"] == role["name"] }
        return Dictionary(policies.map { ($0.string("name") ?? $0.address, $0["policy"] ?? .null) }) { first, _ in first }
    }

    /// What a policy document allows that makes its holder an administrator: every action on every resource, or
    /// passing any role to a service.
    static func grants(_ document: Value) -> [String] {
        let allowing = PolicyStatements(document)?.allowing ?? []
        var found: [String] = []
        if allowing.contains(where: \.grantsEverything) { found.append("* on *") }
        if allowing.contains(where: \.passesAnyRole) { found.append("iam:PassRole on any role") }
        return found
    }
}
