import AWS
import Foundation
import Hashing
import Stack

/// Puts one local file into S3 as it was planned: small files in one PUT, larger ones as a multipart upload whose
/// parts are streamed from disk with a bounded number in flight, each with its SHA-256 for S3 to check. The upload
/// id and every finished part are journaled, so a run killed part-way continues with ListParts and sends only what
/// is missing; uploads of the key left open by earlier runs are aborted once the object is complete.
struct S3ObjectUpload {
    let s3: S3
    let bucket: String
    let key: String
    let artifact: LocalArtifact
    let encryption: ObjectEncryption
    let tags: [String: String]
    let contentType: String
    let partSize: Int64
    /// What an interrupted run recorded, and where to record how far this one gets.
    let progress: Value?
    let record: @Sendable (Value?) async throws -> Void
    /// Parts sent at once.
    var concurrency = 4

    /// The digest kept in the object's metadata, which later plans compare with the local file's.
    static let digestMetadata = "sha256"

    func run() async throws -> StoredObject {
        // every call here may be repeated: a part sent twice replaces itself, and a duplicate upload is swept below
        try await RequestRetry.$mayRepeat.withValue(true) {
            artifact.size <= partSize ? try await single() : try await multipart()
        }
    }

    private var metadata: [String: String] { [Self.digestMetadata: artifact.sha256] }

    private func single() async throws -> StoredObject {
        guard let digest = Hex.decode(artifact.sha256) else { throw ProvisionError("s3://\(bucket)/\(key): malformed digest") }
        let file = FileBody(path: artifact.path, offset: artifact.offset, length: artifact.size, sha256: digest)
        do {
            return try await s3.putObject(bucket: bucket, key: key, file: file, metadata: metadata, encryption: encryption, tags: tags,
                                          contentType: contentType)
        } catch let error as AWSError where error.code == "BadDigest" || error.code == "XAmzContentSHA256Mismatch" {
            throw changedSincePlan()
        }
    }

    private func changedSincePlan() -> ProvisionError {
        ProvisionError("\(artifact.path) changed after it was planned (its SHA-256 is no longer \(artifact.sha256)); plan again")
    }

    private func multipart() async throws -> StoredObject {
        let count = (artifact.size + partSize - 1) / partSize
        guard count <= 10_000 else {
            throw ProvisionError("\(artifact.path) needs \(count) parts of \(partSize >> 20) MiB; S3 takes at most 10,000: raise multipart_part_mib")
        }
        let local: (size: Int64, whole: [UInt8], parts: [[UInt8]])
        do {
            local = try FileDigest.parts(path: artifact.path, offset: artifact.offset, length: artifact.size, partSize: partSize)
        } catch {
            throw ProvisionError("s3://\(bucket)/\(key): \(error.description)")
        }
        guard local.size == artifact.size, Hex.encode(local.whole) == artifact.sha256 else { throw changedSincePlan() }
        let checksums = local.parts.map { Data($0).base64EncodedString() }

        var (uploadID, finished) = try await resumable(checksums)
        if uploadID == nil {
            let id = try await s3.createMultipartUpload(bucket: bucket, key: key, metadata: metadata, encryption: encryption, tags: tags,
                                                       contentType: contentType)
            try await record(journal(id, []))
            uploadID = id
        }
        guard let uploadID else { preconditionFailure("an upload id was just made") }

        let missing = (1...checksums.count).filter { finished[$0] == nil }
        var next = missing.makeIterator()
        try await withThrowingTaskGroup(of: UploadedPart.self) { group in
            func start(_ number: Int) {
                let offset = Int64(number - 1) * partSize
                let file = FileBody(path: artifact.path, offset: artifact.offset + offset, length: min(partSize, artifact.size - offset),
                                    sha256: local.parts[number - 1])
                group.addTask { try await s3.uploadPart(bucket: bucket, key: key, uploadID: uploadID, number: number, file: file) }
            }
            for _ in 0..<concurrency { if let number = next.next() { start(number) } }
            for try await part in group {
                finished[part.number] = part
                try await record(journal(uploadID, finished.values.sorted { $0.number < $1.number }))
                if let number = next.next() { start(number) }
            }
        }

        let parts = (1...checksums.count).compactMap { finished[$0] }
        var stored = try await complete(uploadID, parts, size: local.size)
        try await sweep(except: uploadID)
        if stored.checksumSHA256 == nil { stored.checksumSHA256 = try await s3.headObject(bucket: bucket, key: key)?.checksumSHA256 }
        let expected = Self.compositeChecksum(local.parts)
        // S3 writes the part count after the digest; some compatible stores leave it off
        if let checksum = stored.checksumSHA256, checksum.split(separator: "-").first.map(String.init) != expected {
            throw ProvisionError("s3://\(bucket)/\(key): S3 holds checksum \(checksum) after the upload, not \(expected)-\(parts.count)")
        }
        return stored
    }

    /// The upload an earlier run recorded, if it is for this file and S3 still has it, with the parts S3 holds that
    /// are this file's: by the checksum S3 lists, or (where it lists none, as some S3-compatible stores do) by the ETag
    /// the journal recorded for a part of this checksum. A part that differs is sent again.
    private func resumable(_ checksums: [String]) async throws -> (String?, [Int: UploadedPart]) {
        guard case .map(let recorded)? = progress, let id = recorded["upload_id"]?.stringValue,
              recorded["sha256"]?.stringValue == artifact.sha256, recorded["part_size"]?.intValue == Int(partSize) else {
            return (nil, [:])
        }
        var journaled: [Int: (etag: String, checksum: String)] = [:]
        for case .map(let part) in recorded["parts"]?.listValue ?? [] {
            if let number = part["number"]?.intValue, let etag = part["etag"]?.stringValue, let checksum = part["checksum"]?.stringValue {
                journaled[number] = (etag, checksum)
            }
        }
        guard let held = try await s3.listParts(bucket: bucket, key: key, uploadID: id) else { return (nil, [:]) }
        var finished: [Int: UploadedPart] = [:]
        for part in held where part.number >= 1 && part.number <= checksums.count {
            let expected = checksums[part.number - 1]
            let same = part.checksumSHA256.isEmpty
                ? journaled[part.number].map { $0.etag == part.etag && $0.checksum == expected } ?? false
                : part.checksumSHA256 == expected
            if same { finished[part.number] = UploadedPart(number: part.number, etag: part.etag, checksumSHA256: expected) }
        }
        return (id, finished)
    }

    private func journal(_ uploadID: String, _ parts: [UploadedPart]) -> Value {
        .map(["upload_id": .string(uploadID), "sha256": .string(artifact.sha256), "part_size": .int(Int(partSize)),
              "parts": .list(parts.map { .map(["number": .int($0.number), "etag": .string($0.etag), "checksum": .string($0.checksumSHA256)]) })])
    }

    /// Completes the upload; when an earlier attempt's answer was lost and the upload is gone, the object it made
    /// stands in, if it is this file.
    private func complete(_ uploadID: String, _ parts: [UploadedPart], size: Int64) async throws -> StoredObject {
        do {
            return try await s3.completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, parts: parts)
        } catch let error as AWSError where error.code == "NoSuchUpload" {
            guard let head = try await s3.headObject(bucket: bucket, key: key), head.metadata[Self.digestMetadata] == artifact.sha256,
                  head.size == size else { throw error }
            return StoredObject(etag: head.etag, versionID: head.versionID, checksumSHA256: head.checksumSHA256)
        }
    }

    /// Aborts the key's other open uploads: those of runs killed before they could journal their id.
    private func sweep(except uploadID: String) async throws {
        for upload in try await s3.listMultipartUploads(bucket: bucket, prefix: S3.listingPrefix(for: key)) where upload.key == key && upload.uploadID != uploadID {
            try await s3.abortMultipartUpload(bucket: bucket, key: key, uploadID: upload.uploadID)
        }
    }

    /// The checksum S3 gives a multipart object (before its `-count`): the SHA-256 of the parts' digests in order.
    static func compositeChecksum(_ parts: [[UInt8]]) -> String {
        Data(SHA256.digest(parts.flatMap { $0 })).base64EncodedString()
    }
}
