import Stack

enum S3Rules {
    static let all: [Rule] = [
        rule("s3-bucket-kms-encryption", "S3 buckets encrypt by default with the stack's KMS key", .high, types: ["aws.s3.bucket"],
             Mappings(fsbp: ["S3.17"], prowler: ["s3_bucket_kms_encryption"]),
             rationale: "Objects readable only with a key the customer controls: revoking the key revokes the data.",
             remediation: "Set sse_algorithm to aws:kms and kms_key_id to the keys phase's key.",
             reads: ["sse_algorithm", "kms_key_id"]) { bucket, inventory in
            guard bucket.string("sse_algorithm")?.hasPrefix("aws:kms") == true else {
                return "default encryption is \(bucket.string("sse_algorithm") ?? "off"), not SSE-KMS"
            }
            return inventory.isStackKey(bucket["kms_key_id"], of: bucket) ? nil : "encrypted with a key that is not the stack's"
        },
        rule("s3-bucket-public-access-block", "S3 buckets block public access (all four settings)", .critical, types: ["aws.s3.bucket"],
             Mappings(cis: ["2.1.4"], fsbp: ["S3.8"], prowler: ["s3_bucket_level_public_access_block"]),
             rationale: "No ACL or policy, present or future, can make the bucket public.",
             remediation: "Set block_public_access to true.", reads: ["block_public_access"]) { bucket, _ in
            isTrue(bucket["block_public_access"]) ? nil : "Block Public Access is not on for all four settings"
        },
        rule("s3-bucket-secure-transport", "S3 bucket policies deny requests without TLS", .high, types: ["aws.s3.bucket"],
             Mappings(cis: ["2.1.1"], fsbp: ["S3.5"], prowler: ["s3_bucket_secure_transport_policy"]),
             rationale: "Data in transit is encrypted whatever the client asks for.",
             remediation: "Add a Deny of s3:* for aws:SecureTransport false on the bucket and its objects.", reads: ["policy"]) { bucket, _ in
            let denies = PolicyStatements(bucket["policy"])?.statements.contains { statement in
                statement.effect == "Deny" && statement.principals.contains("*")
                    && (statement.allows("s3:GetObject") && statement.allows("s3:PutObject"))
                    && statement.conditions["Bool"]?.mapValue?["aws:SecureTransport"].map { PolicyStatements.strings($0) == ["false"] } == true
            } ?? false
            return denies ? nil : "no statement denies s3 requests where aws:SecureTransport is false"
        },
        rule("s3-bucket-versioning", "S3 buckets keep object versions", .medium, types: ["aws.s3.bucket"],
             Mappings(fsbp: ["S3.14"], prowler: ["s3_bucket_object_versioning"]),
             rationale: "An overwritten or deleted artifact or audit log can be recovered.",
             remediation: "Set versioning to true.", reads: ["versioning"]) { bucket, _ in
            isTrue(bucket["versioning"]) ? nil : "versioning is off"
        },
        rule("s3-bucket-acls-disabled", "S3 buckets disable ACLs (bucket owner enforced)", .medium, types: ["aws.s3.bucket"],
             Mappings(fsbp: ["S3.12"], prowler: ["s3_bucket_acl_prohibited"]),
             rationale: "Access is decided by policies alone; no object ACL can grant it past them.",
             remediation: "Set object_ownership to BucketOwnerEnforced.", reads: ["object_ownership"]) { bucket, _ in
            let ownership = bucket.string("object_ownership") ?? "BucketOwnerEnforced"
            return ownership == "BucketOwnerEnforced" ? nil : "object ownership is \(ownership), so ACLs still apply"
        },
        rule("s3-bucket-policy-not-public", "S3 bucket policies grant nothing to everyone", .critical, types: ["aws.s3.bucket"],
             Mappings(fsbp: ["S3.2", "S3.3"], prowler: ["s3_bucket_public_access"]),
             rationale: "A policy allowing Principal * publishes the bucket to the internet.",
             remediation: "Remove Allow statements with Principal \"*\" or narrow them with conditions.", reads: ["policy"]) { bucket, _ in
            let open = PolicyStatements(bucket["policy"])?.statements.filter(isPublic) ?? []
            return open.isEmpty ? nil : "the policy allows \(open.flatMap(\.actions).joined(separator: ", ")) to everyone"
        },
        rule("s3-bucket-no-public-acl", "S3 bucket ACLs grant nothing to everyone", .critical, types: ["aws.s3.bucket"],
             Mappings(fsbp: ["S3.2", "S3.3"], prowler: ["s3_bucket_public_write_acl", "s3_bucket_public_list_acl"]),
             rationale: "An ACL grant to AllUsers or AuthenticatedUsers publishes the bucket, whatever its policy says.",
             remediation: "Enforce bucket-owner ownership (object_ownership BucketOwnerEnforced), which drops every ACL.",
             reads: ["public_acl_grants"]) { bucket, _ in
            let grants = bucket.list("public_acl_grants").compactMap(\.stringValue)
            return grants.isEmpty ? nil : "the ACL grants \(grants.joined(separator: ", "))"
        },
        rule("s3-audit-bucket-access-logging", "The trail's bucket has server access logging", .medium, types: ["aws.s3.bucket"],
             Mappings(cis: ["3.4"], fsbp: ["CloudTrail.7"], prowler: ["cloudtrail_logs_s3_bucket_access_logging_enabled"]),
             rationale: "Who read or deleted the audit logs is itself on record, in another bucket.",
             remediation: "Set logging_target_bucket to a bucket of its own (the storage phase's access_logs_bucket).",
             reads: ["logging_target_bucket", "logging_target_prefix"]) { bucket, _ in
            switch bucket["logging_target_bucket"] {
            case .unknown?: return nil
            case .string(let target)? where !target.isEmpty:
                return target == bucket.string("bucket") ? "the bucket logs its access into itself" : nil
            default: return "server access logging is off"
            }
        }.onlyFor { bucket, inventory in
            inventory.subjects(of: "aws.cloudtrail.trail").contains { $0["s3_bucket_name"] == bucket["bucket"] }
        },
        rule("s3-object-stack-key", "Artifacts are encrypted with the stack's KMS key", .high, types: ["aws.s3.object"],
             Mappings(),
             rationale: "The model and server binary can only be read where the customer's key allows.",
             remediation: "Set kms_key_id to the keys phase's key.", reads: ["kms_key_id"]) { object, inventory in
            inventory.isStackKey(object["kms_key_id"], of: object) ? nil : "the object is not encrypted with the stack's key"
        },
    ]
}
