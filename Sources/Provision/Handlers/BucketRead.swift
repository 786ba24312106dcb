import AWS
import Foundation
import Stack

/// A bucket's whole configuration as refresh reads it: every subresource fetched at once (a bucket costs one round
/// trip, not nine in a row), a missing one read as missing, never filled in from the state.
enum BucketRead {
    static let subresources = ["versioning", "publicAccessBlock", "encryption", "lifecycle", "ownershipControls", "acl", "logging",
                               "tagging", "policy", "replication", "notification", "cors", "object-lock"]

    /// The bucket's attributes, by the names the schema uses.
    static func attributes(_ name: String, s3: S3) async throws -> [String: Value] {
        let bodies = try await withThrowingTaskGroup(of: (String, Data?).self) { group in
            for subresource in subresources {
                group.addTask {
                    do {
                        return (subresource, try await s3.getSubresource(name, subresource))
                    } catch let error as AWSError where error.httpStatus == 404 {
                        return (subresource, nil)
                    }
                }
            }
            var bodies: [String: Data] = [:]
            for try await (subresource, body) in group { bodies[subresource] = body }
            return bodies
        }
        func xml(_ subresource: String) throws -> XMLNode? { try bodies[subresource].map { try XMLNode.parse($0) } }

        var attributes: [String: Value] = ["bucket": .string(name)]
        attributes["versioning"] = .bool(try xml("versioning")?.child("Status")?.text == "Enabled")
        let block = try xml("publicAccessBlock")
        attributes["block_public_access"] = .bool(["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
            .allSatisfy { block?.child($0)?.text == "true" })
        // no configuration is no encryption, never the state's memory of one
        let encryption = try xml("encryption")?.child("Rule")
        let byDefault = encryption?.child("ApplyServerSideEncryptionByDefault")
        attributes["sse_algorithm"] = byDefault?.child("SSEAlgorithm").map { .string($0.text) } ?? .null
        attributes["kms_key_id"] = byDefault?.child("KMSMasterKeyID").map { .string($0.text) } ?? .null
        attributes["bucket_key_enabled"] = .bool(encryption?.child("BucketKeyEnabled")?.text == "true")
        let lifecycle = try xml("lifecycle")
        attributes["lifecycle_expiration_days"] = BucketLifecycle.shortestExpiry(lifecycle).map(Value.int) ?? .null
        attributes["lifecycle_other_rules"] = .list(BucketLifecycle.otherRules(lifecycle).map(Value.string))
        let ownership = try xml("ownershipControls")?.child("Rule")?.child("ObjectOwnership")?.text
        // a bucket without ownership controls (made before 2023, or the controls deleted) honours ACLs
        attributes["object_ownership"] = .string(ownership ?? "ObjectWriter")
        attributes["public_acl_grants"] = .list(S3BucketHandler.publicGrants(try xml("acl")).map(Value.string))
        let logging = try xml("logging")?.child("LoggingEnabled")
        attributes["logging_target_bucket"] = logging?.child("TargetBucket").map { .string($0.text) } ?? .null
        attributes["logging_target_prefix"] = .string(logging?.child("TargetPrefix")?.text ?? "")
        var tags: [String: Value] = [:]
        for tag in try xml("tagging")?.child("TagSet")?.children("Tag") ?? [] {
            if let key = tag.child("Key")?.text { tags[key] = .string(tag.child("Value")?.text ?? "") }
        }
        attributes["tags"] = .map(tags)
        attributes["policy"] = bodies["policy"].map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null
        attributes["replication_rules"] = strings((try xml("replication")?.children("Rule") ?? []).enumerated().map { position, rule in
            let id = rule.child("ID")?.text ?? ""
            return "\(id.isEmpty ? "rule \(position + 1)" : id) to \(rule.child("Destination")?.child("Bucket")?.text ?? "?")"
        })
        let notification = try xml("notification")
        attributes["notification_targets"] = strings([("TopicConfiguration", "Topic"), ("QueueConfiguration", "Queue"),
                                                      ("CloudFunctionConfiguration", "CloudFunction")].flatMap { kind, field in
            (notification?.children(kind) ?? []).map { $0.child(field)?.text ?? kind }
        } + (notification?.child("EventBridgeConfiguration") == nil ? [] : ["EventBridge"]))
        attributes["cors_rules"] = strings((try xml("cors")?.children("CORSRule") ?? []).map { rule in
            let methods = rule.children("AllowedMethod").map(\.text).joined(separator: ",")
            return "\(methods) from \(rule.children("AllowedOrigin").map(\.text).joined(separator: ","))"
        })
        // no configuration (S3's 404) is no Object Lock; Object Lock without a default rule keeps nothing new either
        let retention = try xml("object-lock")?.child("Rule")?.child("DefaultRetention")
        let years = retention?.child("Years").flatMap { Int($0.text) } ?? 0
        attributes["object_lock_days"] = .int(retention?.child("Days").flatMap { Int($0.text) } ?? years * 365)
        attributes["object_lock_mode"] = .string(retention?.child("Mode")?.text ?? "COMPLIANCE")
        return attributes
    }

    private static func strings(_ texts: [String]) -> Value { .list(texts.map(Value.string)) }
}
