import Stack

enum CloudTrailRules {
    static let trail = ["aws.cloudtrail.trail"]
    static let all: [Rule] = [
        rule("cloudtrail-multi-region", "The trail records every region", .high, types: trail,
             Mappings(cis: ["3.1"], fsbp: ["CloudTrail.1"], prowler: ["cloudtrail_multi_region_enabled"]),
             rationale: "Activity in a region nobody watches is still recorded.",
             remediation: "Set is_multi_region_trail to true.", reads: ["is_multi_region_trail"]) { trail, _ in
            isTrue(trail["is_multi_region_trail"]) ? nil : "the trail records one region only"
        },
        rule("cloudtrail-log-file-validation", "The trail signs its log files", .medium, types: trail,
             Mappings(cis: ["3.2"], fsbp: ["CloudTrail.4"], prowler: ["cloudtrail_log_file_validation_enabled"]),
             rationale: "A deleted or edited log file is detected.",
             remediation: "Set enable_log_file_validation to true.", reads: ["enable_log_file_validation"]) { trail, _ in
            isTrue(trail["enable_log_file_validation"]) ? nil : "log file validation is off"
        },
        rule("cloudtrail-kms-encryption", "The trail encrypts its logs with the stack's KMS key", .medium, types: trail,
             Mappings(cis: ["3.5"], fsbp: ["CloudTrail.2"], prowler: ["cloudtrail_kms_encryption_enabled"]),
             rationale: "Reading the audit trail takes the customer's key.",
             remediation: "Set kms_key_id to the keys phase's key.", reads: ["kms_key_id"]) { trail, inventory in
            inventory.isStackKey(trail["kms_key_id"], of: trail) ? nil : "the logs are not encrypted with the stack's key"
        },
        rule("cloudtrail-logging", "The trail is logging, every management event", .high, types: trail,
             Mappings(fsbp: ["CloudTrail.1"], prowler: ["cloudtrail_multi_region_enabled", "cloudtrail_multi_region_enabled_logging_management_events"]),
             rationale: "A stopped trail records nothing; one whose event selectors leave out management events records "
                 + "none of the calls that change the account.",
             remediation: "Start logging (enable_logging true) and record all management events (management_events All); apply restores both.",
             reads: ["enable_logging", "management_events"]) { trail, _ in
            if trail.bool("enable_logging") == false { return "logging is stopped" }
            if let events = trail.string("management_events"), events != "All" { return "management events recorded: \(events)" }
            return nil
        },
        rule("cloudtrail-bucket-not-public", "The trail delivers to a bucket that is not public", .critical, types: trail,
             Mappings(fsbp: ["CloudTrail.6"], prowler: ["cloudtrail_logs_s3_bucket_is_not_publicly_accessible"]),
             rationale: "The audit trail describes the whole account; it must not be readable by anyone.",
             remediation: "Block public access on the trail's bucket and remove public policy statements.",
             reads: ["s3_bucket_name"]) { trail, inventory in
            let name = trail["s3_bucket_name"]
            guard let bucket = inventory.subjects(of: "aws.s3.bucket").first(where: { $0["bucket"] == name }) else {
                return "the trail's bucket is not one of the stack's, so its access cannot be checked"
            }
            let open = PolicyStatements(bucket["policy"])?.statements.contains(where: isPublic) ?? false
                || !bucket.list("public_acl_grants").isEmpty
            return isTrue(bucket["block_public_access"]) && !open ? nil : "bucket \(bucket.address) can be public"
        },
    ]
}
