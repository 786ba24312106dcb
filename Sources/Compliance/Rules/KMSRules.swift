import Stack

enum KMSRules {
    static let all: [Rule] = [
        rule("kms-key-rotation", "KMS keys rotate automatically", .medium, types: ["aws.kms.key"],
             Mappings(cis: ["3.6"], fsbp: ["KMS.4"], prowler: ["kms_cmk_rotation_enabled"]),
             rationale: "A rotated key limits how much data one key version protects.",
             remediation: "Set enable_key_rotation to true.", reads: ["enable_key_rotation"]) { key, _ in
            isTrue(key["enable_key_rotation"]) ? nil : "automatic rotation is off"
        },
        rule("kms-key-policy-not-public", "KMS key policies grant nothing to everyone", .critical, types: ["aws.kms.key"],
             Mappings(fsbp: ["KMS.5"], prowler: ["kms_key_not_publicly_accessible"]),
             rationale: "Whoever may use the key may read everything encrypted under it.",
             remediation: "Name the account or roles as principals, or narrow Principal * with conditions.", reads: ["policy"]) { key, _ in
            let open = PolicyStatements(key["policy"])?.statements.filter(isPublic) ?? []
            return open.isEmpty ? nil : "the key policy allows \(open.flatMap(\.actions).joined(separator: ", ")) to everyone"
        },
        rule("kms-key-deletion-window", "KMS keys are not scheduled for deletion, and would wait at least 7 days", .high,
             types: ["aws.kms.key"],
             Mappings(fsbp: ["KMS.3"], prowler: ["kms_cmk_not_deleted_unintentionally"]),
             rationale: "Everything encrypted under a deleted key is lost; a deletion scheduled by mistake or by an attacker "
                 + "must be noticed, and the window must leave time to cancel it.",
             remediation: "Cancel a scheduled deletion (kms cancel-key-deletion, then enable-key); set deletion_window_days to 7 or more.",
             reads: ["deletion_window_days", "key_state", "deletion_date"]) { key, _ in
            if key.string("key_state") == "PendingDeletion" {
                return "the key is scheduled for deletion on \(key.string("deletion_date") ?? "a date KMS did not give")"
            }
            return (key.int("deletion_window_days") ?? 30) >= 7 ? nil : "the pending window is \(key.int("deletion_window_days") ?? 0) days"
        },
    ]
}
