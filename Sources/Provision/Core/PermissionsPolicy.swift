import Stack

/// The least IAM policy that lets an identity apply, refresh and destroy a stack: exactly the actions its resource
/// types' handlers declare, plus the account check. With `scoped`, actions on named resources (roles, instance
/// profiles, buckets, objects, tables, trails, log groups) are limited to those resources' ARNs, and iam:PassRole to the
/// roles the stack passes to EC2 and to VPC Flow Logs. A shared state (`settings`, the stack's `state` block unless
/// given) adds what reading, writing and locking it takes.
public enum PermissionsPolicy {
    public static func build(_ expanded: ExpandedStack, stack: StackFile, scoped: Bool, sharedState: RemoteStateSettings? = nil,
                             handlers: HandlerRegistry = .standard) throws -> Value {
        let partition = stack.partition
        let account = stack.account
        let region = stack.region
        var unscoped: Set<String> = ["sts:GetCallerIdentity"]
        var byResource: [String: Set<String>] = [:]
        var passesRole = false
        let types = Set(expanded.resources.map(\.type))
        let stackARNs = scoped ? expanded.resources.flatMap { arnsOf($0, partition, account, region) } : []
        for type in types.sorted() {
            let handler = try handlers.handler(for: type)
            passesRole = passesRole || handler.actions.passesRole
            let arns = scoped ? expanded.resources.filter { $0.type == type }.flatMap { arnsOf($0, partition, account, region) } : []
            for action in handler.actions.all {
                // each action on the kind of resource it authorises on: a role's delete removes it from the stack's
                // instance profiles, an object's delete lists versions of its bucket
                var fitting = arns.filter { ResourceKind.of($0) == ResourceKind.required(by: action) }
                if fitting.isEmpty { fitting = stackARNs.filter { ResourceKind.of($0) == ResourceKind.required(by: action) } }
                if fitting.isEmpty || !scopable(action) {
                    unscoped.insert(action)
                } else {
                    for arn in fitting { byResource[arn, default: []].insert(action) }
                }
            }
        }
        var statements: [Value] = [statement("DeployAnyResource", unscoped, ["*"])]
        // group resources that take the same actions into one statement
        var grouped: [[String]: [String]] = [:]
        for (arn, actions) in byResource { grouped[actions.sorted(), default: []].append(arn) }
        for (index, actions) in grouped.keys.sorted(by: { $0.joined() < $1.joined() }).enumerated() {
            statements.append(statement("DeployNamedResources\(index + 1)", Set(actions), grouped[actions]!.sorted()))
        }
        if passesRole {
            let roles = expanded.resources.filter { $0.type == "aws.iam.role" }.compactMap { $0.properties["name"]?.stringValue }
            let resources = scoped && !roles.isEmpty ? roles.map { "arn:\(partition):iam::\(account):role/\($0)" } : ["*"]
            statements.append(statement("DeployPassesItsOwnRoles", ["iam:PassRole"], resources))
        }
        if let shared = sharedState ?? stack.state {
            statements += sharedStateStatements(shared, partition: partition, account: account, scoped: scoped)
        }
        return .map(["Version": .string("2012-10-17"), "Statement": .list(statements)])
    }

    /// The state and lock objects read, written and deleted (conditionally), the snapshots' markers read and created
    /// (never deleted), the state's versions listed and read (history, restore), data keys made and opened by KMS
    /// only under this state's encryption context, so the grant opens no other data the key protects, and the key
    /// used by S3 itself for the bucket's default encryption, through S3 and for this bucket only.
    static func sharedStateStatements(_ shared: RemoteStateSettings, partition: String, account: String, scoped: Bool) -> [Value] {
        let bucket = "arn:\(partition):s3:::\(shared.bucket)"
        let stateObject = "\(bucket)/\(shared.key)", lockObject = "\(bucket)/\(shared.lockKey)"
        let markerObjects = "\(bucket)/\(shared.key).serials/*"
        let region = shared.region.isEmpty ? "*" : shared.region
        let key = shared.kmsKey.hasPrefix("arn:") ? shared.kmsKey
            : !scoped ? "*" : shared.kmsKey.hasPrefix("alias/") ? "arn:\(partition):kms:\(region):\(account):key/*"
            : "arn:\(partition):kms:\(region):\(account):key/\(shared.kmsKey)"
        let dataKeys = ["kms:Decrypt", "kms:GenerateDataKey"]
        let stateContext: Value = .map(["StringEquals": .map(["kms:EncryptionContext:deploy:state": .string(shared.url)])])
        let throughS3: Value = .map([
            "StringEquals": .map(["kms:ViaService": .string("s3.\(region).amazonaws.com")]),
            "StringLike": .map(["kms:EncryptionContext:aws:s3:arn": .string("\(bucket)*")]),
        ])
        let deletes: Set = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
        return [
            statement("DeploySharedState", ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], scoped ? [stateObject] : ["*"]),
            statement("DeploySharedStateLock", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], scoped ? [lockObject] : ["*"]),
            statement("DeploySharedStateMarkers", ["s3:GetObject", "s3:PutObject"], scoped ? [markerObjects] : ["*"]),
            // s3:ListBucket too: without it S3 answers 403, not 404, for an object that is not there (a new state, a marker)
            statement("DeploySharedStateVersions", ["s3:ListBucket", "s3:ListBucketVersions"], [scoped ? bucket : "*"]),
            statement("DeploySharedStateKeys", Set(dataKeys), [key], condition: scoped ? stateContext : nil),
            statement("DeploySharedStateBucketEncryption", Set(dataKeys), [key], condition: scoped ? throughS3 : nil),
            // the history and the markers are what refuse an older state put back: whatever else the identity may do
            // (an unscoped policy grants deletes on *), it may not delete them
            statement("DeployKeepsSharedStateHistory", deletes, [markerObjects], effect: "Deny"),
            statement("DeployKeepsSharedStateVersions", deletes, [stateObject], effect: "Deny"),
        ]
    }

    private static func statement(_ sid: String, _ actions: Set<String>, _ resources: [String], effect: String = "Allow",
                                  condition: Value? = nil) -> Value {
        var fields: [String: Value] = ["Sid": .string(sid), "Effect": .string(effect), "Action": .list(actions.sorted().map(Value.string)),
                                       "Resource": resources.count == 1 ? .string(resources[0]) : .list(resources.map(Value.string))]
        if let condition { fields["Condition"] = condition }
        return .map(fields)
    }

    /// List and Describe calls, and creates of resources with cloud-assigned ids, cannot be limited to a named ARN.
    private static func scopable(_ action: String) -> Bool {
        let service = action.split(separator: ":").first ?? ""
        guard ["iam", "s3", "dynamodb", "cloudtrail", "logs"].contains(service) else { return false }
        let name = action.split(separator: ":").last ?? ""
        // log deliveries (what a flow log to CloudWatch Logs needs) and the account's own S3 settings have no
        // resource of their own
        if name.hasSuffix("LogDelivery") || name.hasSuffix("AccountPublicAccessBlock") { return false }
        // the managed policies a refresh reads are whatever is attached to the stack's roles (AWS's own among them),
        // not resources the stack names
        if name == "GetPolicy" || name == "GetPolicyVersion" { return false }
        // the service-linked roles Auto Scaling and Elastic Load Balancing make for themselves are AWS's, not the stack's
        if name == "CreateServiceLinkedRole" { return false }
        return !(name.hasPrefix("List") || name.hasPrefix("Describe")) || name == "ListAttachedRolePolicies"
            || name == "ListBucketVersions" || name == "ListRolePolicies" || name == "ListInstanceProfilesForRole"
            || name == "ListTagsOfResource" || name == "ListTagsForResource"
    }

    /// The kinds of ARN that IAM actions authorise on, where a service has more than one.
    enum ResourceKind: Equatable {
        case bucket, object, role, instanceProfile, other

        static let objectActions: Set<String> = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion",
                                                 "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObjectTagging",
                                                 "s3:GetObjectTagging", "s3:GetObjectVersion"]

        static func of(_ arn: String) -> ResourceKind {
            if arn.contains(":s3:::") { return arn.split(separator: ":", maxSplits: 5).last?.contains("/") == true ? .object : .bucket }
            if arn.contains(":instance-profile/") { return .instanceProfile }
            if arn.contains(":role/") { return .role }
            return .other
        }

        static func required(by action: String) -> ResourceKind {
            if action.hasPrefix("s3:") { return objectActions.contains(action) ? .object : .bucket }
            if action.hasPrefix("iam:") {
                if action == "iam:ListInstanceProfilesForRole" { return .role }
                if action.contains("InstanceProfile") { return .instanceProfile }
                if action.contains("Role") { return .role }
            }
            return .other
        }
    }

    /// The ARNs a named resource is known by before it exists.
    private static func arnsOf(_ resource: DesiredResource, _ partition: String, _ account: String, _ region: String) -> [String] {
        func name(_ key: String) -> String? { resource.properties[key]?.stringValue }
        switch resource.type {
        case "aws.iam.role":
            return name("name").map { ["arn:\(partition):iam::\(account):role\(name("path") ?? "/")\($0)"] } ?? []
        case "aws.iam.role_policy":
            return name("role").map { ["arn:\(partition):iam::\(account):role/\($0)"] } ?? []
        case "aws.iam.instance_profile":
            return name("name").map { ["arn:\(partition):iam::\(account):instance-profile\(name("path") ?? "/")\($0)"] } ?? []
        case "aws.s3.bucket":
            return name("bucket").map { ["arn:\(partition):s3:::\($0)", "arn:\(partition):s3:::\($0)/*"] } ?? []
        case "aws.s3.object":
            // the bucket for the listings of uploads and versions, the object for everything else
            guard let bucket = name("bucket"), let key = name("key") else { return [] }
            return ["arn:\(partition):s3:::\(bucket)", "arn:\(partition):s3:::\(bucket)/\(key)"]
        case "aws.dynamodb.table":
            return name("name").map { ["arn:\(partition):dynamodb:\(region):\(account):table/\($0)"] } ?? []
        case "aws.cloudtrail.trail":
            return name("name").map { ["arn:\(partition):cloudtrail:\(region):\(account):trail/\($0)"] } ?? []
        case "aws.logs.log_group":
            return name("name").map { ["arn:\(partition):logs:\(region):\(account):log-group:\($0)",
                                       "arn:\(partition):logs:\(region):\(account):log-group:\($0):*"] } ?? []
        default:
            return []
        }
    }
}
