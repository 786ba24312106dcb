import AWS
import Foundation
import Hashing
import Stack

/// A state shared by a team: one object in a bucket of the customer's account, every version kept by the bucket.
///
/// Each write is a snapshot sealed on this machine (`SealedSnapshot`) under a fresh data key from the state's own
/// KMS key, bound to the state's URL, and stored only over the version this run last read or wrote (`If-Match` on
/// its ETag; the first with `If-None-Match: *`), so that of two writers exactly one succeeds and the other is told,
/// never silently overwritten. Beside each snapshot goes a marker that it was written (`+Markers`). Reading refuses a
/// snapshot older than the newest this machine (or the lock's previous holder) has seen, one after which a later
/// snapshot's marker exists, and a state deleted over versions it had.
public actor S3StateBackend: StateBackend {
    public let settings: RemoteStateSettings
    let s3: S3
    let kms: KMS
    let seen: SeenSnapshots
    /// The ETag of the version last read or written; nil when none exists (the next write must create it).
    var etag: String?
    var read = false
    var newest: SealedSnapshot.Seen?
    var lease: S3StateLock?
    /// The previous holder's newest snapshot, once its marker confirmed it.
    var inherited: SealedSnapshot.Seen?
    /// The snapshot read as current (its serial and SHA-256), whose marker a write makes sure of first.
    var current: SealedSnapshot.Seen?
    /// The serial whose marker this run knows exists.
    var markedSerial: Int?
    /// The command that removes this state's lock, as a held lock's message prints it.
    let unlockCommand: String

    /// The largest state object read: far above any state deploy writes, far below what would exhaust memory.
    static let objectLimit = 64 * 1024 * 1024

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
        if let claimed = lock.inherited, SealedSnapshot.serialRange.contains(claimed.serial), try await markerExists(claimed.serial) {
            inherited = claimed
        }
        if let newest { lock.note(newest) }
        return lock
    }

    public func load() async throws -> State? {
        let floor = newestKnown()
        guard let content = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, limit: Self.objectLimit) else {
            try await checkNeverWritten(floor: floor)
            read = true
            etag = nil
            current = nil
            return nil
        }
        let snapshot = try decodeSnapshot(content.body, version: content.versionID)
        let state = try await open(snapshot, floor: floor)
        try await checkChain(snapshot, current: content)
        try await checkNewest(snapshot)
        let digest = SealedSnapshot.Seen(serial: snapshot.serial, sha256: SHA256.hex(Array(content.body)))
        try remember(digest)
        etag = content.etag
        current = digest
        read = true
        return try StateStore.decode(Data(state), path: settings.url)
    }

    public func write(_ state: State) async throws {
        if !read { _ = try await load() }
        HeldLeases.shared.beginWrite()
        defer { HeldLeases.shared.endWrite() }
        // the marker of the snapshot this one replaces, missing when the run that wrote it stopped before its marker:
        // made before anything builds on it, so that markers have no gap for an old version to slip through
        if let current, markedSerial != current.serial {
            try await writeMarker(current)
            markedSerial = current.serial
        }
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
        if stored == nil, let current = try await s3.getObjectContent(bucket: settings.bucket, key: settings.key, limit: Self.objectLimit),
           current.body == body {
            stored = current.etag  // our own write, retried after its answer was lost: it had succeeded
        }
        guard let stored else {
            throw StateError(.conflict, path: settings.url, "changed since this run read it (another run wrote it, or a version was put "
                                 + "back): nothing was written. What this run did is not recorded; run plan again to see it")
        }
        etag = stored
        let digest = SealedSnapshot.Seen(serial: snapshot.serial, sha256: SHA256.hex(Array(body)))
        current = digest
        try remember(digest)
        try await writeMarker(digest)
        markedSerial = digest.serial
    }

    /// The newest snapshot seen: here before, in this run, or by the lock's previous holder (confirmed).
    func newestKnown() -> SealedSnapshot.Seen? {
        [seen.newest(settings.url), newest, inherited].compactMap { $0 }.filter { SealedSnapshot.serialRange.contains($0.serial) }
            .max { $0.serial < $1.serial }
    }

    func remember(_ digest: SealedSnapshot.Seen) throws {
        newest = digest
        lease?.note(digest)
        do {
            try seen.record(digest, for: settings.url)
        } catch {
            throw StateError(.writeFailed, path: seen.path(for: settings.url), "cannot remember the newest snapshot seen: \(error)")
        }
    }

    func decodeSnapshot(_ body: Data, version: String?) throws -> SealedSnapshot {
        guard body.count <= Self.objectLimit else {
            throw StateError(.corrupt, path: settings.url, "version \(version ?? "?") is larger than \(Self.objectLimit >> 20) MiB, far "
                                 + "beyond any state deploy writes; it was not written by deploy")
        }
        do {
            return try JSONDecoder().decode(SealedSnapshot.self, from: body)
        } catch {
            throw StateError(.corrupt, path: settings.url, "version \(version ?? "?") is not a sealed deploy state; it was not written by deploy")
        }
    }

    /// The state inside `snapshot`, its data key decrypted by KMS under this state's context and by the state's own
    /// key only. The key the snapshot names is not trusted before the data key has proved the snapshot: a forger who
    /// may write the bucket could name a key of their own that decrypts a data key of their choosing, and seal
    /// anything under it.
    func open(_ snapshot: SealedSnapshot, floor: SealedSnapshot.Seen?) async throws -> [UInt8] {
        guard let encrypted = Data(base64Encoded: snapshot.encryptedDataKey) else {
            throw SealError(.tampered, "snapshot \(snapshot.serial) of \(settings.url) carries no readable data key")
        }
        let dataKey: [UInt8]
        do {
            dataKey = try await kms.decrypt(Array(encrypted), context: encryptionContext, keyID: settings.kmsKey).plaintext
        } catch let error as AWSError where ["InvalidCiphertextException", "IncorrectKeyException"].contains(error.code)
                    || (error.code == "AccessDeniedException" && error.message.contains("ciphertext refers to")) {
            throw SealError(.tampered, "KMS refuses the data key of snapshot \(snapshot.serial): it was sealed for another state or "
                                + "under another key than \(settings.kmsKey), or changed since (\(error.code))")
        }
        return try snapshot.open(dataKey: dataKey, newestSeen: floor)
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
