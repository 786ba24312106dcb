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

    /// Creates a bucket; outside us-east-1 the region goes in the body, as S3 requires.
    public func createBucket(_ name: String) async throws {
        let region = client.configuration.region
        let body = region == "us-east-1" ? Data() : Data("""
            <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
            <LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>
            """.utf8)
        _ = try await client.send(AWSOperation(service: .s3, name: "CreateBucket", method: "PUT", body: body, bucket: name))
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

    /// An object key as an encoded path; slashes stay, everything else outside the unreserved set is escaped.
    static func path(_ key: String) -> String {
        "/" + URIEncoding.encode(key, keepSlash: true)
    }
}
