import AWS
import Foundation
import Hashing
import Stack
import Synchronization
import TextSafety

/// What a shared state's lock object holds: who holds it, for how long without a renewal, and the newest snapshot
/// the holder has seen. Whoever writes the bucket can write this too, so a reader trusts none of it blindly: the
/// lease is bounded, and the snapshot named counts only once the state's own marker confirms it.
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
/// removes a lock another has taken. A holder that finds its lock taken, or cannot renew it within its lease, has
/// lost it and says so (`onLost`).
public final class S3StateLock: StateLease {
    public let info: LockInfo
    public let warning: String?
    /// The newest snapshot the previous holder said it had seen, when its lock was taken over (unverified).
    let inherited: SealedSnapshot.Seen?
    let s3: S3
    let bucket: String
    let key: String
    let leaseSeconds: Int
    private let state: Mutex<Held>

    struct Held {
        var etag: String
        var newestSeen: SealedSnapshot.Seen?
        var renewals = 0
        var lastRenewed = ContinuousClock.now
        var renewal: Task<Void, Never>?
        var lost = false
        var released = false
        var whenLost: [@Sendable () -> Void] = []
    }

    private init(info: LockInfo, warning: String?, inherited: SealedSnapshot.Seen?, s3: S3, bucket: String, key: String,
                 leaseSeconds: Int, etag: String) {
        self.info = info
        self.warning = warning
        self.inherited = inherited
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        self.leaseSeconds = leaseSeconds
        self.state = Mutex(Held(etag: etag))
    }

    /// Takes the lock for `operation`, or throws a `LockError` naming the holder whose lease still runs. `unlock` is
    /// the command that removes a lock on this state, without its id (the message adds it).
    static func acquire(s3: S3, bucket: String, key: String, url: String, operation: String, leaseSeconds: Int, unlock: String,
                        now: Date) async throws -> S3StateLock {
        let info = LockInfo.current(operation: operation, now: now)
        let body = try encode(SharedLockRecord(holder: info, leaseSeconds: leaseSeconds, renewals: 0, newestSeen: nil))
        func held(etag: String?, warning: String? = nil, inherited: SealedSnapshot.Seen? = nil) -> S3StateLock {
            let lock = S3StateLock(info: info, warning: warning, inherited: inherited, s3: s3, bucket: bucket, key: key,
                                   leaseSeconds: leaseSeconds, etag: etag ?? "")
            HeldLeases.shared.add(lock)
            return lock.renewing()
        }
        for _ in 0..<4 {
            if let stored = try await s3.putObject(bucket: bucket, key: key, body: body, condition: .absent) {
                return held(etag: stored.etag)
            }
            guard let current = try await s3.getObjectContent(bucket: bucket, key: key, limit: recordLimit) else { continue }  // released meanwhile
            guard current.body.count <= recordLimit, let found = try? JSONDecoder().decode(SharedLockRecord.self, from: current.body) else {
                throw LockError(message: "the state \(url) is locked by s3://\(bucket)/\(key), which cannot be read (empty, damaged or not a "
                                    + "lock); if no run is active, remove it with: \(unlock) --force", holder: nil)
            }
            if found.holder.id == info.id { return held(etag: current.etag) }  // our own create, retried after its answer was lost
            // a lease read from the bucket is bounded: a planted lock holds at most the longest lease a stack may set
            let lease = min(max(found.leaseSeconds, RemoteStateSettings.leaseRange.lowerBound), RemoteStateSettings.leaseRange.upperBound)
            let idle = Self.idleSeconds(current)
            guard let idle, idle > Double(lease) else {
                throw LockError(message: Self.describeHeld(found, lease: lease, url: url, idle: idle, unlock: unlock), holder: found.holder)
            }
            if let stored = try await s3.putObject(bucket: bucket, key: key, body: body, condition: .matching(current.etag)) {
                let holder = found.holder.quoted
                return held(etag: stored.etag, warning: "took over the lock on \(url) left by \(holder.who) on \(holder.host), pid "
                                + "\(holder.pid) (\(holder.operation) since \(holder.created)): not renewed for \(StateLock.duration(idle)), "
                                + "past its \(lease)s lease", inherited: found.newestSeen)
            }
        }
        throw LockError(message: "another run took the lock on \(url) at the same moment; try again", holder: nil)
    }

    /// The most a lock object may hold: a record is a few hundred bytes.
    static let recordLimit = 64 * 1024

    /// Records the newest snapshot this run has seen; the next renewal writes it into the lock object.
    func note(_ seen: SealedSnapshot.Seen) {
        state.withLock { held in
            if (held.newestSeen?.serial ?? 0) <= seen.serial { held.newestSeen = seen }
        }
    }

    public func onLost(_ action: @escaping @Sendable () -> Void) {
        let lostAlready = state.withLock { held -> Bool in
            held.whenLost.append(action)
            return held.lost
        }
        if lostAlready { action() }
    }

    /// Renews the lock every third of its lease until it is released or lost.
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
    /// lock is lost or released. A renewal that fails in transit is tried again at the next interval; once none has
    /// succeeded for two thirds of a lease (counted from when the last good one was sent), the lock counts as lost
    /// before another run could take it over.
    func renew() async -> Bool {
        let sent = ContinuousClock.now
        guard let (etag, record) = state.withLock({ held -> (String, SharedLockRecord)? in
            guard !held.lost, !held.released else { return nil }
            held.renewals += 1
            return (held.etag, SharedLockRecord(holder: info, leaseSeconds: leaseSeconds, renewals: held.renewals, newestSeen: held.newestSeen))
        }), let body = try? Self.encode(record) else { return false }
        do {
            guard let stored = try await s3.putObject(bucket: bucket, key: key, body: body, condition: .matching(etag)) else {
                markLost()
                return false
            }
            state.withLock {
                $0.etag = stored.etag ?? $0.etag
                $0.lastRenewed = sent
            }
        } catch {
            let stale = state.withLock { ContinuousClock.now - $0.lastRenewed > .seconds(leaseSeconds * 2 / 3) }
            if stale {
                markLost()
                return false
            }
        }
        return true
    }

    private func markLost() {
        let actions = state.withLock { held -> [@Sendable () -> Void] in
            guard !held.lost, !held.released else { return [] }
            held.lost = true
            return held.whenLost
        }
        for action in actions { action() }
    }

    /// Stops renewing and deletes the lock object, only if it is still the one this run wrote.
    public func release() async {
        let renewal = state.withLock { held -> Task<Void, Never>? in
            held.released = true
            return held.renewal
        }
        renewal?.cancel()
        await renewal?.value
        HeldLeases.shared.remove(self)
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

    static func describeHeld(_ record: SharedLockRecord, lease: Int, url: String, idle: Double?, unlock: String) -> String {
        let holder = record.holder.quoted
        let renewed = idle.map { "last renewed \(StateLock.duration($0)) ago, lease \(lease)s" } ?? "lease \(lease)s"
        return "the state \(url) is locked by \(holder.who) on \(holder.host), pid \(holder.pid), for \(holder.operation) since "
            + "\(holder.created) (\(renewed)). It is taken over only once its lease runs out unrenewed; to remove it now, if that run "
            + "is gone: \(unlock) \(holder.id)"
    }

    /// Removes the lock object whose holder has id `id` (`deploy unlock`); an unreadable one only with `id` nil, and
    /// never an object that is a state snapshot.
    public static func forceUnlock(s3: S3, bucket: String, key: String, url: String, id: String?) async throws -> LockInfo? {
        guard let current = try await s3.getObjectContent(bucket: bucket, key: key, limit: recordLimit) else {
            throw LockError(message: "the state \(url) is not locked", holder: nil)
        }
        if (try? JSONDecoder().decode(SealedSnapshot.self, from: current.body)) != nil {
            throw LockError(message: "s3://\(bucket)/\(key) is a state snapshot, not a lock: nothing was removed", holder: nil)
        }
        let found = current.body.count <= recordLimit ? try? JSONDecoder().decode(SharedLockRecord.self, from: current.body) : nil
        switch (found, id) {
        case (nil, nil): break
        case (nil, .some):
            throw LockError(message: "the lock on \(url) cannot be read (empty or damaged), so no id can match; remove it with --force and no id",
                            holder: nil)
        case (.some(let record), nil):
            throw LockError(message: "the lock on \(url) is readable: give its id (\(record.holder.quoted.id))", holder: record.holder)
        case (.some(let record), .some(let id)) where record.holder.id != id:
            throw LockError(message: "the lock on \(url) has id \(record.holder.quoted.id), not \(SafeText.quoted(id)); nothing was removed",
                            holder: record.holder)
        default: break
        }
        guard try await s3.deleteObject(bucket: bucket, key: key, ifMatching: current.etag) else {
            throw LockError(message: "the lock on \(url) changed while it was being removed; nothing was removed", holder: nil)
        }
        return found?.holder
    }
}
