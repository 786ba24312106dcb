import AWS
import Foundation
import Hashing
import Stack

/// A state shared by a team: one object in a bucket of the customer's account, every version kept by the bucket.
///
/// Each write is a snapshot sealed on this machine (`SealedSnapshot`) under a fresh data key from KMS, bound to the
/// state's URL, and stored only over the version this run last read or wrote (`If-Match` on its ETag; the first
/// with `If-None-Match: *`), so that of two writers exactly one succeeds and the other is told, never silently
/// overwritten. Reading refuses a snapshot older than the newest this machine (or the lock's previous holder) has
/// seen, one that does not name the version before it, and one that is gone while a newer one was seen.
public actor S3StateBackend: StateBackend {
    public let settings: RemoteStateSettings
    let s3: S3
    let kms: KMS
    let seen: SeenSnapshots
    /// The ETag of the version last read or written; nil when none exists (the next write must create it).
    private var etag: String?
    private var read = false
    private var newest: SealedSnapshot.Seen?
    private var lease: S3StateLock?
    /// The command that removes this state's lock, as a held lock's message prints it.
    let unlockCommand: String

    /// `client` signs as the stack's account; it is moved to the bucket's region here. `unlockCommand` is what a
    /// held lock's message tells to run (the lock's id follows it).
    public init(settings: RemoteStateSettings, client: AWSClient, seen: SeenSnapshots = .standard(),
                unlockCommand: String = "deploy unlock --stack STACK") {
        self.settings = settings
        self.unlockCommand = unlockCommand
        let regional = client.inRegion(settings.region)
        self.s3 = S3(client: regional)
        self.kms = KMS(client: regional)
        self.seen = seen
    }

    public nonisolated var location: String { settings.url }

    /// What KMS binds every data key to: a snapshot copied to another state's key does not open there.
    public nonisolated var encryptionContext: [String: String] { ["deploy:state": settings.url] }

    public func lock(operation: String, now: Date) async throws -> any StateLease {
        let lock = try await S3StateLock.acquire(s3: s3, bucket: settings.bucket, key: settings.lockKey, url: settings.url,
                                                 operation: operation, leaseSeconds: settings.lockLeaseSeconds, unlock: unlockCommand,
                                                 now: now)
        lease = lock
        if let newest { lock.note(newest) }
        return lock
    }

    public func load() async throws -> State? {
        let floor = newestKnown()
        guard let content = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key) else {
            if let floor {
                throw SealError(.rollback, "\(settings.url) holds no state, but snapshot \(floor.serial) of it was seen here: it was deleted. "
                                    + "Write the newest version back with deploy state restore VERSION (deploy state history lists them); if starting over is "
                                    + "meant, remove "
                                    + "\(seen.path(for: settings.url))")
            }
            read = true
            etag = nil
            return nil
        }
        let snapshot = try decodeSnapshot(content.body, version: content.versionID)
        let state = try await open(snapshot, floor: floor)
        try await checkChain(snapshot, current: content)
        let digest = SealedSnapshot.Seen(serial: snapshot.serial, sha256: SHA256.hex(Array(content.body)))
        try remember(digest)
        etag = content.etag
        read = true
        return try StateStore.decode(Data(state), path: settings.url)
    }

    public func write(_ state: State) async throws {
        if !read { _ = try await load() }
        let document = try StateStore.encode(state, path: settings.url)
        let dataKey: KMS.DataKey
        do {
            dataKey = try await kms.generateDataKey(keyID: settings.kmsKey, context: encryptionContext)
        } catch {
            throw SealError(.cannotEncrypt, "KMS key \(settings.kmsKey) gave no data key, so nothing was written to \(settings.url): \(error)")
        }
        let snapshot = try SealedSnapshot.seal(Array(document), after: newest,
                                               dataKey: .init(plaintext: dataKey.plaintext, encrypted: dataKey.ciphertextBlob, keyId: dataKey.keyID),
                                               context: encryptionContext)
        let body = snapshot.stored
        let condition: WriteCondition = etag.map { .matching($0) } ?? .absent
        var stored = try await s3.putObject(bucket: settings.bucket, key: settings.key, body: body, condition: condition)?.etag
        if stored == nil, let current = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key), current.body == body {
            stored = current.etag  // our own write, retried after its answer was lost: it had succeeded
        }
        guard let stored else {
            throw StateError(.conflict, path: settings.url, "changed since this run read it (another run wrote it, or a version was put "
                                 + "back): nothing was written. What this run did is not recorded; run plan again to see it")
        }
        etag = stored
        try remember(SealedSnapshot.Seen(serial: snapshot.serial, sha256: SHA256.hex(Array(body))))
    }

    /// Writes the state an earlier version holds back as the newest snapshot (the serial after every one seen, naming
    /// the current version as its predecessor), so that the chain holds again: a version copied back by hand breaks
    /// it and is refused. The version must still open under its data key; the current one is replaced whatever it
    /// holds. The caller holds the lock.
    public func restore(versionID: String, for stack: StackFile) async throws -> State {
        guard let old = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, versionID: versionID) else {
            throw StateError(.unreadable, path: settings.url, "has no version \(versionID) (deploy state history lists them)")
        }
        let snapshot = try decodeSnapshot(old.body, version: versionID)
        let state = try StateStore.decode(Data(try await open(snapshot, floor: nil)), path: "\(settings.url) version \(versionID)")
        guard state.stack == stack.name, state.account == stack.account else {
            throw StateError(.wrongStack, path: settings.url, "version \(versionID) records stack '\(state.stack)' in account "
                                 + "\(state.account), not \(stack.name) in \(stack.account); nothing was restored")
        }
        // what the restored snapshot names as its predecessor: the current version, or, when the state was deleted,
        // the newest version under the delete marker (the one the chain check will find before it)
        let predecessor: Data
        if let current = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key) {
            predecessor = current.body
            etag = current.etag
        } else {
            let versions = try await s3.versions(bucket: settings.bucket, key: settings.key)
            guard let kept = versions.first(where: { !$0.isDeleteMarker }),
                  let body = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, versionID: kept.versionID)?.body else {
                throw StateError(.unreadable, path: settings.url, "has no version left to restore after")
            }
            predecessor = body
            etag = nil
        }
        let predecessorSerial = (try? JSONDecoder().decode(SealedSnapshot.self, from: predecessor))?.serial ?? 0
        newest = SealedSnapshot.Seen(serial: max(newestKnown()?.serial ?? 0, predecessorSerial), sha256: SHA256.hex(Array(predecessor)))
        read = true
        try await write(state)
        return state
    }

    /// The state's versions, newest first, each with what its snapshot says of itself (read, not decrypted).
    public func history(limit: Int) async throws -> [StateVersion] {
        let versions = try await s3.versions(bucket: settings.bucket, key: settings.key)
        var listed: [StateVersion] = []
        var bodies: [String: Data] = [:]
        for version in versions.prefix(limit + 1) where !version.isDeleteMarker {
            bodies[version.versionID] = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, versionID: version.versionID)?.body
        }
        for (index, version) in versions.prefix(limit).enumerated() {
            let body = bodies[version.versionID]
            let snapshot = body.flatMap { try? JSONDecoder().decode(SealedSnapshot.self, from: $0) }
            let older = versions.dropFirst(index + 1).first { !$0.isDeleteMarker }.flatMap { bodies[$0.versionID] }
            let follows: Bool? = snapshot.flatMap { snapshot in
                older.map { SHA256.hex(Array($0)) == snapshot.previousSHA256 } ?? (snapshot.serial == 1 ? true : nil)
            }
            listed.append(StateVersion(versionID: version.versionID, lastModified: version.lastModified, size: version.size,
                                       isLatest: version.isLatest, isDeleteMarker: version.isDeleteMarker, serial: snapshot?.serial,
                                       keyID: snapshot?.keyId, followsPrevious: follows))
        }
        return listed
    }

    /// The newest snapshot seen: here before, in this run, or by the lock's previous holder.
    private func newestKnown() -> SealedSnapshot.Seen? {
        [seen.newest(settings.url), newest, lease?.inheritedSeen].compactMap { $0 }.max { $0.serial < $1.serial }
    }

    private func remember(_ digest: SealedSnapshot.Seen) throws {
        newest = digest
        lease?.note(digest)
        do {
            try seen.record(digest, for: settings.url)
        } catch {
            throw StateError(.writeFailed, path: seen.path(for: settings.url), "cannot remember the newest snapshot seen: \(error)")
        }
    }

    private func decodeSnapshot(_ body: Data, version: String?) throws -> SealedSnapshot {
        do {
            return try JSONDecoder().decode(SealedSnapshot.self, from: body)
        } catch {
            throw StateError(.corrupt, path: settings.url, "version \(version ?? "?") is not a sealed deploy state; it was not written by deploy")
        }
    }

    /// The state inside `snapshot`, its data key decrypted by KMS under this state's context only.
    private func open(_ snapshot: SealedSnapshot, floor: SealedSnapshot.Seen?) async throws -> [UInt8] {
        guard let encrypted = Data(base64Encoded: snapshot.encryptedDataKey) else {
            throw SealError(.tampered, "snapshot \(snapshot.serial) of \(settings.url) carries no readable data key")
        }
        let dataKey: [UInt8]
        do {
            dataKey = try await kms.decrypt(Array(encrypted), context: encryptionContext, keyID: snapshot.keyId).plaintext
        } catch let error as AWSError where error.code == "InvalidCiphertextException" || error.code == "IncorrectKeyException" {
            throw SealError(.tampered, "KMS refuses the data key of snapshot \(snapshot.serial): it was sealed for another state or "
                                + "under another key, or changed since (\(error.code))")
        }
        return try snapshot.open(dataKey: dataKey, newestSeen: floor)
    }

    /// The current version must name the version before it: an old snapshot copied over the current one names an
    /// older predecessor, and is refused even on a machine that has never seen the state.
    private func checkChain(_ snapshot: SealedSnapshot, current: ObjectContent) async throws {
        guard snapshot.serial > 1 else { return }
        let versions = try await s3.versions(bucket: settings.bucket, key: settings.key)
        guard let index = versions.firstIndex(where: { $0.versionID == current.versionID }),
              let previous = versions.dropFirst(index + 1).first(where: { !$0.isDeleteMarker }),
              let body = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, versionID: previous.versionID)?.body
        else { return }  // versioning off, or the older versions expired: nothing to compare with
        guard SHA256.hex(Array(body)) == snapshot.previousSHA256 else {
            let older = (try? JSONDecoder().decode(SealedSnapshot.self, from: body)).map { "snapshot \($0.serial)" } ?? "a version"
            throw SealError(.rollback, "snapshot \(snapshot.serial), the current version of \(settings.url), does not follow \(older) stored "
                                + "before it: an older state was put back over a newer one; it is refused. deploy state history lists the versions, and "
                                + "deploy state restore VERSION writes the right one back as a new snapshot")
        }
    }
}

/// One version of a shared state, as `deploy state history` lists it.
public struct StateVersion: Sendable {
    public var versionID: String
    public var lastModified: Date?
    public var size: Int64
    public var isLatest: Bool
    public var isDeleteMarker: Bool
    /// The snapshot's serial and KMS key, as it states them (nil for a delete marker or a body that is no snapshot).
    public var serial: Int?
    public var keyID: String?
    /// Whether it names the version listed after it as its predecessor (nil: nothing to compare with).
    public var followsPrevious: Bool?
}
