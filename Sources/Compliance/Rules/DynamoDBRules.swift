import Stack

enum DynamoDBRules {
    static let table = ["aws.dynamodb.table"]
    static let all: [Rule] = [
        rule("dynamodb-kms-encryption", "Tables are encrypted with the stack's KMS key", .medium, types: table,
             Mappings(prowler: ["dynamodb_tables_kms_cmk_encryption_enabled"]),
             rationale: "The audit table is readable only with the customer's key.",
             remediation: "Set kms_key_arn to the keys phase's key.", reads: ["kms_key_arn"]) { table, inventory in
            inventory.isStackKey(table["kms_key_arn"], of: table) ? nil : "the table is not encrypted with the stack's key"
        },
        rule("dynamodb-point-in-time-recovery", "Tables keep point-in-time recovery", .medium, types: table,
             Mappings(fsbp: ["DynamoDB.2"], prowler: ["dynamodb_tables_pitr_enabled"]),
             rationale: "Records deleted or overwritten can be restored to any second of the last 35 days.",
             remediation: "Set point_in_time_recovery to true.", reads: ["point_in_time_recovery"]) { table, _ in
            isTrue(table["point_in_time_recovery"]) ? nil : "point-in-time recovery is off"
        },
        rule("dynamodb-deletion-protection", "Tables are protected from deletion", .medium, types: table,
             Mappings(fsbp: ["DynamoDB.6"], prowler: ["dynamodb_table_deletion_protection_enabled"]),
             rationale: "The audit table cannot be dropped by one call.",
             remediation: "Set deletion_protection to true.", reads: ["deletion_protection"]) { table, _ in
            isTrue(table["deletion_protection"]) ? nil : "deletion protection is off"
        },
    ]
}
