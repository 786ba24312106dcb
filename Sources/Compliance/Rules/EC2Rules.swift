import Foundation
import Stack

enum EC2Rules {
    /// What launches a node: a single instance, or a fleet's launch template (whose every node gets the same).
    static let instance = ["aws.ec2.instance", "aws.ec2.launch_template"]

    /// What a secret looks like in user data: AWS access keys and secrets, private keys, API keys, passwords.
    static let secretPatterns = [
        "(A3T[A-Z0-9]|AKIA|ASIA)[A-Z0-9]{16}", "(?i)aws_secret_access_key", "-----BEGIN [A-Z ]*PRIVATE KEY-----",
        "\\bsk-[A-Za-z0-9_-]{20,}", "(?i)(password|passwd|secret)\\s*[=:]\\s*\\S{6,}",
    ]

    static let all: [Rule] = [
        rule("ec2-imdsv2", "Instances and launch templates require IMDSv2 with a hop limit of 1 or 2", .high, types: instance,
             Mappings(cis: ["5.7"], fsbp: ["EC2.8", "EC2.170"], prowler: ["ec2_instance_imdsv2_enabled", "ec2_launch_template_imdsv2_required"]),
             rationale: "A server-side request forgery cannot read the instance profile's credentials.",
             remediation: "Set metadata_http_tokens to required and metadata_hop_limit to 1.",
             reads: ["metadata_http_tokens", "metadata_hop_limit"]) { node, _ in
            guard node.string("metadata_http_tokens") == "required" else { return "IMDSv1 is allowed (tokens are optional)" }
            return (node.int("metadata_hop_limit") ?? 1) <= 2 ? nil : "the metadata hop limit is \(node.int("metadata_hop_limit") ?? 0)"
        },
        rule("ec2-volume-encryption", "Instance and launch template volumes are encrypted with the stack's KMS key", .high, types: instance,
             Mappings(fsbp: ["EC2.3"], prowler: ["ec2_ebs_volume_encryption"]),
             rationale: "The model and anything the node writes are unreadable on a copied disk.",
             remediation: "Set root_volume_encrypted and root_volume_kms_key_id to the keys phase's key.",
             reads: ["root_volume_encrypted", "root_volume_kms_key_id", "volumes"]) { node, inventory in
            guard isTrue(node["root_volume_encrypted"]) else { return "the root volume is not encrypted" }
            guard inventory.isStackKey(node["root_volume_kms_key_id"], of: node) else { return "the root volume is not encrypted with the stack's key" }
            // live, every attached volume as the account reports it
            let stray = node.list("volumes").compactMap(\.mapValue).filter { volume in
                !isTrue(volume["encrypted"]) || !inventory.isStackKey(volume["kms_key_id"], of: node)
            }
            return stray.isEmpty ? nil : "attached and not encrypted with the stack's key: "
                + stray.map { $0["id"]?.stringValue ?? "a volume" }.joined(separator: ", ")
        },
        rule("ec2-no-public-ip", "Instances and launch templates give no public address", .high, types: instance,
             Mappings(fsbp: ["EC2.9", "EC2.25", "AutoScaling.5"], prowler: ["ec2_instance_public_ip", "ec2_launch_template_no_public_ip"]),
             rationale: "The node is reachable only from the private network.",
             remediation: "Set associate_public_ip_address to false.", reads: ["associate_public_ip_address", "public_ip"]) { node, _ in
            if isTrue(node["associate_public_ip_address"]) { return "the instance gets a public address" }
            if let address = node.string("public_ip"), !address.isEmpty { return "the instance has public address \(address)" }
            return nil
        },
        rule("ec2-instance-profile", "Instances run with an instance profile", .medium, types: instance,
             Mappings(cis: ["1.17"], prowler: ["ec2_instance_profile_attached"]),
             rationale: "The node's credentials are short-lived and rotated by AWS, never keys written to disk.",
             remediation: "Set iam_instance_profile to the keys phase's profile.", reads: ["iam_instance_profile"]) { node, _ in
            switch node["iam_instance_profile"] {
            case .unknown?: return nil
            case .string(let name)? where !name.isEmpty: return nil
            default: return "no instance profile"
            }
        },
        rule("ec2-no-secrets-in-user-data", "User data holds no secrets", .critical, types: instance,
             Mappings(prowler: ["ec2_instance_secrets_user_data"]),
             rationale: "User data is readable by anyone who may describe the instance, and it is logged.",
             remediation: "Fetch secrets at boot with the instance profile; keep only names and digests in user data.",
             reads: []) { node, _ in
            guard let text = node.string("user_data") else { return nil }
            let found = secretPatterns.filter { text.range(of: $0, options: .regularExpression) != nil }
            return found.isEmpty ? nil : "user data matches \(found.count) secret pattern(s)"
        },
        rule("ec2-managed-by-ssm", "Instances can be reached by Systems Manager instead of SSH", .medium, types: instance,
             Mappings(fsbp: ["SSM.1"], prowler: ["ec2_instance_managed_by_ssm"]),
             rationale: "Operators get an audited session through the VPC's endpoints; no SSH port or key exists.",
             remediation: "Let the node's role call ssm:UpdateInstanceInformation, ssmmessages:* channels and ec2messages:GetMessages "
                 + "(or attach AmazonSSMManagedInstanceCore), and add ssm, ssmmessages and ec2messages interface endpoints.",
             reads: ["iam_instance_profile"]) { node, inventory in
            SystemsManagerReach(node, inventory).missing
        },
        rule("ec2-detailed-monitoring", "Instances have detailed monitoring", .low, types: instance,
             Mappings(prowler: ["ec2_instance_detailed_monitoring_enabled"]),
             rationale: "One-minute metrics show a saturated node before its users do.",
             remediation: "Set monitoring to true.", reads: ["monitoring"]) { node, _ in
            isTrue(node["monitoring"]) ? nil : "detailed monitoring is off"
        },
    ]
}
