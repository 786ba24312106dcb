import Foundation
import Diagnostics

/// A signed bundle applied to a stack (`deploy apply --bundle`), as the state records it: which export, which
/// release of which signer, and whether its apply finished.
public struct BundleRecord: Codable, Sendable, Equatable {
    /// The manifest's `bundle_id`: the same files, the same id.
    public var bundleID: String
    /// The SHA-256 of the signed manifest's bytes: one export, whatever it holds.
    public var manifestSHA256: String
    /// The release sequence the signed manifest carries.
    public var sequence: Int64
    /// The fingerprint of the key that verified it.
    public var signer: String
    /// When its apply started, ISO 8601.
    public var started: String
    /// Whether an apply of the whole stack from it finished with every action done. False while it runs, and after
    /// one that was interrupted, failed or ran one phase: the same bundle may then be applied again to finish.
    public var completed: Bool
    /// The sequence on record that this bundle did not exceed, where `--allow-downgrade` let it through.
    public var downgradedFrom: Int64?

    public init(bundleID: String, manifestSHA256: String, sequence: Int64, signer: String, started: String, completed: Bool,
                downgradedFrom: Int64? = nil) {
        self.bundleID = bundleID
        self.manifestSHA256 = manifestSHA256
        self.sequence = sequence
        self.signer = signer
        self.started = started
        self.completed = completed
        self.downgradedFrom = downgradedFrom
    }

    enum CodingKeys: String, CodingKey {
        case bundleID = "bundle_id", manifestSHA256 = "manifest_sha256", sequence, signer, started, completed
        case downgradedFrom = "downgraded_from"
    }
}

/// What a verified bundle says of itself, for comparing with the state's records.
public struct BundleRelease: Sendable, Equatable {
    public var bundleID: String
    public var manifestSHA256: String
    public var sequence: Int64
    /// The fingerprint of the key that verified it (never the archive's own claim).
    public var signer: String

    public init(bundleID: String, manifestSHA256: String, sequence: Int64, signer: String) {
        self.bundleID = bundleID
        self.manifestSHA256 = manifestSHA256
        self.sequence = sequence
        self.signer = signer
    }
}

/// Why a bundle may be applied over what the state records of its signer.
public enum BundleAdmission: Sendable, Equatable {
    /// No bundle from this signer is on record.
    case first
    /// Its sequence is higher than the signer's last.
    case newer(than: BundleRecord)
    /// It is the export whose apply did not finish: this apply continues it.
    case resumed(BundleRecord)
    /// Not newer than the signer's last (an older or equal release, or the same one again), let through by
    /// `--allow-downgrade`.
    case downgrade(from: BundleRecord)
}

/// A bundle refused because the state records a release from the same signer that it does not exceed: a rollback
/// to an older release, another bundle with the same sequence, or a replay of one already applied. Nothing was done.
public struct BundleRollbackError: Error, Sendable, CustomStringConvertible {
    public var release: BundleRelease
    public var recorded: BundleRecord

    public var isReplay: Bool { release.manifestSHA256 == recorded.manifestSHA256 }

    public var description: String {
        let short = { (id: String) in String(id.prefix(12)) }
        let what = isReplay
            ? "this bundle (sequence \(release.sequence), bundle id \(short(release.bundleID))) was already applied to this state "
                + "(started \(recorded.started)); applying it again is refused as a replay"
            : "bundle sequence \(release.sequence) (bundle id \(short(release.bundleID))) is not newer than sequence \(recorded.sequence) "
                + "(bundle id \(short(recorded.bundleID)), started \(recorded.started)), which this state records from the same signer "
                + "\(recorded.signer); an older or equal release is refused as a rollback"
        return what + ". Nothing was changed. Apply a bundle exported with a higher --sequence, or pass --allow-downgrade to apply it on purpose"
    }
}

extension State {
    /// The record of the last bundle applied from `signer`, if any.
    public func bundleRecord(signer: String) -> BundleRecord? {
        bundles?.first { $0.signer == signer }
    }

    /// Whether `release` may be applied: only a higher sequence than its signer's last, or the same export again
    /// while its apply is unfinished. Anything else is refused, unless `allowDowngrade`.
    public func admit(_ release: BundleRelease, allowDowngrade: Bool) throws(BundleRollbackError) -> BundleAdmission {
        guard let recorded = bundleRecord(signer: release.signer) else { return .first }
        if release.sequence > recorded.sequence { return .newer(than: recorded) }
        if release.manifestSHA256 == recorded.manifestSHA256, !recorded.completed { return .resumed(recorded) }
        guard allowDowngrade else { throw BundleRollbackError(release: release, recorded: recorded) }
        return .downgrade(from: recorded)
    }

    /// Records that an apply of `release` starts (`completed` false), as `admission` let it: the signer's record is
    /// replaced, and a downgrade keeps the sequence it went below.
    public mutating func recordBundleStarted(_ release: BundleRelease, admission: BundleAdmission, at now: Date = Date()) {
        var downgradedFrom: Int64?
        switch admission {
        case .first, .newer: downgradedFrom = nil
        case .resumed(let record): downgradedFrom = record.downgradedFrom
        case .downgrade(let record): downgradedFrom = record.sequence
        }
        let started = if case .resumed(let record) = admission { record.started } else { ISO8601DateFormatter().string(from: now) }
        setBundleRecord(BundleRecord(bundleID: release.bundleID, manifestSHA256: release.manifestSHA256, sequence: release.sequence,
                                     signer: release.signer, started: started, completed: false, downgradedFrom: downgradedFrom))
    }

    /// Marks the apply of `release` finished; nothing happens when the signer's record is of another export.
    public mutating func recordBundleCompleted(_ release: BundleRelease) {
        guard var record = bundleRecord(signer: release.signer), record.manifestSHA256 == release.manifestSHA256 else { return }
        record.completed = true
        setBundleRecord(record)
    }

    private mutating func setBundleRecord(_ record: BundleRecord) {
        var records = (bundles ?? []).filter { $0.signer != record.signer }
        records.append(record)
        bundles = records.sorted { $0.signer < $1.signer }
    }
}

extension BundleRollbackError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
