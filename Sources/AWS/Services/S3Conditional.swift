import Foundation

/// An object's bytes as one GET read them, with what names that version.
public struct ObjectContent: Sendable {
    public var body: Data
    public var etag: String
    public var versionID: String?
    /// When S3 stored this version, by S3's clock.
    public var lastModified: Date?
    /// S3's clock when it answered (the `Date` header): what a lease is judged against, never this machine's clock.
    public var serverTime: Date?
}

/// What must hold for a conditional write to happen.
public enum WriteCondition: Sendable, Equatable {
    /// No object has the key (`If-None-Match: *`).
    case absent
    /// The current object has this ETag (`If-Match`).
    case matching(String)

    var header: (String, String) {
        switch self {
        case .absent: ("If-None-Match", "*")
        case .matching(let etag): ("If-Match", etag)
        }
    }
}

/// One version of an object, as ListObjectVersions lists it.
public struct ObjectVersion: Sendable, Equatable {
    public var versionID: String
    public var lastModified: Date?
    public var size: Int64
    public var isLatest: Bool
    /// A delete marker: the object was deleted here, and this version has no bytes.
    public var isDeleteMarker: Bool
}

extension S3 {
    /// The object (or one version of it) with its ETag and dates; nil when there is none. With `limit`, no more than
    /// `limit + 1` bytes are read (a `Range`), so an object planted to exhaust memory costs nothing: a body longer
    /// than `limit` means the object is larger.
    public func getObjectContent(bucket: String, key: String, versionID: String? = nil, limit: Int? = nil) async throws -> ObjectContent? {
        var headers: HTTPHeaders = [:]
        if let limit { headers.set("Range", "bytes=0-\(limit)") }
        let operation = AWSOperation(service: .s3, name: "GetObject", method: "GET", path: Self.path(key),
                                     query: versionID.map { [("versionId", $0)] } ?? [], headers: headers, bucket: bucket)
        let response: HTTPResponse
        do {
            response = try await client.send(operation)
        } catch let error as AWSError where error.httpStatus == 404 {
            return nil
        } catch let error as AWSError where error.httpStatus == 416 && limit != nil {
            // a range of an empty object is unsatisfiable: read it whole, which is nothing
            return try await getObjectContent(bucket: bucket, key: key, versionID: versionID, limit: nil)
        }
        return ObjectContent(body: response.body, etag: response.headers["ETag"] ?? "", versionID: response.headers["x-amz-version-id"],
                             lastModified: response.headers["Last-Modified"].flatMap(Timestamp.parseHTTPDate),
                             serverTime: response.headers["Date"].flatMap(Timestamp.parseHTTPDate))
    }

    /// Writes the object only if `condition` holds, so that of two writers racing on one ETag exactly one succeeds.
    /// Returns what was stored, or nil when S3 refused the write because the condition no longer held (412, or the
    /// 409 S3 answers to two conditional writes at the same instant): the caller reads again to learn why, since
    /// a retried write that had in fact succeeded is refused the same way.
    public func putObject(bucket: String, key: String, body: Data, condition: WriteCondition,
                          contentType: String = "application/json") async throws -> StoredObject? {
        let checksum = Data(Digest.sha256(body)).base64EncodedString()
        var headers: HTTPHeaders = ["Content-Type": contentType, "x-amz-checksum-sha256": checksum, "x-amz-sdk-checksum-algorithm": "SHA256"]
        headers.set(condition.header.0, condition.header.1)
        do {
            // sent again when its answer is lost, even inside a create that must not repeat: the condition makes a
            // second write fail rather than act twice, and the caller tells its own first write by reading back
            let response = try await RequestRetry.$mayRepeat.withValue(true) {
                try await client.send(AWSOperation(service: .s3, name: "PutObject", method: "PUT", path: Self.path(key),
                                                   headers: headers, body: body, bucket: bucket))
            }
            return StoredObject(etag: response.headers["ETag"], versionID: response.headers["x-amz-version-id"],
                                checksumSHA256: response.headers["x-amz-checksum-sha256"])
        } catch let error as AWSError where Self.isConditionFailure(error) || (condition != .absent && error.httpStatus == 404) {
            return nil  // (an If-Match on a key deleted meanwhile is answered 404: the condition failed all the same)
        }
    }

    /// Deletes the object only if its ETag is still `etag`: true when deleted (or already gone), false when another
    /// object has taken the key meanwhile, which is left alone.
    public func deleteObject(bucket: String, key: String, ifMatching etag: String) async throws -> Bool {
        do {
            _ = try await RequestRetry.$mayRepeat.withValue(true) {
                try await client.send(AWSOperation(service: .s3, name: "DeleteObject", method: "DELETE", path: Self.path(key),
                                                   headers: ["If-Match": etag], bucket: bucket))
            }
            return true
        } catch let error as AWSError where error.httpStatus == 404 {
            return true
        } catch let error as AWSError where Self.isConditionFailure(error) {
            return false
        }
    }

    /// Every version of one object, newest first, delete markers included.
    public func versions(bucket: String, key: String) async throws -> [ObjectVersion] {
        try await versionEntries(bucket, prefix: Self.listingPrefix(for: key)).filter { $0.child("Key")?.text == key }.map { entry in
            ObjectVersion(versionID: entry.child("VersionId")?.text ?? "null",
                          lastModified: (entry.child("LastModified")?.text).flatMap(Timestamp.parseISO8601),
                          size: Int64(entry.child("Size")?.text ?? "") ?? 0, isLatest: entry.child("IsLatest")?.text == "true",
                          isDeleteMarker: entry.name == "DeleteMarker")
        }
    }

    static func isConditionFailure(_ error: AWSError) -> Bool {
        error.httpStatus == 412 || (error.httpStatus == 409 && error.code == "ConditionalRequestConflict")
    }
}
