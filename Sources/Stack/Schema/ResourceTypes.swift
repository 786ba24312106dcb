/// Every resource type a template may declare, with the properties each accepts.
public enum ResourceTypes {
    public static func schema(for type: String) -> ResourceSchema? { byType[type] }

    public static var names: [String] { byType.keys.sorted() }

    private static let byType: [String: ResourceSchema] = Dictionary(uniqueKeysWithValues: all.map { ($0.type, $0) })

    private static let tenancy = ["default", "dedicated"]

    static let all: [ResourceSchema] = core + FleetResourceTypes.all(node: node)

    private static let core: [ResourceSchema] = [
        ResourceSchema("aws.ec2.vpc", computed: ["id", "arn", "default_security_group_id", "main_route_table_id"], [
            "cidr_block": .init(.cidr, required: true, replace: true),
            "enable_dns_support": .init(.bool, default: .bool(true)),
            "enable_dns_hostnames": .init(.bool, default: .bool(false)),
            "instance_tenancy": .init(.string, replace: true, allowed: tenancy, default: .string("default")),
        ]),
        ResourceSchema("aws.ec2.subnet", computed: ["id", "arn"], [
            "vpc_id": .init(.string, required: true, replace: true),
            "cidr_block": .init(.cidr, required: true, replace: true),
            "availability_zone": .init(.string, required: true, replace: true),
            "map_public_ip_on_launch": .init(.bool, default: .bool(false)),
        ]),
        ResourceSchema("aws.ec2.route_table", computed: ["id", "arn"], [
            "vpc_id": .init(.string, required: true, replace: true),
        ]),
        ResourceSchema("aws.ec2.route_table_association", taggable: false, computed: ["id"], [
            "route_table_id": .init(.string, required: true),
            "subnet_id": .init(.string, required: true, replace: true),
        ]),
        ResourceSchema("aws.ec2.security_group", computed: ["id", "arn"], [
            "vpc_id": .init(.string, required: true, replace: true),
            "name": .init(.string, required: true, replace: true),
            "description": .init(.string, required: true, replace: true),
            "ingress": .init(.objectList, default: .list([]), unordered: true),
            "egress": .init(.objectList, default: .list([]), unordered: true),
        ]),
        ResourceSchema("aws.ec2.default_security_group", computed: ["id"], [
            "vpc_id": .init(.string, required: true, replace: true),
            "ingress": .init(.objectList, default: .list([]), unordered: true),
            "egress": .init(.objectList, default: .list([]), unordered: true),
        ]),
        // entries: {rule_number, protocol, action, cidr_blocks, from_port, to_port}; one entry per CIDR, numbered on
        ResourceSchema("aws.ec2.default_network_acl", computed: ["id"], [
            "vpc_id": .init(.string, required: true, replace: true),
            "ingress": .init(.objectList, default: .list([]), unordered: true),
            "egress": .init(.objectList, default: .list([]), unordered: true),
        ]),
        // account-wide in the stack's region; destroy leaves it on (it protects more than this stack)
        ResourceSchema("aws.ec2.ebs_encryption_by_default", taggable: false, computed: ["id"], [
            "enabled": .init(.bool, default: .bool(true)),
        ]),
        ResourceSchema("aws.ec2.vpc_endpoint", computed: ["id", "arn", "dns_names"], [
            "vpc_id": .init(.string, required: true, replace: true),
            "service_name": .init(.string, required: true, replace: true),
            "vpc_endpoint_type": .init(.string, required: true, replace: true, allowed: ["Gateway", "Interface"]),
            "route_table_ids": .init(.stringList, default: .list([]), unordered: true),
            "subnet_ids": .init(.stringList, default: .list([]), unordered: true),
            "security_group_ids": .init(.stringList, default: .list([]), unordered: true),
            "private_dns_enabled": .init(.bool, default: .bool(false)),
            "policy": .init(.policy),
        ]),
        ResourceSchema("aws.ec2.flow_log", computed: ["id"], [
            "resource_id": .init(.string, required: true, replace: true),
            "resource_type": .init(.string, required: true, replace: true, allowed: ["VPC", "Subnet", "NetworkInterface"]),
            "traffic_type": .init(.string, required: true, replace: true, allowed: ["ACCEPT", "REJECT", "ALL"]),
            "log_destination_type": .init(.string, required: true, replace: true, allowed: ["cloud-watch-logs", "s3"]),
            "log_destination": .init(.string, required: true, replace: true),
            "deliver_logs_permission_arn": .init(.string, replace: true),
            "max_aggregation_interval": .init(.int, replace: true, allowed: ["60", "600"], default: .int(600)),
        ]),
        ResourceSchema("aws.logs.log_group", computed: ["arn"], [
            "name": .init(.string, required: true, replace: true),
            "retention_in_days": .init(.int, allowed: ["1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180",
                                                      "365", "400", "545", "731", "1096", "1827", "2192", "2557", "2922",
                                                      "3288", "3653"]),
            "kms_key_id": .init(.string),
        ]),
        ResourceSchema("aws.kms.key", computed: ["id", "arn"], [
            "description": .init(.string, default: .string("")),
            "key_usage": .init(.string, replace: true, allowed: ["ENCRYPT_DECRYPT", "SIGN_VERIFY"], default: .string("ENCRYPT_DECRYPT")),
            "key_spec": .init(.string, replace: true, allowed: ["SYMMETRIC_DEFAULT"], default: .string("SYMMETRIC_DEFAULT")),
            "enable_key_rotation": .init(.bool, default: .bool(false)),
            "rotation_period_days": .init(.int, range: 90...2560, default: .int(365)),
            "deletion_window_days": .init(.int, range: 7...30, default: .int(30)),
            "policy": .init(.policy, awsDefaultWhenOmitted: true),
        ]),
        ResourceSchema("aws.kms.alias", taggable: false, computed: ["arn"], [
            "name": .init(.string, required: true, replace: true),
            "target_key_id": .init(.string, required: true),
        ]),
        ResourceSchema("aws.iam.role", computed: ["arn", "id"], [
            "name": .init(.string, required: true, replace: true),
            "path": .init(.string, replace: true, default: .string("/")),
            "description": .init(.string, default: .string("")),
            "assume_role_policy": .init(.policy, required: true),
            "max_session_duration": .init(.int, range: 3600...43200, default: .int(3600)),
            "managed_policy_arns": .init(.stringList, default: .list([]), unordered: true),
            // the names of the role's inline policies (each an aws.iam.role_policy of the stack): any other is drift
            "inline_policy_names": .init(.stringList, default: .list([]), unordered: true),
        ]),
        ResourceSchema("aws.iam.role_policy", taggable: false, computed: ["id"], [
            "role": .init(.string, required: true, replace: true),
            "name": .init(.string, required: true, replace: true),
            "policy": .init(.policy, required: true),
        ]),
        ResourceSchema("aws.iam.instance_profile", computed: ["arn", "id"], [
            "name": .init(.string, required: true, replace: true),
            "path": .init(.string, replace: true, default: .string("/")),
            "role": .init(.string, required: true),
        ]),
        ResourceSchema("aws.s3.bucket", computed: ["arn", "id", "regional_domain_name"], [
            "bucket": .init(.string, required: true, replace: true),
            "versioning": .init(.bool, default: .bool(false)),
            "sse_algorithm": .init(.string, allowed: ["AES256", "aws:kms", "aws:kms:dsse"], default: .string("AES256")),
            "kms_key_id": .init(.string),
            "bucket_key_enabled": .init(.bool, default: .bool(false)),
            "block_public_access": .init(.bool, default: .bool(true)),
            "object_ownership": .init(.string, allowed: ["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"],
                                      default: .string("BucketOwnerEnforced")),
            "policy": .init(.policy),
            "lifecycle_expiration_days": .init(.int, range: 1...36500),
            "logging_target_bucket": .init(.string),
            "logging_target_prefix": .init(.string, default: .string("")),
            // ACL grants to everyone or every AWS user ("AllUsers READ"): always none
            "public_acl_grants": .init(.stringList, default: .list([]), unordered: true, fixed: true),
            // lifecycle rules besides the one lifecycle_expiration_days writes (a transition, a dated expiry): always none
            "lifecycle_other_rules": .init(.stringList, default: .list([]), unordered: true, fixed: true),
            // what can send the bucket's objects or events elsewhere, or let other sites read it from a browser: always none
            "replication_rules": .init(.stringList, default: .list([]), unordered: true, fixed: true),
            "notification_targets": .init(.stringList, default: .list([]), unordered: true, fixed: true),
            "cors_rules": .init(.stringList, default: .list([]), unordered: true, fixed: true),
            // S3 Object Lock's default retention of each new object version, in days (0: Object Lock off). Turned on,
            // it stays on: S3 has no way to turn it off, and removing the retention would silently end the protection
            "object_lock_days": .init(.int, range: 0...36500, default: .int(0),
                                      irreversible: "S3 Object Lock cannot be turned off once a bucket has it; keep its retention above 0 days"),
            "object_lock_mode": .init(.string, allowed: ["GOVERNANCE", "COMPLIANCE"], default: .string("COMPLIANCE")),
        ]),
        // account-wide; destroy leaves it on (it protects more than this stack)
        ResourceSchema("aws.s3.account_public_access_block", taggable: false, computed: ["id"], [
            "block_public_acls": .init(.bool, default: .bool(true)),
            "ignore_public_acls": .init(.bool, default: .bool(true)),
            "block_public_policy": .init(.bool, default: .bool(true)),
            "restrict_public_buckets": .init(.bool, default: .bool(true)),
        ]),
        // exactly one of source (beside the stack) and template_file (among the templates)
        ResourceSchema("aws.s3.object", maxTags: TagLimits.perObject, localFile: "source", templateFile: "template_file", computed: ["id", "version_id", "etag"], [
            "bucket": .init(.string, required: true, replace: true),
            "key": .init(.string, required: true, replace: true),
            "source": .init(.string),
            "template_file": .init(.string),
            "kms_key_id": .init(.string),
            "content_type": .init(.string, default: .string("application/octet-stream")),
            // S3 takes parts of 5 MiB to 5 GiB; the default keeps 10,000 parts (S3's limit) above 160 GiB
            "multipart_part_mib": .init(.int, range: 5...5120, default: .int(16)),
            // what the file must be, checked at plan time (`ContentCheck`); the object is uploaded as it is
            "check": .init(.string, allowed: ContentCheck.names),
        ]).checking(ContentCheck.all),
        ResourceSchema("aws.dynamodb.table", computed: ["arn", "id"], [
            "name": .init(.string, required: true, replace: true),
            "hash_key": .init(.string, required: true, replace: true),
            "hash_key_type": .init(.string, replace: true, allowed: ["S", "N", "B"], default: .string("S")),
            "range_key": .init(.string, replace: true),
            // read only with a range_key
            "range_key_type": .init(.string, replace: true, allowed: ["S", "N", "B"], default: .string("S")),
            "billing_mode": .init(.string, allowed: ["PAY_PER_REQUEST", "PROVISIONED"], default: .string("PAY_PER_REQUEST")),
            "kms_key_arn": .init(.string),
            "point_in_time_recovery": .init(.bool, default: .bool(false)),
            "deletion_protection": .init(.bool, default: .bool(false)),
            // the attribute whose time expires an item (DynamoDB's TTL); left out, nothing expires
            "ttl_attribute": .init(.string),
        ]),
        ResourceSchema("aws.cloudtrail.trail", computed: ["arn", "id"], [
            "name": .init(.string, required: true, replace: true),
            "s3_bucket_name": .init(.string, required: true),
            "s3_key_prefix": .init(.string),
            "kms_key_id": .init(.string),
            "is_multi_region_trail": .init(.bool, default: .bool(false)),
            "include_global_service_events": .init(.bool, default: .bool(true)),
            "enable_log_file_validation": .init(.bool, default: .bool(false)),
            "enable_logging": .init(.bool, default: .bool(true)),
            // which management events the trail records (event selectors): all of them unless a stack says otherwise
            "management_events": .init(.string, allowed: ["All", "ReadOnly", "WriteOnly", "None"], default: .string("All")),
        ]),
        ResourceSchema("aws.ec2.instance", computed: ["id", "arn", "private_ip"], node),
    ]

    /// What an inference node is launched with.
    private static let node: [String: AttributeSchema] = [
        "ami": .init(.string, required: true, replace: true),
        "instance_type": .init(.string, required: true),
        "subnet_id": .init(.string, required: true, replace: true),
        "security_group_ids": .init(.stringList, default: .list([]), unordered: true),
        // the node is stateless (it boots from the pinned artifacts), so a new profile or root volume makes a new node
        // rather than an in-place change EC2 makes only in part (a volume cannot shrink, and a grown one needs its
        // file system grown on the node)
        "iam_instance_profile": .init(.string, replace: true),
        "associate_public_ip_address": .init(.bool, replace: true, default: .bool(false)),
        // IMDSv2 only unless a template says otherwise (sent on every create, so AWS's own default never applies)
        "metadata_http_tokens": .init(.string, allowed: ["optional", "required"], default: .string("required")),
        "metadata_hop_limit": .init(.int, range: 1...64, default: .int(1)),
        "root_volume_size": .init(.int, replace: true, range: 8...16384, default: .int(8)),
        "root_volume_type": .init(.string, replace: true, allowed: ["gp2", "gp3", "io1", "io2"], default: .string("gp3")),
        "root_volume_encrypted": .init(.bool, replace: true, default: .bool(false)),
        "root_volume_kms_key_id": .init(.string, replace: true),
        "user_data": .init(.string, replace: true),
        "monitoring": .init(.bool, default: .bool(false)),
    ]
}
