import Stack

/// Settings of the account (or of its region) rather than of one resource. A stack declares them as resources; a
/// stack that does not fails the rule on the resources the setting would protect.
enum AccountRules {
    /// A rule over an account-wide setting of `setting` type: `holds` judges the setting; each resource of
    /// `protected` types fails when the stack declares no such setting, and is not applicable when it does.
    static func accountRule(_ id: String, _ title: String, _ severity: Severity, setting: String, protected: [String],
                            _ mappings: Mappings, rationale: String, remediation: String, reads: [String],
                            _ holds: @escaping @Sendable (Subject) -> String?) -> Rule {
        let judge = rule(id, title, severity, types: [setting], mappings, rationale: rationale, remediation: remediation,
                         reads: reads) { subject, _ in holds(subject) }
        return Rule(id: id, title: title, severity: severity, rationale: rationale, remediation: remediation,
                    types: [setting] + protected, mappings: mappings) { subject, inventory in
            if subject.type == setting { return judge.check(subject, in: inventory) }
            guard inventory.subjects(of: setting).isEmpty else { return .notApplicable }
            return .fail("the stack does not declare \(setting), so nothing sets it for the account", evidence: [:])
        }
    }

    static let all: [Rule] = [
        accountRule("s3-account-public-access-block", "The account blocks public access to S3 (all four settings)", .critical,
                    setting: "aws.s3.account_public_access_block", protected: ["aws.s3.bucket"],
                    Mappings(cis: ["2.1.4"], fsbp: ["S3.1"], prowler: ["s3_account_level_public_access_blocks"]),
                    rationale: "No bucket of the account, this stack's or a later one's, can be made public by its own settings.",
                    remediation: "Declare an aws.s3.account_public_access_block with all four settings true.",
                    reads: AccountSettings.publicAccessBlock) { block in
            let off = AccountSettings.publicAccessBlock.filter { !isTrue(block[$0]) }
            return off.isEmpty ? nil : "off: \(off.joined(separator: ", "))"
        },
        accountRule("ec2-ebs-encryption-by-default", "New EBS volumes are encrypted by default", .high,
                    setting: "aws.ec2.ebs_encryption_by_default", protected: ["aws.ec2.instance"],
                    Mappings(cis: ["5.1.1"], fsbp: ["EC2.7"], prowler: ["ec2_ebs_default_encryption"]),
                    rationale: "A volume or snapshot copy made by hand or by another tool is never left in the clear.",
                    remediation: "Declare an aws.ec2.ebs_encryption_by_default with enabled true.", reads: ["enabled"]) { setting in
            isTrue(setting["enabled"]) ? nil : "EBS encryption by default is off in this region"
        },
    ]
}

/// The attribute names of account-wide settings.
enum AccountSettings {
    static let publicAccessBlock = ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]
}
