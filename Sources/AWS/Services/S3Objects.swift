import Foundation
import TextSafety

/// How S3 encrypts an object at rest: SSE-KMS under a named key, or S3's own keys.
public struct ObjectEncryption: Sendable, Equatable {
    public var kmsKeyID: String?

    public init(kmsKeyID: String?) {
        self.kmsKeyID = kmsKeyID
    }

    var headers: HTTPHeaders {
        var headers: HTTPHeaders = [:]
        if let kmsKeyID {
            headers.set("x-amz-server-side-encryption", "aws:kms")
            headers.set("x-amz-server-side-encryption-aws-kms-key-id", kmsKeyID)
        }
        return headers
    }
}

/// What HeadObject says of an object.
public struct ObjectHead: Sendable, Equatable {
    public var size: Int64
    public var etag: String?
    public var versionID: String?
    /// User metadata (`x-amz-meta-*`), by lower-case name without the prefix.
    public var metadata: [String: String]
    public var contentType: String?
    /// `AES256`, `aws:kms`, ...
    public var serverSideEncryption: String?
    public var kmsKeyID: String?
    /// The object's SHA-256 checksum as S3 keeps it (base64; `-N` after a multipart upload's composite).
    public var checksumSHA256: String?
}

/// One part of a multipart upload as S3 holds it.
public struct UploadedPart: Sendable, Equatable, Codable {
    public var number: Int
    public var etag: String
    /// Base64 SHA-256 of the part's bytes.
    public var checksumSHA256: String

    public init(number: Int, etag: String, checksumSHA256: String) {
        self.number = number
        self.etag = etag
        self.checksumSHA256 = checksumSHA256
    }
}

/// What a finished upload left in the bucket.
public struct StoredObject: Sendable, Equatable {
    public var etag: String?
    public var versionID: String?
    public var checksumSHA256: String?

    public init(etag: String?, versionID: String?, checksumSHA256: String?) {
        self.etag = etag
        self.versionID = versionID
        self.checksumSHA256 = checksumSHA256
    }
}

extension S3 {
    /// The object's size, metadata, encryption and checksum; nil when there is no such object.
    public func headObject(bucket: String, key: String) async throws -> ObjectHead? {
        let response: HTTPResponse
        do {
            response = try await client.send(AWSOperation(service: .s3, name: "HeadObject", method: "HEAD", path: Self.path(key),
                                                          headers: ["x-amz-checksum-mode": "ENABLED"], bucket: bucket))
        } catch let error as AWSError where error.httpStatus == 404 {
            return nil
        }
        let headers = response.headers
        var metadata: [String: String] = [:]
        for (name, value) in headers where name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(name.lowercased().dropFirst("x-amz-meta-".count))] = value
        }
        return ObjectHead(size: Int64(headers["Content-Length"] ?? "") ?? 0, etag: headers["ETag"], versionID: headers["x-amz-version-id"],
                          metadata: metadata, contentType: headers["Content-Type"], serverSideEncryption: headers["x-amz-server-side-encryption"],
                          kmsKeyID: headers["x-amz-server-side-encryption-aws-kms-key-id"], checksumSHA256: headers["x-amz-checksum-sha256"])
    }

    /// Uploads a whole file in one PUT, streamed from disk, with its SHA-256 checked by S3.
    public func putObject(bucket: String, key: String, file: FileBody, metadata: [String: String], encryption: ObjectEncryption,
                          tags: [String: String], contentType: String) async throws -> StoredObject {
        var headers = objectHeaders(metadata: metadata, encryption: encryption, tags: tags, contentType: contentType)
        headers.set("x-amz-checksum-sha256", Data(file.sha256).base64EncodedString())
        headers.set("x-amz-sdk-checksum-algorithm", "SHA256")
        let response = try await client.send(AWSOperation(service: .s3, name: "PutObject", method: "PUT", path: Self.path(key),
                                                          headers: headers, bodyFile: file, bucket: bucket))
        return StoredObject(etag: response.headers["ETag"], versionID: response.headers["x-amz-version-id"],
                            checksumSHA256: response.headers["x-amz-checksum-sha256"])
    }

    /// Starts a multipart upload whose parts carry SHA-256 checksums; returns its upload id.
    public func createMultipartUpload(bucket: String, key: String, metadata: [String: String], encryption: ObjectEncryption,
                                      tags: [String: String], contentType: String) async throws -> String {
        var headers = objectHeaders(metadata: metadata, encryption: encryption, tags: tags, contentType: contentType)
        headers.set("x-amz-checksum-algorithm", "SHA256")
        let response = try await client.send(AWSOperation(service: .s3, name: "CreateMultipartUpload", method: "POST", path: Self.path(key),
                                                          query: [("uploads", "")], headers: headers, bucket: bucket))
        let root = try AWSClient.parseXML(response, service: .s3, operation: "CreateMultipartUpload")
        guard let id = root.child("UploadId")?.text, !id.isEmpty else {
            throw AWSError(category: .malformedResponse, service: "s3", operation: "CreateMultipartUpload", code: "MalformedResponse",
                           message: "the answer holds no UploadId", httpStatus: response.status)
        }
        return id
    }

    /// Sends one part, streamed from its range of the file; returns it as S3 recorded it.
    public func uploadPart(bucket: String, key: String, uploadID: String, number: Int, file: FileBody) async throws -> UploadedPart {
        let checksum = Data(file.sha256).base64EncodedString()
        let response = try await client.send(AWSOperation(service: .s3, name: "UploadPart", method: "PUT", path: Self.path(key),
                                                          query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                                          headers: ["x-amz-checksum-sha256": checksum, "x-amz-sdk-checksum-algorithm": "SHA256"],
                                                          bodyFile: file, bucket: bucket))
        return UploadedPart(number: number, etag: response.headers["ETag"] ?? "", checksumSHA256: response.headers["x-amz-checksum-sha256"] ?? checksum)
    }

    /// The parts S3 holds for an upload, following pages; nil when the upload no longer exists.
    public func listParts(bucket: String, key: String, uploadID: String) async throws -> [UploadedPart]? {
        var parts: [UploadedPart] = []
        var marker: String?
        repeat {
            var query: [(String, String)] = [("uploadId", uploadID)]
            if let marker { query.append(("part-number-marker", marker)) }
            let response: HTTPResponse
            do {
                response = try await client.send(AWSOperation(service: .s3, name: "ListParts", method: "GET", path: Self.path(key),
                                                              query: query, bucket: bucket))
            } catch let error as AWSError where error.code == "NoSuchUpload" || error.httpStatus == 404 {
                return nil
            }
            let root = try AWSClient.parseXML(response, service: .s3, operation: "ListParts")
            for part in root.children("Part") {
                guard let number = part.child("PartNumber").flatMap({ Int($0.text) }) else { continue }
                parts.append(UploadedPart(number: number, etag: part.child("ETag")?.text ?? "",
                                          checksumSHA256: part.child("ChecksumSHA256")?.text ?? ""))
            }
            marker = root.child("IsTruncated")?.text == "true" ? root.child("NextPartNumberMarker")?.text : nil
        } while marker != nil
        return parts
    }

    /// Joins the parts into the object.
    public func completeMultipartUpload(bucket: String, key: String, uploadID: String, parts: [UploadedPart]) async throws -> StoredObject {
        let list = parts.sorted { $0.number < $1.number }.map { part in
            "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(SafeText.xmlEscaped(part.etag))</ETag>"
                + "<ChecksumSHA256>\(part.checksumSHA256)</ChecksumSHA256></Part>"
        }
        let body = Data("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\(list.joined())</CompleteMultipartUpload>".utf8)
        let response = try await client.send(AWSOperation(service: .s3, name: "CompleteMultipartUpload", method: "POST", path: Self.path(key),
                                                          query: [("uploadId", uploadID)], headers: ["Content-Type": "application/xml"],
                                                          body: body, bucket: bucket))
        // S3 may answer 200 with an error document when the join fails after it started
        let root = try AWSClient.parseXML(response, service: .s3, operation: "CompleteMultipartUpload")
        if root.name == "Error" {
            throw AWSError(category: .service, service: "s3", operation: "CompleteMultipartUpload", code: root.child("Code")?.text ?? "InternalError",
                           message: root.child("Message")?.text ?? "the upload could not be completed", httpStatus: response.status,
                           requestID: root.child("RequestId")?.text)
        }
        return StoredObject(etag: root.child("ETag")?.text, versionID: response.headers["x-amz-version-id"],
                            checksumSHA256: root.child("ChecksumSHA256")?.text)
    }

    /// Abandons an upload and frees its parts; one already gone is not an error.
    public func abortMultipartUpload(bucket: String, key: String, uploadID: String) async throws {
        do {
            _ = try await client.send(AWSOperation(service: .s3, name: "AbortMultipartUpload", method: "DELETE", path: Self.path(key),
                                                   query: [("uploadId", uploadID)], bucket: bucket))
        } catch let error as AWSError where error.code == "NoSuchUpload" || error.httpStatus == 404 {}
    }

    /// Uploads begun and neither completed nor aborted, under `prefix`, as (key, upload id).
    public func listMultipartUploads(bucket: String, prefix: String) async throws -> [(key: String, uploadID: String)] {
        var found: [(key: String, uploadID: String)] = []
        var keyMarker: String?, uploadMarker: String?
        repeat {
            var query: [(String, String)] = [("uploads", ""), ("prefix", prefix)]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let uploadMarker { query.append(("upload-id-marker", uploadMarker)) }
            let response = try await client.send(AWSOperation(service: .s3, name: "ListMultipartUploads", method: "GET", query: query, bucket: bucket))
            let root = try AWSClient.parseXML(response, service: .s3, operation: "ListMultipartUploads")
            for upload in root.children("Upload") {
                if let key = upload.child("Key")?.text, let id = upload.child("UploadId")?.text { found.append((key, id)) }
            }
            let truncated = root.child("IsTruncated")?.text == "true"
            keyMarker = truncated ? root.child("NextKeyMarker")?.text : nil
            uploadMarker = truncated ? root.child("NextUploadIdMarker")?.text : nil
        } while keyMarker != nil
        return found
    }

    /// The object's tags.
    public func objectTags(bucket: String, key: String) async throws -> [String: String] {
        let response = try await client.send(AWSOperation(service: .s3, name: "GetObjectTagging", method: "GET", path: Self.path(key),
                                                          query: [("tagging", "")], bucket: bucket))
        let root = try AWSClient.parseXML(response, service: .s3, operation: "GetObjectTagging")
        var tags: [String: String] = [:]
        for tag in root.child("TagSet")?.children("Tag") ?? [] {
            if let name = tag.child("Key")?.text { tags[name] = tag.child("Value")?.text ?? "" }
        }
        return tags
    }

    /// Replaces the object's tags.
    public func putObjectTags(bucket: String, key: String, tags: [String: String]) async throws {
        let set = tags.keys.sorted().map { "<Tag><Key>\(SafeText.xmlEscaped($0))</Key><Value>\(SafeText.xmlEscaped(tags[$0] ?? ""))</Value></Tag>" }
        let body = Data("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>\(set.joined())</TagSet></Tagging>".utf8)
        let checksum = Data(Digest.sha256(body)).base64EncodedString()
        _ = try await client.send(AWSOperation(service: .s3, name: "PutObjectTagging", method: "PUT", path: Self.path(key),
                                               query: [("tagging", "")],
                                               headers: ["Content-Type": "application/xml", "x-amz-checksum-sha256": checksum,
                                                         "x-amz-sdk-checksum-algorithm": "SHA256"],
                                               body: body, bucket: bucket))
    }

    private func objectHeaders(metadata: [String: String], encryption: ObjectEncryption, tags: [String: String],
                               contentType: String) -> HTTPHeaders {
        var headers = encryption.headers
        headers.set("Content-Type", contentType)
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) { headers.set("x-amz-meta-\(name)", value) }
        if !tags.isEmpty { headers.set("x-amz-tagging", URIEncoding.formEncode(tags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })) }
        return headers
    }

    /// The prefix to list `key`'s uploads or versions under: its first path segment. Some S3-compatible endpoints
    /// (moto among them) check signatures against a query whose `%2F` they decoded, so a prefix holding a slash
    /// fails there; callers filter the answer to the key itself.
    public static func listingPrefix(for key: String) -> String {
        key.firstIndex(of: "/").map { String(key[..<$0]) } ?? key
    }
}
