import Compliance
import DeployTestSupport
import Foundation
import Stack
import Testing

/// Every rule over the default stack as planned: each passes there, and each fails once the one thing it guards is
/// broken (a hand-made change to the planned resources), naming the resource.
@Suite("compliance rules on the plan")
struct StaticRuleTests {
    /// One break: set `attribute` of `address` to `value` (nil removes the resource), and `rule` fails on `finding`.
    struct Break: Sendable, CustomTestStringConvertible {
        var rule: String
        var address: String
        var attribute: String
        var value: Value?
        var findings: [String]?
        /// What the stack declares instead of the default stack's own (a live check compares the account with it).
        var declared: [String: Value]
        /// The shipped stack whose plan is broken.
        var stack = "private-inference"

        init(_ rule: String, _ address: String, _ attribute: String, _ value: Value?, finding: String? = nil, findings: [String]? = nil,
             declared: [String: Value] = [:], stack: String = "private-inference") {
            self.stack = stack
            self.rule = rule
            self.address = address
            self.attribute = attribute
            self.value = value
            self.findings = findings ?? finding.map { [$0] }
            self.declared = declared
        }

        var testDescription: String {
            guard let value else { return "\(rule) (\(address) removed)" }
            return declared.isEmpty ? "\(rule) (\(address).\(attribute))" : "\(rule) (\(address).\(attribute) \(value), declared \(declared))"
        }
    }

    static func policy(_ effect: String = "Allow", principal: Value? = nil, actions: [String], resource: String = "*") -> Value {
        var statement: [String: Value] = ["Effect": .string(effect), "Action": .list(actions.map(Value.string)), "Resource": .string(resource)]
        if let principal { statement["Principal"] = principal }
        return .map(["Version": .string("2012-10-17"), "Statement": .list([.map(statement)])])
    }

    /// A policy of one Allow statement with `fields` (NotAction, NotResource, ...).
    static func statement(_ fields: [String: Value]) -> Value {
        .map(["Version": .string("2012-10-17"), "Statement": .list([.map(fields.merging(["Effect": .string("Allow")]) { own, _ in own })])])
    }

    static func ingress(_ port: Int, _ cidrs: [String]) -> Value {
        .list([.map(["protocol": .string("tcp"), "from_port": .int(port), "to_port": .int(port), "cidr_blocks": .list(cidrs.map(Value.string))])])
    }

    static let otherKey = Value.string("arn:aws:kms:eu-west-1:999999999999:key/4d1f2c3b-0000-0000-0000-000000000000")
    static func trust(_ principal: Value) -> Value {
        .map(["Version": .string("2012-10-17"), "Statement": .list([.map(["Effect": .string("Allow"), "Principal": principal,
                                                                          "Action": .string("sts:AssumeRole")])])])
    }

    static let breaks: [Break] = [
        Break("elb-internal", "inference.balancer[0]", "scheme", .string("internet-facing"), stack: "fleet"),
        Break("elb-access-logs", "inference.balancer[0]", "access_logs_bucket", .null, stack: "fleet"),
        Break("elb-deletion-protection", "inference.balancer[0]", "deletion_protection", .bool(false), stack: "fleet"),
        Break("elb-tls-listener", "inference.listener[0]", "protocol", .string("TCP"), stack: "fleet"),
        Break("elb-tls-listener", "inference.listener[0]", "ssl_policy", .string("ELBSecurityPolicy-2016-08"), stack: "fleet"),
        Break("elb-target-tls", "inference.nodes[0]", "protocol", .string("TCP"), stack: "fleet"),
        Break("elb-target-tls", "inference.nodes[0]", "health_check_protocol", .string("TCP"), stack: "fleet"),
        Break("autoscaling-elb-health-check", "inference.fleet[0]", "health_check_type", .string("EC2"), stack: "fleet"),
        Break("autoscaling-elb-health-check", "inference.fleet[0]", "target_group_arns", .list([]), stack: "fleet"),
        Break("autoscaling-multi-az", "inference.fleet[0]", "subnet_ids", .list([.string("subnet-0a")]), stack: "fleet"),
        Break("ec2-imdsv2", "inference.node_template[0]", "metadata_http_tokens", .string("optional"), stack: "fleet"),
        Break("ec2-no-public-ip", "inference.node_template[0]", "associate_public_ip_address", .bool(true), stack: "fleet"),
        Break("ec2-volume-encryption", "inference.node_template[0]", "root_volume_encrypted", .bool(false), stack: "fleet"),
        Break("s3-bucket-kms-encryption", "storage.artifacts_bucket", "sse_algorithm", .string("AES256")),
        Break("s3-bucket-public-access-block", "storage.audit_bucket", "block_public_access", .bool(false)),
        Break("s3-bucket-secure-transport", "storage.artifacts_bucket", "policy", .null),
        Break("s3-bucket-versioning", "storage.artifacts_bucket", "versioning", .bool(false)),
        Break("s3-bucket-acls-disabled", "storage.artifacts_bucket", "object_ownership", .string("ObjectWriter")),
        Break("s3-bucket-policy-not-public", "storage.artifacts_bucket", "policy", policy(principal: .string("*"), actions: ["s3:GetObject"])),
        Break("s3-object-stack-key", "storage.model", "kms_key_id", otherKey),
        Break("kms-key-rotation", "keys.data_key", "enable_key_rotation", .bool(false)),
        Break("kms-key-policy-not-public", "keys.data_key", "policy", policy(principal: .map(["AWS": .string("*")]), actions: ["kms:Decrypt"])),
        Break("kms-key-deletion-window", "keys.data_key", "deletion_window_days", .int(3)),
        Break("cloudtrail-multi-region", "storage.trail", "is_multi_region_trail", .bool(false)),
        Break("cloudtrail-log-file-validation", "storage.trail", "enable_log_file_validation", .bool(false)),
        Break("cloudtrail-kms-encryption", "storage.trail", "kms_key_id", .null),
        Break("cloudtrail-logging", "storage.trail", "enable_logging", .bool(false)),
        Break("cloudtrail-logging", "storage.trail", "management_events", .string("ReadOnly")),
        Break("cloudtrail-bucket-not-public", "storage.audit_bucket", "block_public_access", .bool(false), finding: "storage.trail"),
        Break("vpc-flow-logs", "network.flow_log", "", nil, finding: "network.vpc"),
        Break("vpc-default-security-group-closed", "network.default_security_group", "ingress", ingress(443, ["10.40.0.0/16"])),
        Break("sg-no-admin-ports-from-anywhere", "network.inference_security_group", "ingress", ingress(22, ["0.0.0.0/0"])),
        Break("sg-no-admin-ports-from-anywhere", "network.inference_security_group", "ingress",
              .list([.map(["protocol": .string("tcp"), "from_port": .int(22), "to_port": .int(22), "ipv6_cidr_blocks": .list([.string("::/0")])])])),
        Break("sg-inference-port-allowed-cidrs", "network.inference_security_group", "ingress", ingress(8080, ["192.168.0.0/16"])),
        Break("subnet-no-public-ip", "network.private_subnet[0]", "map_public_ip_on_launch", .bool(true)),
        Break("vpc-interface-endpoints", "network.interface_endpoint[0]", "", nil, finding: "network.vpc"),
        Break("vpc-s3-gateway-endpoint", "network.s3_endpoint", "", nil, finding: "network.vpc"),
        Break("ec2-imdsv2", "inference.node[0]", "metadata_http_tokens", .string("optional")),
        Break("ec2-volume-encryption", "inference.node[0]", "root_volume_encrypted", .bool(false)),
        Break("ec2-no-public-ip", "inference.node[0]", "associate_public_ip_address", .bool(true)),
        Break("ec2-instance-profile", "inference.node[0]", "iam_instance_profile", .null),
        Break("ec2-no-secrets-in-user-data", "inference.node[0]", "user_data",
              .string("#!/bin/sh\nexport AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n")),
        Break("ec2-detailed-monitoring", "inference.node[0]", "monitoring", .bool(false)),
        Break("iam-no-administrator-statement", "keys.node_policy", "policy", policy(actions: ["*"])),
        Break("iam-no-service-wildcards", "keys.node_policy", "policy", policy(actions: ["s3:*"], resource: "arn:aws:s3:::x/*")),
        Break("iam-no-privilege-escalation", "keys.node_policy", "policy", policy(actions: ["iam:PassRole"])),
        Break("iam-trust-no-wildcard-principal", "keys.node_role", "assume_role_policy", trust(.map(["AWS": .string("*")]))),
        Break("iam-cross-account-external-id", "keys.node_role", "assume_role_policy",
              trust(.map(["AWS": .string("arn:aws:iam::999999999999:root")]))),
        Break("iam-role-no-administrator-policy", "keys.node_role", "managed_policy_arns",
              .list([.string("arn:aws:iam::aws:policy/AdministratorAccess")])),
        Break("dynamodb-kms-encryption", "storage.audit_table", "kms_key_arn", otherKey),
        Break("dynamodb-point-in-time-recovery", "storage.audit_table", "point_in_time_recovery", .bool(false)),
        Break("dynamodb-deletion-protection", "storage.audit_table", "deletion_protection", .bool(false)),
        Break("logs-group-retention", "network.flow_log_group", "retention_in_days", .int(30)),
        Break("s3-account-public-access-block", "storage.account_public_access_block", "block_public_policy", .bool(false)),
        Break("s3-account-public-access-block", "storage.account_public_access_block", "", nil,
              findings: ["storage.access_logs_bucket", "storage.artifacts_bucket", "storage.audit_bucket"]),
        Break("ec2-ebs-encryption-by-default", "keys.ebs_encryption_by_default", "enabled", .bool(false)),
        Break("ec2-ebs-encryption-by-default", "keys.ebs_encryption_by_default", "", nil, finding: "inference.node[0]"),
        Break("s3-bucket-no-public-acl", "storage.artifacts_bucket", "public_acl_grants", .list([.string("AllUsers READ")])),
        Break("cloudtrail-bucket-not-public", "storage.audit_bucket", "public_acl_grants", .list([.string("AuthenticatedUsers WRITE")]),
              finding: "storage.trail"),
        Break("s3-audit-bucket-access-logging", "storage.audit_bucket", "logging_target_bucket", .null),
        Break("s3-audit-bucket-access-logging", "storage.audit_bucket", "logging_target_bucket", .string("private-inference-123456789012-audit")),
        Break("nacl-no-admin-ports-from-anywhere", "network.default_network_acl", "ingress", aclEntries([(100, "-1", "allow", nil)])),
        Break("route-table-no-internet-route", "network.private_routes", "routes",
              .list([.map(["destination": .string("0.0.0.0/0"), "target": .string("igw-0a1b2c3d")])])),
        Break("ec2-managed-by-ssm", "keys.node_policy", "policy", policy(actions: ["s3:GetObject"], resource: "arn:aws:s3:::x/*"),
              finding: "inference.node[0]"),
        Break("ec2-managed-by-ssm", "network.interface_endpoint[3]", "", nil, finding: "inference.node[0]"),
        Break("iam-role-effective-permissions", "keys.node_policy", "policy", policy(actions: ["*"]), finding: "keys.node_role"),
        Break("iam-role-effective-permissions", "keys.node_policy", "policy", policy(actions: ["iam:Pass*"]), finding: "keys.node_role"),
        Break("iam-role-effective-permissions", "keys.node_role", "managed_policy_arns",
              .list([.string("arn:aws:iam::aws:policy/IAMFullAccess")])),
        Break("ec2-only-stack-security-groups", "inference.node[0]", "security_group_ids", .list([.string("sg-0123456789abcdef0")])),
        Break("ec2-only-stack-security-groups", "network.interface_endpoint[0]", "security_group_ids",
              .list([.unknown, .string("sg-0123456789abcdef0")])),
        Break("s3-audit-bucket-retention", "storage.audit_bucket", "lifecycle_expiration_days", .int(30)),
        // a stack that locks its audit bucket's objects 30 days, found locking them less, or not at all, or in the weaker mode
        Break("s3-bucket-object-lock", "storage.audit_bucket", "object_lock_days", .int(10), declared: ["object_lock_days": .int(30)]),
        Break("s3-bucket-object-lock", "storage.audit_bucket", "object_lock_days", .int(0), declared: ["object_lock_days": .int(30)]),
        Break("s3-bucket-object-lock", "storage.audit_bucket", "object_lock_mode", .string("GOVERNANCE"),
              declared: ["object_lock_days": .int(30), "object_lock_mode": .string("COMPLIANCE")]),
        // administrator in other words: everything but one action, every action but on one resource, any role passed
        Break("iam-no-administrator-statement", "keys.node_policy", "policy", statement(["NotAction": .string("iam:DeleteRole"), "Resource": .string("*")])),
        Break("iam-no-administrator-statement", "keys.node_policy", "policy",
              statement(["Action": .string("*"), "NotResource": .string("arn:aws:s3:::nothing")])),
        Break("iam-role-effective-permissions", "keys.node_policy", "policy",
              statement(["NotAction": .string("iam:DeleteRole"), "Resource": .string("*")]), finding: "keys.node_role"),
        Break("iam-no-privilege-escalation", "keys.node_policy", "policy",
              statement(["Action": .string("iam:Pass*"), "Resource": .string("arn:aws:iam::*:role/*")])),
        Break("iam-role-effective-permissions", "keys.node_policy", "policy",
              statement(["Action": .string("iam:PassRole"), "Resource": .string("arn:aws:iam::123456789012:role/*")]), finding: "keys.node_role"),
    ]

    /// Ingress entries from anywhere: (rule number, protocol, action, ports).
    static func aclEntries(_ entries: [(Int, String, String, ClosedRange<Int>?)]) -> Value {
        .list(entries.map { number, protocolName, action, ports in
            var fields: [String: Value] = ["rule_number": .int(number), "protocol": .string(protocolName), "action": .string(action),
                                           "cidr_blocks": .list([.string("0.0.0.0/0")])]
            if let ports { fields["from_port"] = .int(ports.lowerBound); fields["to_port"] = .int(ports.upperBound) }
            return .map(fields)
        })
    }

    /// Network ACLs decide by their lowest-numbered matching entry: a deny before an allow closes the port.
    static let aclCases: [(entries: [(Int, String, String, ClosedRange<Int>?)], fails: Bool)] = [
        ([(100, "tcp", "allow", 22...22)], true),
        ([(100, "tcp", "allow", 3000...4000)], true),
        ([(100, "6", "allow", 0...65535)], true),
        ([(100, "udp", "allow", 0...65535)], false),
        ([(100, "tcp", "allow", 32768...65535)], false),
        ([(100, "tcp", "deny", 22...22), (110, "tcp", "deny", 3389...3389), (200, "-1", "allow", nil)], false),
        ([(100, "tcp", "deny", 22...22), (200, "-1", "allow", nil)], true),
        ([(200, "tcp", "deny", 22...22), (100, "tcp", "allow", 0...1023)], true),
        ([(100, "all", "deny", nil), (200, "tcp", "allow", 22...22)], false),
    ]

    @Test("the network ACL rule follows the entries in rule-number order", arguments: aclCases.indices)
    func aclOrder(_ index: Int) throws {
        var inventory = try Self.planned()
        let acl = try #require(inventory.subjects.firstIndex { $0.address == "network.default_network_acl" })
        inventory.subjects[acl].attributes["ingress"] = Self.aclEntries(Self.aclCases[index].entries)
        let failures = Evaluation(inventory, rules: [RuleCatalog.rule("nacl-no-admin-ports-from-anywhere")!]).failures
        #expect(failures.isEmpty != Self.aclCases[index].fails, "\(Self.aclCases[index].entries)")
    }

    static func planned(_ stack: String = "private-inference") throws -> Inventory {
        let configuration = try StackConfiguration.load(stackPath: ShippedStack.path(stack))
        var expander = Expander(configuration)
        return Inventory(planned: try expander.expand(), configuration: configuration)
    }

    @Test("the shipped stacks pass every rule on their plans, and between them give every rule something to look at")
    func shippedStacksPass() throws {
        var judged: Set<String> = []
        for stack in ["private-inference", "fleet"] {
            let evaluation = Evaluation(try Self.planned(stack))
            #expect(evaluation.failures.map { "\($0.rule.id) \($0.address): \($0.message)" } == [], "\(stack)")
            judged.formUnion(evaluation.findings.map(\.rule.id))
        }
        #expect(judged == Set(RuleCatalog.all.map(\.id)), "every rule found something to look at")
    }

    @Test("each rule fails, on the right resource, when what it guards is broken", arguments: breaks)
    func broken(_ change: Break) throws {
        var inventory = try Self.planned(change.stack)
        let index = try #require(inventory.subjects.firstIndex { $0.address == change.address }, "\(change.address) is in the plan")
        // the stack declares these, and the account holds them, but for the attribute broken
        inventory.subjects[index].declared.merge(change.declared) { _, declared in declared }
        for (name, value) in change.declared where name != change.attribute { inventory.subjects[index].attributes[name] = value }
        if let value = change.value {
            inventory.subjects[index].attributes[change.attribute] = value
        } else {
            inventory.subjects.remove(at: index)
        }
        let rule = try #require(RuleCatalog.rule(change.rule))
        let failures = Evaluation(inventory, rules: [rule]).failures
        #expect(failures.map(\.address).sorted() == change.findings ?? [change.address], "\(failures.map(\.message))")
    }

    @Test("every rule is broken by a case above, and carries what a report needs")
    func catalog() {
        #expect(Set(Self.breaks.map(\.rule)) == Set(RuleCatalog.all.map(\.id)))
        #expect(RuleCatalog.all.count >= 35)
        #expect(Set(RuleCatalog.all.map(\.id)).count == RuleCatalog.all.count, "ids are unique")
        for rule in RuleCatalog.all {
            #expect(!rule.title.isEmpty && !rule.rationale.isEmpty && !rule.remediation.isEmpty && !rule.types.isEmpty, "\(rule.id)")
            #expect(rule.types.allSatisfy { ResourceTypes.schema(for: $0) != nil }, "\(rule.id) names known types")
        }
    }

    @Test("a role trusted by its own account needs no external id; by another, it does")
    func ownAccountTrust() throws {
        var inventory = try Self.planned()
        let index = try #require(inventory.subjects.firstIndex { $0.address == "keys.node_role" })
        let rule = try #require(RuleCatalog.rule("iam-cross-account-external-id"))
        for (principal, fails) in [("arn:aws:iam::123456789012:root", false), ("123456789012", false), ("arn:aws:iam::999999999999:role/x", true)] {
            inventory.subjects[index].attributes["assume_role_policy"] = Self.trust(.map(["AWS": .string(principal)]))
            #expect(!Evaluation(inventory, rules: [rule]).failures.isEmpty == fails, "\(principal)")
        }
    }

    @Test("the user data rule never copies the user data into its evidence")
    func secretsStayOut() throws {
        var inventory = try Self.planned()
        let index = try #require(inventory.subjects.firstIndex { $0.address == "inference.node[0]" })
        inventory.subjects[index].attributes["user_data"] = .string("password = hunter2hunter2")
        let finding = try #require(Evaluation(inventory, rules: [RuleCatalog.rule("ec2-no-secrets-in-user-data")!]).failures.first)
        #expect(!"\(finding.evidence)\(finding.message)".contains("hunter2"))
    }
}
