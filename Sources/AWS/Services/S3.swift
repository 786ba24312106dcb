import Foundation

/// Amazon S3 (REST-XML).
public struct S3: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    /// Names of the buckets the caller owns.
    public func listBuckets() async throws -> [String] {
        let response = try await client.send(AWSOperation(service: .s3, name: "ListBuckets", method: "GET"))
        let root = try AWSClient.parseXML(response, service: .s3, operation: "ListBuckets")
        return root.child("Buckets")?.children("Bucket").compactMap { $0.child("Name")?.text } ?? []
    }

    /// Creates a bucket; outside us-east-1 the region goes in the body, as S3 requires. `objectLock` creates it with
    /// S3 Object Lock on (and versioning with it).
    public func createBucket(_ name: String, objectLock: Bool = false) async throws {
        let region = client.configuration.region
        let body = region == "us-east-1" ? Data() : Data("""
            <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
            <LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>
            """.utf8)
        _ = try await client.send(AWSOperation(service: .s3, name: "CreateBucket", method: "PUT",
                                               headers: objectLock ? ["x-amz-bucket-object-lock-enabled": "true"] : [:],
                                               body: body, bucket: name))
    }

    public func deleteBucket(_ name: String) async throws {
        _ = try await client.send(AWSOperation(service: .s3, name: "DeleteBucket", method: "DELETE", bucket: name))
    }

    public func putObject(bucket: String, key: String, body: Data, contentType: String = "application/octet-stream") async throws {
        _ = try await client.send(AWSOperation(service: .s3, name: "PutObject", method: "PUT", path: Self.path(key),
                                               headers: ["Content-Type": contentType], body: body, bucket: bucket))
    }

    public func getObject(bucket: String, key: String) async throws -> Data {
        try await client.send(AWSOperation(service: .s3, name: "GetObject", method: "GET", path: Self.path(key),
                                           bucket: bucket)).body
    }

    public func deleteObject(bucket: String, key: String) async throws {
        _ = try await client.send(AWSOperation(service: .s3, name: "DeleteObject", method: "DELETE", path: Self.path(key),
                                               bucket: bucket))
    }

    /// What S3's operations on a subresource are named after: `BucketVersioning` for `versioning`, and
    /// `ObjectLockConfiguration` for `object-lock`.
    static func operationNoun(_ subresource: String) -> String {
        subresource == "object-lock" ? "ObjectLockConfiguration" : "Bucket\(subresource.prefix(1).uppercased())\(subresource.dropFirst())"
    }

    /// PUTs a bucket subresource (`?versioning`, `?encryption`, ...) with an XML or JSON body and its SHA-256 checksum,
    /// which S3 requires for some of them in place of Content-MD5.
    public func putSubresource(_ bucket: String, _ subresource: String, body: String,
                               contentType: String = "application/xml") async throws {
        let data = Data(body.utf8)
        let checksum = Data(Digest.sha256(data)).base64EncodedString()
        _ = try await client.send(AWSOperation(service: .s3, name: "Put" + Self.operationNoun(subresource),
                                               method: "PUT", query: [(subresource, "")],
                                               headers: ["Content-Type": contentType, "x-amz-checksum-sha256": checksum,
                                                         "x-amz-sdk-checksum-algorithm": "SHA256"],
                                               body: data, bucket: bucket))
    }

    /// Replaces a bucket's ACL with a canned one (`private`: the owner alone, every other grant gone).
    public func putCannedACL(_ bucket: String, _ acl: String) async throws {
        _ = try await client.send(AWSOperation(service: .s3, name: "PutBucketAcl", method: "PUT", query: [("acl", "")],
                                               headers: ["x-amz-acl": acl], body: Data(), bucket: bucket))
    }

    /// GETs a bucket subresource; the answer's body (XML, or JSON for `?policy`).
    public func getSubresource(_ bucket: String, _ subresource: String) async throws -> Data {
        try await client.send(AWSOperation(service: .s3, name: "Get" + Self.operationNoun(subresource),
                                           method: "GET", query: [(subresource, "")], bucket: bucket)).body
    }

    /// DELETEs a bucket subresource (a policy, a public access block, tags).
    public func deleteSubresource(_ bucket: String, _ subresource: String) async throws {
        _ = try await client.send(AWSOperation(service: .s3, name: "DeleteBucket\(subresource.prefix(1).uppercased())\(subresource.dropFirst())",
                                               method: "DELETE", query: [(subresource, "")], bucket: bucket))
    }

    /// Every version and delete marker in a bucket, as (key, version id) pairs, following pages.
    public func listObjectVersions(_ bucket: String, prefix: String? = nil, limit: Int? = nil) async throws -> [(key: String, versionID: String)] {
        try await versionEntries(bucket, prefix: prefix, limit: limit).compactMap { entry in
            (entry.child("Key")?.text).map { (key: $0, versionID: entry.child("VersionId")?.text ?? "null") }
        }
    }

    /// The `Version` and `DeleteMarker` entries of ListObjectVersions in the order S3 lists them (a key's versions
    /// and delete markers together, newest first), following pages; with `limit`, stopping once that many are read.
    func versionEntries(_ bucket: String, prefix: String?, limit: Int? = nil) async throws -> [XMLNode] {
        var found: [XMLNode] = []
        var keyMarker: String?
        var versionMarker: String?
        repeat {
            var query: [(String, String)] = [("versions", "")]
            if let prefix { query.append(("prefix", prefix)) }
            if let limit { query.append(("max-keys", String(limit))) }
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let versionMarker { query.append(("version-id-marker", versionMarker)) }
            let response = try await client.send(AWSOperation(service: .s3, name: "ListObjectVersions", method: "GET", query: query,
                                                              bucket: bucket))
            let root = try AWSClient.parseXML(response, service: .s3, operation: "ListObjectVersions")
            found += root.children.filter { ["Version", "DeleteMarker"].contains($0.name) }
            if let limit, found.count >= limit { return found }
            let truncated = root.child("IsTruncated")?.text == "true"
            keyMarker = truncated ? root.child("NextKeyMarker")?.text : nil
            versionMarker = truncated ? root.child("NextVersionIdMarker")?.text : nil
        } while keyMarker != nil
        return found
    }

    /// Deletes one version of an object.
    public func deleteObjectVersion(bucket: String, key: String, versionID: String) async throws {
        _ = try await client.send(AWSOperation(service: .s3, name: "DeleteObject", method: "DELETE", path: Self.path(key),
                                               query: [("versionId", versionID)], bucket: bucket))
    }

    /// An object key as an encoded path; slashes stay, everything else outside the unreserved set is escaped.
    static func path(_ key: String) -> String {
        "/" + URIEncoding.encode(key, keepSlash: true)
    }
}
