import Stack

/// (No rule asks for log groups under the stack's key: the flow-log group is made in the network phase, before the
/// keys phase exists; CloudWatch Logs encrypts it with its own keys.)
enum LogsRules {
    static let all: [Rule] = [
        rule("logs-group-retention", "Log groups keep their logs for a year or more", .low, types: ["aws.logs.log_group"],
             Mappings(prowler: ["cloudwatch_log_group_retention_policy_specific_days_enabled"]),
             rationale: "An investigation can look back across the period auditors ask about.",
             remediation: "Set retention_in_days to 365 or more.", reads: ["retention_in_days"]) { group, _ in
            guard let days = group.int("retention_in_days") else { return nil }  // never expire
            return days >= 365 ? nil : "logs are kept \(days) days"
        },
    ]
}
