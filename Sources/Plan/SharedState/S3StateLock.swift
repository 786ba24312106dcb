import AWS
import Foundation
import Hashing
import Synchronization

/// What a shared state's lock object holds: who holds it, for how long without a renewal, and the newest snapshot
/// the holder has seen (so that whoever takes over a dead holder's lock also refuses anything older).
struct SharedLockRecord: Codable, Sendable {
    var holder: LockInfo
    var leaseSeconds: Int
    var renewals: Int
    var newestSeen: SealedSnapshot.Seen?
}

/// A lock on a shared state: an object beside it, created only where none exists (`If-None-Match: *`), so that of
/// two runs exactly one creates it. It is renewed by conditional writes on its own ETag while held, taken over only
/// once its lease has run out unrenewed (judged by S3's clock: the object's Last-Modified against the Date S3
/// answers with, never this machine's clock), and released by a delete conditional on its ETag, so that a run never
/// removes a lock another has taken.
public final class S3StateLock: StateLease {
    public let info: LockInfo
    public let warning: String?
    let url: String
    let s3: S3
    let bucket: String
    let key: String
    let leaseSeconds: Int
    private let state: Mutex<Held>

    struct Held {
        var etag: String
        var newestSeen: SealedSnapshot.Seen?
        var renewals = 0
        var renewal: Task<Void, Never>?
        /// Set when a renewal found the lock taken by another run (this one was too slow to renew it).
        var lost = false
        var released = false
    }

    /// The newest snapshot the previous (dead) holder had seen, when its lock was taken over.
    public var inheritedSeen: SealedSnapshot.Seen? { state.withLock { $0.newestSeen } }

    /// Whether a renewal found the lock taken by another run.
    public var isLost: Bool { state.withLock { $0.lost } }

    private init(info: LockInfo, warning: String?, url: String, s3: S3, bucket: String, key: String, leaseSeconds: Int, held: Held) {
        self.info = info
        self.warning = warning
        self.url = url
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        self.leaseSeconds = leaseSeconds
        self.state = Mutex(held)
    }

    /// Takes the lock for `operation`, or throws a `LockError` naming the holder whose lease still runs.
    /// `unlock` is the command that removes a lock on this state, without its id (the message adds it).
    static func acquire(s3: S3, bucket: String, key: String, url: String, operation: String, leaseSeconds: Int, unlock: String,
                        now: Date) async throws -> S3StateLock {
        let info = LockInfo.current(operation: operation, now: now)
        var record = SharedLockRecord(holder: info, leaseSeconds: leaseSeconds, renewals: 0, newestSeen: nil)
        var warning: String?
        for _ in 0..<4 {
            if let stored = try await s3.putObject(bucket: bucket, key: key, body: try Self.encode(record), condition: .absent) {
                return S3StateLock(info: info, warning: warning, url: url, s3: s3, bucket: bucket, key: key, leaseSeconds: leaseSeconds,
                                   held: Held(etag: stored.etag ?? "", newestSeen: record.newestSeen)).renewing()
            }
            guard let current = try await s3.getObjectContent(bucket: bucket, key: key) else { continue }  // released meanwhile
            guard let found = try? JSONDecoder().decode(SharedLockRecord.self, from: current.body) else {
                throw LockError(message: "the state \(url) is locked by s3://\(bucket)/\(key), which cannot be read (empty or damaged); "
                                    + "if no run is active, remove it with: \(unlock) --force", holder: nil)
            }
            if found.holder.id == info.id {
                // our own create, retried after its answer was lost: it had succeeded
                return S3StateLock(info: info, warning: warning, url: url, s3: s3, bucket: bucket, key: key, leaseSeconds: leaseSeconds,
                                   held: Held(etag: current.etag, newestSeen: record.newestSeen)).renewing()
            }
            let idle = Self.idleSeconds(current)
            guard let idle, idle > Double(found.leaseSeconds) else {
                throw LockError(message: Self.describeHeld(found, url: url, idle: idle, unlock: unlock), holder: found.holder)
            }
            record.newestSeen = found.newestSeen
            if let stored = try await s3.putObject(bucket: bucket, key: key, body: try Self.encode(record), condition: .matching(current.etag)) {
                warning = "took over the lock on \(url) left by \(found.holder.who) on \(found.holder.host), pid \(found.holder.pid) "
                    + "(\(found.holder.operation) since \(found.holder.created)): not renewed for \(StateLock.duration(idle)), "
                    + "past its \(found.leaseSeconds)s lease"
                return S3StateLock(info: info, warning: warning, url: url, s3: s3, bucket: bucket, key: key, leaseSeconds: leaseSeconds,
                                   held: Held(etag: stored.etag ?? "", newestSeen: found.newestSeen)).renewing()
            }
        }
        throw LockError(message: "another run took the lock on \(url) at the same moment; try again", holder: nil)
    }

    /// Records the newest snapshot this run has seen; the next renewal writes it into the lock object.
    func note(_ seen: SealedSnapshot.Seen) {
        state.withLock { held in
            if (held.newestSeen?.serial ?? 0) <= seen.serial { held.newestSeen = seen }
        }
    }

    /// Renews the lock every third of its lease until it is released.
    private func renewing() -> S3StateLock {
        let interval = UInt64(Double(leaseSeconds) / 3 * 1e9)
        let task = Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(nanoseconds: interval) } catch { return }
                guard let self, await self.renew() else { return }
            }
        }
        state.withLock { $0.renewal = task }
        return self
    }

    /// Rewrites the lock over its own ETag with the count of renewals bumped (S3 then dates it anew); false once the
    /// lock is lost or released.
    func renew() async -> Bool {
        guard let (etag, record) = state.withLock({ held -> (String, SharedLockRecord)? in
            guard !held.lost, !held.released else { return nil }
            held.renewals += 1
            return (held.etag, SharedLockRecord(holder: info, leaseSeconds: leaseSeconds, renewals: held.renewals, newestSeen: held.newestSeen))
        }), let body = try? Self.encode(record) else { return false }
        do {
            guard let stored = try await s3.putObject(bucket: bucket, key: key, body: body, condition: .matching(etag)) else {
                state.withLock { $0.lost = true }
                return false
            }
            state.withLock { $0.etag = stored.etag ?? $0.etag }
        } catch {
            // a renewal that failed in transit is tried again at the next interval, well inside the lease
        }
        return true
    }

    /// Stops renewing and deletes the lock object, only if it is still the one this run wrote.
    public func release() async {
        let renewal = state.withLock { held -> Task<Void, Never>? in
            held.released = true
            return held.renewal
        }
        renewal?.cancel()
        await renewal?.value
        let (etag, lost) = state.withLock { ($0.etag, $0.lost) }
        guard !lost else { return }
        _ = try? await s3.deleteObject(bucket: bucket, key: key, ifMatching: etag)
    }

    /// Seconds since the lock object was last written, by S3's clock; nil when S3 gave no dates.
    static func idleSeconds(_ content: ObjectContent) -> Double? {
        guard let written = content.lastModified, let now = content.serverTime else { return nil }
        return now.timeIntervalSince(written)
    }

    static func encode(_ record: SharedLockRecord) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(record)
    }

    static func describeHeld(_ record: SharedLockRecord, url: String, idle: Double?, unlock: String) -> String {
        let holder = record.holder
        let renewed = idle.map { "last renewed \(StateLock.duration($0)) ago, lease \(record.leaseSeconds)s" } ?? "lease \(record.leaseSeconds)s"
        return "the state \(url) is locked by \(holder.who) on \(holder.host), pid \(holder.pid), for \(holder.operation) since "
            + "\(holder.created) (\(renewed)). It is taken over only once its lease runs out unrenewed; to remove it now, if that run "
            + "is gone: \(unlock) \(holder.id)"
    }

    /// Removes the lock object whose holder has id `id` (`deploy unlock`); an unreadable one only with `id` nil.
    public static func forceUnlock(s3: S3, bucket: String, key: String, url: String, id: String?) async throws -> LockInfo? {
        guard let current = try await s3.getObjectContent(bucket: bucket, key: key) else {
            throw LockError(message: "the state \(url) is not locked", holder: nil)
        }
        let found = try? JSONDecoder().decode(SharedLockRecord.self, from: current.body)
        switch (found, id) {
        case (nil, nil): break
        case (nil, .some):
            throw LockError(message: "the lock on \(url) cannot be read (empty or damaged), so no id can match; remove it with --force and no id",
                            holder: nil)
        case (.some(let record), nil):
            throw LockError(message: "the lock on \(url) is readable: give its id (\(record.holder.id))", holder: record.holder)
        case (.some(let record), .some(let id)) where record.holder.id != id:
            throw LockError(message: "the lock on \(url) has id \(record.holder.id), not \(id); nothing was removed", holder: record.holder)
        default: break
        }
        guard try await s3.deleteObject(bucket: bucket, key: key, ifMatching: current.etag) else {
            throw LockError(message: "the lock on \(url) changed while it was being removed; nothing was removed", holder: nil)
        }
        return found?.holder
    }
}
