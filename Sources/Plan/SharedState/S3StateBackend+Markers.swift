import AWS
import Foundation
import Hashing

/// The markers beside a shared state: `KEY.serials/000000000042` says snapshot 42 was written. They are created
/// once each (`If-None-Match: *`) and never replaced, and the identity that deploys may not delete them, so a
/// version copied back over the current one (an older serial) is found at once by the marker of the serial after
/// it, on any machine, whatever else was put back with it.
extension S3StateBackend {
    struct Marker: Codable {
        var serial: Int
        var sha256: String
    }

    func markerExists(_ serial: Int) async throws -> Bool {
        try await s3.headObject(bucket: settings.bucket, key: settings.markerKey(serial: serial)) != nil
    }

    /// Writes the marker of a snapshot just stored; one already there (a retry, or a repair racing another) is left.
    func writeMarker(_ digest: SealedSnapshot.Seen) async throws {
        let body = try JSONEncoder().encode(Marker(serial: digest.serial, sha256: digest.sha256))
        do {
            _ = try await s3.putObject(bucket: settings.bucket, key: settings.markerKey(serial: digest.serial), body: body, condition: .absent)
        } catch {
            throw StateError(.writeFailed, path: settings.url, "snapshot \(digest.serial) was written, but not its marker "
                                 + "\(settings.markerKey(serial: digest.serial)), which guards against rollback: \(error)")
        }
    }

    /// The current snapshot must be the newest ever written: no marker after it. Its own marker, missing when the run
    /// that wrote it stopped in between, is written now.
    func checkNewest(_ snapshot: SealedSnapshot) async throws {
        if try await markerExists(snapshot.serial + 1) {
            let newest = try await highestMarker(from: snapshot.serial + 1)
            throw SealError(.rollback, "snapshot \(snapshot.serial) is the current version of \(settings.url), but snapshot \(newest) was "
                                + "written after it: an older state was put back over a newer one; it is refused. deploy state history "
                                + "lists the versions, and deploy state restore VERSION writes the right one back as the newest")
        }
        if try await !markerExists(snapshot.serial) {
            try await writeMarker(SealedSnapshot.Seen(serial: snapshot.serial, sha256: ""))
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
