import AWS
import Foundation
import Plan
import Stack

/// `aws.s3.object`: a local file (the server binary, a model, a keys file) as an object, encrypted with the stack's
/// key, its SHA-256 in the object's metadata so that a plan sees a changed file without downloading anything.
struct S3ObjectHandler: ResourceHandler {
    let type = "aws.s3.object"
    private static let write = ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:ListBucketMultipartUploads",
                                "s3:AbortMultipartUpload", "s3:PutObjectTagging", "kms:GenerateDataKey", "kms:Decrypt"]
    let actions = HandlerActions(create: write, read: ["s3:GetObject", "s3:GetObjectTagging", "kms:Decrypt"], update: write,
                                 delete: ["s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucketMultipartUploads",
                                          "s3:AbortMultipartUpload"])

    /// Properties whose change rewrites the object; the others change nothing in S3 (`source`, the part size) or only
    /// its tags.
    private static let content: Set<String> = ["sha256", "size", "kms_key_id", "content_type"]

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let (bucket, key) = (try resource.require("bucket"), try resource.require("key"))
        try await context.recordID(Self.id(bucket, key))
        return computed(bucket, key, try await upload(resource, context: context))
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let (bucket, key) = (try resource.require("bucket"), try resource.require("key"))
        let s3 = S3(client: context.client)
        if !changed.isDisjoint(with: Self.content) {
            return computed(bucket, key, try await upload(resource, context: context))
        }
        if changed.contains("tags") { try await s3.putObjectTags(bucket: bucket, key: key, tags: resource.tags) }
        let head = try await s3.headObject(bucket: bucket, key: key)
        return computed(bucket, key, StoredObject(etag: head?.etag, versionID: head?.versionID, checksumSHA256: head?.checksumSHA256))
    }

    private func upload(_ resource: DesiredResource, context: HandlerContext) async throws -> StoredObject {
        guard let artifact = resource.artifact else { throw ProvisionError("\(resource.address): no local file to upload") }
        let upload = S3ObjectUpload(s3: S3(client: context.client), bucket: try resource.require("bucket"), key: try resource.require("key"),
                                    artifact: artifact, encryption: ObjectEncryption(kmsKeyID: resource.string("kms_key_id")),
                                    tags: resource.tags, contentType: try resource.require("content_type"),
                                    partSize: Int64(try resource.requireInt("multipart_part_mib")) << 20,
                                    progress: context.progress, record: context.recordProgress)
        return try await upload.run()
    }

    private func computed(_ bucket: String, _ key: String, _ stored: StoredObject) -> [String: Value] {
        ["id": .string(Self.id(bucket, key)), "version_id": stored.versionID.map(Value.string) ?? .null,
         "etag": stored.etag.map(Value.string) ?? .null]
    }

    static func id(_ bucket: String, _ key: String) -> String { "\(bucket)/\(key)" }

    /// The bucket and key of a recorded object.
    private static func location(_ recorded: ResourceState) throws -> (bucket: String, key: String) {
        if let bucket = recorded.attributes["bucket"]?.stringValue, let key = recorded.attributes["key"]?.stringValue { return (bucket, key) }
        let id = try recorded.requireID()
        guard let slash = id.firstIndex(of: "/") else { throw ProvisionError("\(recorded.address): id '\(id)' is not bucket/key") }
        return (String(id[..<slash]), String(id[id.index(after: slash)...]))
    }

    /// Deletes every version of the key (the object's history is deploy's, and a versioned bucket cannot be deleted
    /// while it holds them) and aborts the uploads left open for it.
    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let (bucket, key) = try Self.location(recorded)
        let s3 = S3(client: context.client)
        do {
            for upload in try await s3.listMultipartUploads(bucket: bucket, prefix: S3.listingPrefix(for: key)) where upload.key == key {
                try await s3.abortMultipartUpload(bucket: bucket, key: key, uploadID: upload.uploadID)
            }
            for version in try await s3.listObjectVersions(bucket, prefix: S3.listingPrefix(for: key)) where version.key == key {
                try await s3.deleteObjectVersion(bucket: bucket, key: key, versionID: version.versionID)
            }
        } catch let error as AWSError where error.isNotFound {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let (bucket, key) = (try resource.require("bucket"), try resource.require("key"))
        guard let head = try await S3(client: context.client).headObject(bucket: bucket, key: key),
              head.metadata[S3ObjectUpload.digestMetadata] == resource.artifact?.sha256 else { return nil }
        try await context.recordID(Self.id(bucket, key))
        return computed(bucket, key, StoredObject(etag: head.etag, versionID: head.versionID, checksumSHA256: head.checksumSHA256))
    }

    /// The objects at once, each with its head and its tags.
    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let s3 = S3(client: context.client)
        let live = try await withThrowingTaskGroup(of: (ResourceAddress, [String: Value]?).self) { group in
            for resource in resources {
                let (bucket, key) = try Self.location(resource)
                group.addTask { (resource.address, try await Self.read(bucket: bucket, key: key, recorded: resource, s3: s3)) }
            }
            var live: [ResourceAddress: [String: Value]] = [:]
            for try await (address, attributes) in group { live[address] = attributes }
            return live
        }
        return ReadResult(live: live, apiCalls: resources.count + live.count)
    }

    private static func read(bucket: String, key: String, recorded: ResourceState, s3: S3) async throws -> [String: Value]? {
        let found: ObjectHead?
        do {
            found = try await s3.headObject(bucket: bucket, key: key)
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
        guard let head = found else { return nil }
        var attributes: [String: Value] = ["bucket": .string(bucket), "key": .string(key), "size": .int(Int(head.size)),
                                           "sha256": head.metadata[S3ObjectUpload.digestMetadata].map(Value.string) ?? .null,
                                           "kms_key_id": head.serverSideEncryption == "aws:kms" ? head.kmsKeyID.map(Value.string) ?? .null : .null,
                                           "version_id": head.versionID.map(Value.string) ?? .null, "etag": head.etag.map(Value.string) ?? .null]
        // the digest is metadata anyone who may write the object can copy onto other bytes: an object that is not the
        // version (or, unversioned, the ETag) deploy uploaded is not known to hold the planned bytes
        let recordedVersion = recorded.attributes["version_id"]?.stringValue, recordedETag = recorded.attributes["etag"]?.stringValue
        if let recordedETag, head.etag != recordedETag || (recordedVersion.map { $0 != "null" && head.versionID != $0 } ?? false) {
            attributes["sha256"] = .string("unknown: replaced outside deploy (ETag \(head.etag ?? "none"))")
        }
        if let type = head.contentType { attributes["content_type"] = .string(type) }
        attributes["tags"] = .map(try await s3.objectTags(bucket: bucket, key: key).mapValues(Value.string))
        return attributes
    }
}
