import AWS
import Foundation
import Plan
import Stack
import TextSafety

/// `aws.s3.bucket`: a bucket with Block Public Access, owner-enforced objects, default encryption (SSE-KMS with the
/// stack's key), versioning, a policy, an expiry rule, server access logging, tags and, when asked, S3 Object Lock with a
/// default retention. A bucket that still holds objects is not deleted unless destroy was asked to empty it.
struct S3BucketHandler: ResourceHandler {
    let type = "aws.s3.bucket"
    let actions = HandlerActions(
        create: ["s3:CreateBucket", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:PutEncryptionConfiguration",
                 "s3:PutBucketVersioning", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration", "s3:PutBucketTagging",
                 "s3:PutBucketLogging", "s3:PutBucketObjectLockConfiguration", "kms:GenerateDataKey", "kms:DescribeKey"],
        read: ["s3:ListAllMyBuckets", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:GetBucketPublicAccessBlock",
               "s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:GetBucketOwnershipControls", "s3:GetBucketAcl", "s3:GetBucketLogging",
               "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:GetBucketNotification", "s3:GetBucketCORS",
               "s3:GetBucketObjectLockConfiguration"],
        // (DeletePublicAccessBlock is authorised by s3:PutBucketPublicAccessBlock and DeleteBucketLifecycle by
        // s3:PutLifecycleConfiguration, DeleteBucketReplication by s3:PutReplicationConfiguration and DeleteBucketCors by
        // s3:PutBucketCORS: IAM has no actions of their own for them)
        update: ["s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls",
                 "s3:PutEncryptionConfiguration", "s3:PutBucketVersioning", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
                 "s3:PutLifecycleConfiguration", "s3:PutBucketTagging", "s3:PutBucketLogging", "s3:PutBucketAcl",
                 "s3:PutReplicationConfiguration", "s3:PutBucketNotification", "s3:PutBucketCORS", "s3:PutBucketObjectLockConfiguration"],
        delete: ["s3:DeleteBucket", "s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"])

    private static let allProperties: Set<String> = ["block_public_access", "object_ownership", "sse_algorithm", "kms_key_id",
                                                     "bucket_key_enabled", "versioning", "policy", "lifecycle_expiration_days", "tags",
                                                     "logging_target_bucket", "logging_target_prefix", "public_acl_grants",
                                                     "lifecycle_other_rules", "replication_rules", "notification_targets", "cors_rules",
                                                     "object_lock_days", "object_lock_mode"]

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let name = try resource.require("bucket")
        try await S3(client: context.client).createBucket(name, objectLock: try resource.requireInt("object_lock_days") > 0)
        try await context.recordID(name)
        try await configure(resource, name: name, changed: Self.allProperties, context: context)
        return computed(name, context: context)
    }

    private func computed(_ name: String, context: HandlerContext) -> [String: Value] {
        ["id": .string(name), "arn": .string("arn:\(context.partition):s3:::\(name)"),
         "regional_domain_name": .string("\(name).s3.\(context.stack.region).amazonaws.com")]
    }

    /// Puts each changed part of the bucket's configuration; the parts are independent, so they go out at once.
    private func configure(_ resource: DesiredResource, name: String, changed: Set<String>, context: HandlerContext) async throws {
        let s3 = S3(client: context.client)
        let namespace = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
        let creating = changed == Self.allProperties
        // first, while the ownership this update may enforce still lets ACLs be written
        if changed.contains("public_acl_grants") && !creating { try await s3.putCannedACL(name, "private") }
        var puts: [@Sendable () async throws -> Void] = []
        // a new bucket has none of these; on an update, what is there is someone else's and goes
        if !creating {
            if changed.contains("replication_rules") { puts.append { try await s3.deleteSubresource(name, "replication") } }
            if changed.contains("cors_rules") { puts.append { try await s3.deleteSubresource(name, "cors") } }
            if changed.contains("notification_targets") {
                puts.append { try await s3.putSubresource(name, "notification", body: "<NotificationConfiguration \(namespace)/>") }
            }
        }
        if changed.contains("block_public_access") {
            if try resource.requireBool("block_public_access") {
                puts.append { try await s3.putSubresource(name, "publicAccessBlock", body: """
                    <PublicAccessBlockConfiguration \(namespace)><BlockPublicAcls>true</BlockPublicAcls>\
                    <IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy>\
                    <RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>
                    """) }
            } else {
                puts.append { try await s3.deleteSubresource(name, "publicAccessBlock") }
            }
        }
        if changed.contains("object_ownership") {
            let ownership = try resource.require("object_ownership")
            puts.append { try await s3.putSubresource(name, "ownershipControls", body: """
                <OwnershipControls \(namespace)><Rule><ObjectOwnership>\(ownership)</ObjectOwnership></Rule></OwnershipControls>
                """) }
        }
        if !changed.isDisjoint(with: ["sse_algorithm", "kms_key_id", "bucket_key_enabled"]) {
            let algorithm = try resource.require("sse_algorithm")
            let key = resource.string("kms_key_id").map { "<KMSMasterKeyID>\(SafeText.xmlEscaped($0))</KMSMasterKeyID>" } ?? ""
            let bucketKey = try resource.requireBool("bucket_key_enabled")
            puts.append { try await s3.putSubresource(name, "encryption", body: """
                <ServerSideEncryptionConfiguration \(namespace)><Rule><ApplyServerSideEncryptionByDefault>\
                <SSEAlgorithm>\(algorithm)</SSEAlgorithm>\(algorithm == "AES256" ? "" : key)</ApplyServerSideEncryptionByDefault>\
                <BucketKeyEnabled>\(bucketKey)</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>
                """) }
        }
        if changed.contains("versioning") {
            let status = try resource.requireBool("versioning") ? "Enabled" : "Suspended"
            puts.append { try await s3.putSubresource(name, "versioning", body: """
                <VersioningConfiguration \(namespace)><Status>\(status)</Status></VersioningConfiguration>
                """) }
        }
        if changed.contains("policy") {
            if let policy = try resource.policyJSON("policy") {
                puts.append { try await s3.putSubresource(name, "policy", body: policy, contentType: "application/json") }
            } else {
                puts.append { try await s3.deleteSubresource(name, "policy") }
            }
        }
        if !changed.isDisjoint(with: ["lifecycle_expiration_days", "lifecycle_other_rules"]) {
            if let days = resource.int("lifecycle_expiration_days") {
                puts.append { try await s3.putSubresource(name, "lifecycle", body: """
                    <LifecycleConfiguration \(namespace)><Rule><ID>\(BucketLifecycle.ruleID)</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>\
                    <Expiration><Days>\(days)</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>\(days)</NoncurrentDays>\
                    </NoncurrentVersionExpiration></Rule></LifecycleConfiguration>
                    """) }
            } else if !creating {
                // taken out of the stack: the objects no longer expire (a bucket created just now has no rule to remove)
                puts.append { try await s3.deleteSubresource(name, "lifecycle") }
            }
        }
        if !changed.isDisjoint(with: ["logging_target_bucket", "logging_target_prefix"]) {
            let prefix = try resource.requireString("logging_target_prefix")
            let enabled = resource.string("logging_target_bucket").map { target in
                "<LoggingEnabled><TargetBucket>\(SafeText.xmlEscaped(target))</TargetBucket>"
                    + "<TargetPrefix>\(SafeText.xmlEscaped(prefix))</TargetPrefix></LoggingEnabled>"
            }
            // a bucket created just now has nothing to turn off
            if enabled != nil || !creating {
                puts.append { try await s3.putSubresource(name, "logging", body: "<BucketLoggingStatus \(namespace)>\(enabled ?? "")</BucketLoggingStatus>") }
            }
        }
        if changed.contains("tags") {
            let tags = resource.tags.keys.sorted().map { "<Tag><Key>\(SafeText.xmlEscaped($0))</Key><Value>\(SafeText.xmlEscaped(resource.tags[$0] ?? ""))</Value></Tag>" }
            puts.append { try await s3.putSubresource(name, "tagging", body: "<Tagging \(namespace)><TagSet>\(tags.joined())</TagSet></Tagging>") }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for put in puts { group.addTask(operation: put) }
            try await group.waitForAll()
        }
        // after the versioning it needs (S3 turns Object Lock on only for a versioned bucket). A retention of 0 days
        // on a bucket that has Object Lock is refused at plan; on one that has not, there is nothing to put.
        if !changed.isDisjoint(with: ["object_lock_days", "object_lock_mode"]) {
            let days = try resource.requireInt("object_lock_days")
            let mode = try resource.requireString("object_lock_mode")
            if days > 0 {
                try await s3.putSubresource(name, "object-lock", body: """
                    <ObjectLockConfiguration \(namespace)><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>\
                    <Mode>\(mode)</Mode><Days>\(days)</Days></DefaultRetention></Rule></ObjectLockConfiguration>
                    """)
            }
        }
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let name = try recorded.requireID()
        try await configure(resource, name: name, changed: changed, context: context)
        return computed(name, context: context)
    }

    func deletionBlocker(_ recorded: ResourceState, context: HandlerContext) async throws -> String? {
        guard !context.emptyBuckets, let name = recorded.id else { return nil }
        // the stack's own objects go first, in the same destroy; anything else in the bucket is someone's data
        let own = Set(context.deletingObjects.filter { $0.hasPrefix(name + "/") }.map { String($0.dropFirst(name.count + 1)) })
        do {
            let versions = try await S3(client: context.client).listObjectVersions(name, limit: own.isEmpty ? 1 : nil)
            return versions.allSatisfy { own.contains($0.key) } ? nil : Self.notEmpty(name)
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
    }

    /// What an ACL grants everyone or every AWS user (`AllUsers READ`): ACL grants that make a bucket public.
    static func publicGrants(_ acl: XMLNode?) -> [String] {
        (acl?.child("AccessControlList")?.children("Grant") ?? []).compactMap { grant in
            guard let uri = grant.child("Grantee")?.child("URI")?.text,
                  let group = ["AllUsers", "AuthenticatedUsers"].first(where: { uri.hasSuffix("/global/" + $0) }) else { return nil }
            return "\(group) \(grant.child("Permission")?.text ?? "")"
        }.sorted()
    }

    private static func notEmpty(_ name: String) -> String {
        "bucket \(name) is not empty; destroy it with --empty-buckets to delete its objects too"
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let s3 = S3(client: context.client)
        let name = try recorded.requireID()
        do {
            let objects = try await s3.listObjectVersions(name, limit: context.emptyBuckets ? nil : 1)
            if !objects.isEmpty {
                guard context.emptyBuckets else { throw ProvisionError(Self.notEmpty(name)) }
                for object in objects { try await s3.deleteObjectVersion(bucket: name, key: object.key, versionID: object.versionID) }
            }
            try await s3.deleteBucket(name)
        } catch let error as AWSError where error.isNotFound {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let name = try resource.require("bucket")
        guard try await S3(client: context.client).listBuckets().contains(name) else { return nil }
        try await context.recordID(name)
        try await configure(resource, name: name, changed: Self.allProperties, context: context)
        return computed(name, context: context)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let s3 = S3(client: context.client)
        let existing = Set(try await s3.listBuckets())
        let found = resources.compactMap { resource in resource.id.flatMap { existing.contains($0) ? (resource.address, $0) : nil } }
        // the buckets at once, each with its subresources at once
        let live = try await withThrowingTaskGroup(of: (ResourceAddress, [String: Value]).self) { group in
            for (address, name) in found { group.addTask { (address, try await BucketRead.attributes(name, s3: s3)) } }
            var live: [ResourceAddress: [String: Value]] = [:]
            for try await (address, attributes) in group { live[address] = attributes }
            return live
        }
        return ReadResult(live: live, apiCalls: 1 + found.count * BucketRead.subresources.count)
    }
}
