import AWS
import Foundation
import Hashing

/// The checks that keep an older state from being read as the newest, on any machine:
///
/// - the markers beside a shared state: `KEY.serials/000000000042` says snapshot 42 was written. They are created
///   once each (`If-None-Match: *`) and never replaced, the printed policy denies deleting them, and a writer makes
///   sure of the current snapshot's marker before it writes the next, so they have no gap below the newest. A
///   version copied back over the current one (an older serial) is found by the marker of the serial after it;
/// - the chain: the current version must name the version stored just before it, so that one old version copied
///   back is refused even in the moment after a run died between a snapshot and its marker.
extension S3StateBackend {
    struct Marker: Codable {
        var serial: Int
        var sha256: String
    }

    func markerExists(_ serial: Int) async throws -> Bool {
        try await s3.headObject(bucket: settings.bucket, key: settings.markerKey(serial: serial)) != nil
    }

    /// Writes the marker of a snapshot; one already there (a retry, a run that stopped after it) is left as it is.
    func writeMarker(_ digest: SealedSnapshot.Seen) async throws {
        let body = try JSONEncoder().encode(Marker(serial: digest.serial, sha256: digest.sha256))
        do {
            _ = try await s3.putObject(bucket: settings.bucket, key: settings.markerKey(serial: digest.serial), body: body, condition: .absent)
        } catch {
            throw StateError(.writeFailed, path: settings.url, "snapshot \(digest.serial) was written, but not its marker "
                                 + "\(settings.markerKey(serial: digest.serial)), which guards against rollback: \(error)")
        }
    }

    /// The current snapshot must be the newest ever written: no marker after it. (A reader writes nothing: a missing
    /// marker of the current snapshot is made by the next writer.)
    func checkNewest(_ snapshot: SealedSnapshot) async throws {
        if try await markerExists(snapshot.serial + 1) {
            let newest = try await highestMarker(from: snapshot.serial + 1)
            throw SealError(.rollback, "snapshot \(snapshot.serial) is the current version of \(settings.url), but the marker of snapshot "
                                + "\(newest) says a newer one was written: an older state was put back (or a marker planted); it is refused. "
                                + "deploy state history lists the versions, and deploy state restore VERSION writes the right one back as the newest")
        }
    }

    /// The current version must name the version stored just before it (a first snapshot, none): an old version copied
    /// back names an older one.
    func checkChain(_ snapshot: SealedSnapshot, current: ObjectContent) async throws {
        let versions = try await s3.versions(bucket: settings.bucket, key: settings.key)
        guard let index = versions.firstIndex(where: { $0.versionID == current.versionID }) else { return }  // versioning off
        // none older: the first snapshot, or the older versions expired
        guard let previous = versions.dropFirst(index + 1).first(where: { !$0.isDeleteMarker }) else { return }
        let body = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, versionID: previous.versionID,
                                                 limit: Self.objectLimit)?.body
        guard let body, SHA256.hex(Array(body)) == snapshot.previousSHA256 else {
            let older = body.flatMap { try? JSONDecoder().decode(SealedSnapshot.self, from: $0) }.map { "snapshot \($0.serial)" } ?? "a version"
            throw SealError(.rollback, "snapshot \(snapshot.serial), the current version of \(settings.url), does not follow \(older) stored "
                                + "before it: an older state was put back over a newer one; it is refused. deploy state history lists the "
                                + "versions, and deploy state restore VERSION writes the right one back as the newest")
        }
    }

    /// A key with no current state is a new state only if nothing was ever written there: a state deleted (a delete
    /// marker over its versions, or its markers left) is refused, not taken for a stack never applied.
    func checkNeverWritten(floor: SealedSnapshot.Seen?) async throws {
        let restore = "Write the newest version back with deploy state restore VERSION (deploy state history lists them)"
        if let floor {
            throw SealError(.rollback, "\(settings.url) holds no state, but snapshot \(floor.serial) of it was seen here: it was deleted. "
                                + "\(restore); if starting over is meant, remove \(seen.path(for: settings.url))")
        }
        let kept = try await s3.versions(bucket: settings.bucket, key: settings.key).filter { !$0.isDeleteMarker }.count
        let firstMarker = try await markerExists(1)
        if kept > 0 || firstMarker {
            throw SealError(.rollback, "\(settings.url) holds no current state, but \(kept) earlier version(s)"
                                + (firstMarker ? " and the marker of snapshot 1" : "") + ": it was deleted, not never written. \(restore)")
        }
    }

    /// Makes the markers missing at the top of the range up to `serial`, a serial known written (seen here, or a
    /// snapshot opened): serials are written one after another, so each below it was written too. A run that died
    /// between a snapshot and its marker leaves such a gap; a restore closes it rather than build above it.
    func fillMarkers(below serial: Int) async throws {
        var next = serial
        while next >= 1, serial - next < 1000, try await !markerExists(next) {
            try await writeMarker(SealedSnapshot.Seen(serial: next, sha256: ""))
            next -= 1
        }
    }

    /// The highest serial whose marker exists, given that `serial`'s does: found in a logarithmic number of requests.
    func highestMarker(from serial: Int) async throws -> Int {
        var low = serial
        var step = 1
        var high: Int?
        while high == nil {
            let probe = low + step
            guard SealedSnapshot.serialRange.contains(probe), try await markerExists(probe) else {
                high = probe
                break
            }
            low = probe
            step *= 2
        }
        var upper = high ?? low + 1
        while upper - low > 1 {
            let middle = low + (upper - low) / 2
            if try await markerExists(middle) { low = middle } else { upper = middle }
        }
        return low
    }
}
