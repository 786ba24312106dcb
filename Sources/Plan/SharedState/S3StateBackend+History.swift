import AWS
import Foundation
import Hashing
import Stack

/// A shared state's versions, and one written back as the newest.
extension S3StateBackend {
    /// Writes the state an earlier version holds back as the newest snapshot: the serial after every snapshot ever
    /// written (its marker the highest), naming the current version (or, when the state was deleted, the newest
    /// kept) as its predecessor. The version must still open under the state's key; the current one is replaced
    /// whatever it holds. The caller holds the lock.
    public func restore(versionID: String, for stack: StackFile) async throws -> (state: State, serial: Int) {
        guard let old = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, versionID: versionID, limit: Self.objectLimit)
        else {
            throw StateError(.unreadable, path: settings.url, "has no version \(versionID) with a state in it (deploy state history lists them)")
        }
        let snapshot = try decodeSnapshot(old.body, version: versionID)
        let state = try StateStore.decode(Data(try await open(snapshot, floor: nil)), path: "\(settings.url) version \(versionID)")
        guard state.stack == stack.name, state.account == stack.account else {
            throw StateError(.wrongStack, path: settings.url, "version \(versionID) records stack '\(state.stack)' in account "
                                 + "\(state.account), not \(stack.name) in \(stack.account); nothing was restored")
        }
        let predecessor: Data
        if let current = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, limit: Self.objectLimit) {
            predecessor = current.body
            etag = current.etag
            // the current snapshot's marker first, if it is one deploy sealed: a restore leaves no gap below itself
            if let sealed = try? JSONDecoder().decode(SealedSnapshot.self, from: current.body),
               SealedSnapshot.serialRange.contains(sealed.serial), (try? await open(sealed, floor: nil)) != nil {
                try await writeMarker(SealedSnapshot.Seen(serial: sealed.serial, sha256: SHA256.hex(Array(current.body))))
            }
        } else {
            let versions = try await s3.versions(bucket: settings.bucket, key: settings.key)
            guard let kept = versions.first(where: { !$0.isDeleteMarker }),
                  let body = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, versionID: kept.versionID,
                                                           limit: Self.objectLimit)?.body else {
                throw StateError(.unreadable, path: settings.url, "has no version left to restore after")
            }
            predecessor = body
            etag = nil
        }
        var highest = max(newestKnown()?.serial ?? 0, snapshot.serial)
        if try await markerExists(highest) { highest = try await highestMarker(from: highest) }
        try await fillMarkers(below: highest)
        newest = SealedSnapshot.Seen(serial: highest, sha256: SHA256.hex(Array(predecessor)))
        current = nil
        read = true
        try await write(state)
        return (state, highest + 1)
    }

    /// The state's versions, newest first, each with what its snapshot says of itself (read, not decrypted).
    public func history(limit: Int) async throws -> [StateVersion] {
        let versions = try await s3.versions(bucket: settings.bucket, key: settings.key)
        // one body at a time: each version's SHA-256 and what its snapshot says of itself, never the bodies together
        var summaries: [String: (sha256: String, serial: Int?, keyID: String?, previous: String?)] = [:]
        for version in versions.prefix(limit + 1) where !version.isDeleteMarker {
            guard let body = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, versionID: version.versionID,
                                                           limit: Self.objectLimit)?.body else { continue }
            let snapshot = body.count <= Self.objectLimit ? try? JSONDecoder().decode(SealedSnapshot.self, from: body) : nil
            summaries[version.versionID] = (SHA256.hex(Array(body)), snapshot?.serial, snapshot?.keyId, snapshot?.previousSHA256)
        }
        var listed: [StateVersion] = []
        for (index, version) in versions.prefix(limit).enumerated() {
            let summary = summaries[version.versionID]
            let older = versions.dropFirst(index + 1).first { !$0.isDeleteMarker }.flatMap { summaries[$0.versionID] }
            let follows: Bool? = summary?.previous.flatMap { previous in
                older.map { $0.sha256 == previous } ?? (previous.isEmpty ? true : nil)
            }
            listed.append(StateVersion(versionID: version.versionID, lastModified: version.lastModified, size: version.size,
                                       isLatest: version.isLatest, isDeleteMarker: version.isDeleteMarker, serial: summary?.serial,
                                       keyID: summary?.keyID, followsPrevious: follows))
        }
        return listed
    }
}
