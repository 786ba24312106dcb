import Stack

/// A fleet's load balancer, target group, listener and Auto Scaling group.
enum FleetRules {
    static let balancer = ["aws.elbv2.load_balancer"]
    static let group = ["aws.autoscaling.group"]

    /// TLS policies that offer TLS 1.2 and 1.3 only, with forward secrecy.
    static let modernPolicies: Set<String> = [
        "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    ]

    static let all: [Rule] = [
        rule("elb-internal", "Load balancers are internal", .high, types: balancer,
             Mappings(prowler: ["elbv2_internet_facing"]),
             rationale: "The inference API is reachable only from the private network, as a single node is.",
             remediation: "Set scheme to internal.", reads: ["scheme"]) { balancer, _ in
            balancer.string("scheme") == "internal" ? nil : "the load balancer is \(balancer.string("scheme") ?? "not internal")"
        },
        rule("elb-access-logs", "Load balancers write access logs", .medium, types: balancer,
             Mappings(fsbp: ["ELB.5"], prowler: ["elbv2_logging_enabled"]),
             rationale: "Every TLS connection to the fleet, its client and its outcome, is on record.",
             remediation: "Set access_logs_bucket to the storage phase's access logs bucket.", reads: ["access_logs_bucket"]) { balancer, _ in
            guard let bucket = balancer.string("access_logs_bucket"), !bucket.isEmpty else { return "access logs are off" }
            return nil
        },
        rule("elb-deletion-protection", "Load balancers have deletion protection", .medium, types: balancer,
             Mappings(fsbp: ["ELB.6"], prowler: ["elbv2_deletion_protection"]),
             rationale: "A stray delete does not take the fleet's address away from every client.",
             remediation: "Set deletion_protection to true (destroy --force lifts it).", reads: ["deletion_protection"]) { balancer, _ in
            isTrue(balancer["deletion_protection"]) ? nil : "deletion protection is off"
        },
        rule("elb-tls-listener", "Listeners use TLS with a TLS 1.3/1.2 policy", .high, types: ["aws.elbv2.listener"],
             Mappings(fsbp: ["ELB.17"], prowler: ["elbv2_ssl_listeners", "elbv2_insecure_ssl_ciphers"]),
             rationale: "Prompts and completions never cross the network in clear, nor over a protocol version or cipher that is broken.",
             remediation: "Set protocol to TLS and ssl_policy to ELBSecurityPolicy-TLS13-1-2-2021-06.",
             reads: ["protocol", "ssl_policy"]) { listener, _ in
            guard listener.string("protocol") == "TLS" else { return "the listener takes \(listener.string("protocol") ?? "plain") connections" }
            guard let policy = listener.string("ssl_policy") else { return nil }  // known after apply
            return modernPolicies.contains(policy) ? nil : "the listener's policy \(policy) allows older TLS versions or ciphers"
        },
        rule("elb-target-tls", "Target groups speak TLS to the nodes and check their health over HTTPS", .medium,
             types: ["aws.elbv2.target_group"], Mappings(),
             rationale: "The hop from the load balancer to each node, inside the VPC, is encrypted too.",
             remediation: "Set protocol to TLS and health_check_protocol to HTTPS.",
             reads: ["protocol", "health_check_protocol"]) { targets, _ in
            guard targets.string("protocol") == "TLS" else { return "the nodes are reached over \(targets.string("protocol") ?? "plain") TCP" }
            return targets.string("health_check_protocol") == "HTTPS" ? nil : "health checks use \(targets.string("health_check_protocol") ?? "?")"
        },
        rule("autoscaling-elb-health-check", "Auto Scaling groups replace nodes the load balancer finds unhealthy", .medium, types: group,
             Mappings(fsbp: ["AutoScaling.1"], prowler: ["autoscaling_group_elb_health_check_enabled"]),
             rationale: "A node whose server is down (its instance still running) is replaced, not left in the group.",
             remediation: "Set health_check_type to ELB and give the group its target group.",
             reads: ["health_check_type", "target_group_arns"]) { group, _ in
            guard group.string("health_check_type") == "ELB" else { return "health checks are EC2's only" }
            return group.list("target_group_arns").isEmpty ? "the group serves no target group" : nil
        },
        rule("autoscaling-multi-az", "Auto Scaling groups span several availability zones", .medium, types: group,
             Mappings(fsbp: ["AutoScaling.2"], prowler: ["autoscaling_group_multiple_az"]),
             rationale: "One zone's outage leaves the fleet serving.",
             remediation: "Give subnet_ids subnets in two or more availability zones.", reads: ["subnet_ids"]) { group, _ in
            group.list("subnet_ids").count >= 2 ? nil : "the group has \(group.list("subnet_ids").count) subnet(s)"
        },
    ]
}
