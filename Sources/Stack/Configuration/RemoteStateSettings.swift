import TextSafety

/// Where a shared stack's state is kept: one object in a bucket of the customer's account, with its lock object
/// beside it, every snapshot encrypted on this machine under a data key from the named KMS key. Written as the
/// stack's `state` block, or given as `--backend s3://bucket/key` with `--backend-kms-key`.
public struct RemoteStateSettings: Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var region: String
    /// The KMS key that makes each snapshot's data key: a key id, a key ARN, or `alias/...`.
    public var kmsKey: String
    /// How long a lock stays valid without being renewed; a holder renews it well before then, and only a lock
    /// left this long unrenewed (its holder gone) is taken over.
    public var lockLeaseSeconds: Int
    /// With `bootstrap`: the bucket's S3 Object Lock default retention in days (no state version can be deleted or
    /// overwritten for that long); 0, off.
    public var objectLockDays: Int
    /// Where the block is written, for errors that point at it.
    public var location: SourceLocation?

    public static let defaultLeaseSeconds = 300
    public static let leaseRange = 10...3600
    static let fields = ["bucket", "key", "region", "kms_key", "lock_lease_seconds", "object_lock_days"]

    public init(bucket: String, key: String, region: String, kmsKey: String, lockLeaseSeconds: Int = defaultLeaseSeconds,
                objectLockDays: Int = 0, location: SourceLocation? = nil) {
        self.bucket = bucket
        self.key = key
        self.region = region
        self.kmsKey = kmsKey
        self.lockLeaseSeconds = lockLeaseSeconds
        self.objectLockDays = objectLockDays
        self.location = location
    }

    /// `s3://bucket/key`.
    public var url: String { "s3://\(bucket)/\(key)" }
    /// The lock object: the state's key with `.lock` after it.
    public var lockKey: String { key + ".lock" }

    /// The marker that snapshot `serial` was written: one small object per snapshot, never replaced, so that a
    /// reader finding the marker after the current snapshot's serial knows an older state was put back.
    public func markerKey(serial: Int) -> String {
        let digits = String(serial)
        return key + ".serials/" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// Reads a stack's `state` block; the region defaults to the stack's.
    static func parse(_ node: JSON5Node, stackRegion: String) throws(StackError) -> RemoteStateSettings {
        let fields = try ObjectFields(node, allowed: fields, context: "state")
        let bucket = try fields.requiredString("bucket")
        if let problem = bucketProblem(bucket) { throw StackError("state.bucket: \(problem)", at: fields["bucket"]?.location) }
        let key = try fields.requiredString("key")
        if let problem = keyProblem(key) { throw StackError("state.key: \(problem)", at: fields["key"]?.location) }
        guard let kmsKey = try fields.string("kms_key") else {
            throw StackError("state.kms_key is required: a shared state is always encrypted on this machine before it is written, "
                             + "under a data key from this KMS key (an id, a key ARN or alias/NAME)", at: node.location)
        }
        if let problem = kmsKeyProblem(kmsKey) { throw StackError("state.kms_key: \(problem)", at: fields["kms_key"]?.location) }
        let region = try fields.string("region") ?? stackRegion
        guard StackFile.isRegionName(region) else {
            throw StackError("state.region '\(SafeText.quoted(region))' is not a region name like eu-west-1", at: fields["region"]?.location)
        }
        let lease = try fields.int("lock_lease_seconds") ?? defaultLeaseSeconds
        guard leaseRange.contains(lease) else {
            throw StackError("state.lock_lease_seconds must be between \(leaseRange.lowerBound) and \(leaseRange.upperBound), found \(lease)",
                             at: fields["lock_lease_seconds"]?.location)
        }
        let lockDays = try fields.int("object_lock_days") ?? 0
        guard (0...36500).contains(lockDays) else {
            throw StackError("state.object_lock_days must be between 0 (off) and 36500, found \(lockDays)", at: fields["object_lock_days"]?.location)
        }
        return RemoteStateSettings(bucket: bucket, key: key, region: region, kmsKey: kmsKey, lockLeaseSeconds: lease,
                                   objectLockDays: lockDays, location: node.location)
    }

    /// Reads `--backend s3://bucket/key` with the KMS key, region and lease given beside it; without a region, the
    /// settings' region is left empty, for the stack's to fill.
    public static func parse(url: String, kmsKey: String?, region: String?, leaseSeconds: Int?) throws(StackError) -> RemoteStateSettings {
        guard url.hasPrefix("s3://") else {
            throw StackError("--backend '\(SafeText.quoted(url))' is not a bucket URL: give s3://BUCKET/KEY", at: nil)
        }
        let rest = url.dropFirst("s3://".count)
        guard let slash = rest.firstIndex(of: "/") else {
            throw StackError("--backend '\(SafeText.quoted(url))' names no key: give s3://BUCKET/KEY", at: nil)
        }
        let bucket = String(rest[..<slash]), key = String(rest[rest.index(after: slash)...])
        if let problem = bucketProblem(bucket) { throw StackError("--backend: \(problem)", at: nil) }
        if let problem = keyProblem(key) { throw StackError("--backend: \(problem)", at: nil) }
        guard let kmsKey else {
            throw StackError("--backend needs --backend-kms-key: a shared state is always encrypted on this machine before it is written", at: nil)
        }
        if let problem = kmsKeyProblem(kmsKey) { throw StackError("--backend-kms-key: \(problem)", at: nil) }
        if let region, !StackFile.isRegionName(region) {
            throw StackError("--backend-region '\(SafeText.quoted(region))' is not a region name like eu-west-1", at: nil)
        }
        let lease = leaseSeconds ?? defaultLeaseSeconds
        guard leaseRange.contains(lease) else {
            throw StackError("--lock-lease must be between \(leaseRange.lowerBound) and \(leaseRange.upperBound) seconds, found \(lease)", at: nil)
        }
        return RemoteStateSettings(bucket: bucket, key: key, region: region ?? "", kmsKey: kmsKey, lockLeaseSeconds: lease)
    }

    /// S3's rules for a bucket name that works in every addressing style: 3 to 63 lower-case letters, digits, '-'
    /// and '.', starting and ending with a letter or digit, not an IP address.
    static func bucketProblem(_ name: String) -> String? {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }
        let edges = [name.first, name.last].allSatisfy { $0.map { $0.isASCII && ($0.isLowercase || $0.isNumber) } ?? false }
        let ipLike = name.split(separator: ".").count == 4 && name.split(separator: ".").allSatisfy { Int($0) != nil }
        guard (3...63).contains(name.count), allowed, edges, !name.contains(".."), !ipLike else {
            return "'\(SafeText.quoted(name))' is not a bucket name: 3 to 63 lower-case letters, digits, '-' and '.', "
                + "starting and ending with a letter or digit"
        }
        return nil
    }

    /// A key deploy can keep state under: letters, digits and `! - _ . * ' ( ) /` (S3's safe characters), no empty,
    /// `.` or `..` segment, room for the lock and markers beside it, and none of their names: a state at `X.lock`
    /// would be another state's lock.
    static func keyProblem(_ key: String) -> String? {
        let safe = key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "!-_.*'()/".contains($0)) }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, key.utf8.count <= 900, safe, !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            return "'\(SafeText.quoted(key))' is not a state key: 1 to 900 letters, digits and !-_.*'()/, no empty, '.' or '..' segment"
        }
        guard !key.hasSuffix(".lock"), !key.contains(".serials/") else {
            return "'\(SafeText.quoted(key))' is a name deploy keeps beside a state (KEY.lock, KEY.serials/): choose another key"
        }
        return nil
    }

    /// A key id (a UUID, or `mrk-` and 32 hex digits for a multi-Region key), a key or alias ARN, or `alias/NAME`.
    static func kmsKeyProblem(_ key: String) -> String? {
        func isKeyID(_ id: Substring) -> Bool {
            let groups = id.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
            let uuid = groups == [8, 4, 4, 4, 12] && id.allSatisfy { $0.isHexDigit || $0 == "-" }
            return uuid || (id.hasPrefix("mrk-") && id.count == 36 && id.dropFirst(4).allSatisfy(\.isHexDigit))
        }
        func isAliasName(_ name: Substring) -> Bool {
            name.hasPrefix("alias/") && (7...256).contains(name.count) && !name.hasPrefix("alias/aws/")
                && name.dropFirst(6).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/_-".contains($0)) }
        }
        let parts = key.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let ok: Bool
        if parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "kms", StackFile.isRegionName(String(parts[3])),
           parts[4].count == 12, parts[4].allSatisfy(\.isNumber) {
            ok = parts[5].hasPrefix("key/") ? isKeyID(parts[5].dropFirst(4)) : isAliasName(parts[5])
        } else {
            ok = isKeyID(Substring(key)) || isAliasName(Substring(key))
        }
        return ok ? nil : "'\(SafeText.quoted(key))' is not a KMS key: give a key id, a key ARN or alias/NAME"
    }
}
