import Foundation
import Hashing

/// What a bundle holds: written last into the archive (the digests are known once every file is written) and signed.
public struct BundleManifest: Codable, Sendable, Equatable {
    /// `/2` added the release sequence; a `/1` bundle, which has none, is refused (export it again).
    public static let currentFormat = "deploy.bundle/2"
    /// The largest sequence: 2^53 - 1, the largest integer every JSON reader holds exactly.
    public static let maxSequence: Int64 = (1 << 53) - 1
    public static let path = "manifest.json"
    public static let signaturePath = "manifest.sig"

    /// One file of the bundle.
    public struct File: Codable, Sendable, Equatable {
        public var path: String
        /// deploy, inference-server, stack, template, pricing, artifact, model, plan or sbom.
        public var role: String
        public var size: Int64
        /// Lower-case hex.
        public var sha256: String
    }

    public var format: String
    /// The SHA-256 of the file list (paths, roles, sizes, digests): the same contents, the same id.
    public var bundleID: String
    /// The signer's release number: a site that applied one bundle refuses one with an equal or lower sequence from
    /// the same signer (`apply --bundle`). In the manifest, and so covered by its signature. 0...`maxSequence`.
    public var sequence: Int64
    /// ISO 8601, from SOURCE_DATE_EPOCH when set.
    public var created: String
    /// Tool versions, by name.
    public var tools: [String: String]
    /// `linux-x86_64`: where the binaries run.
    public var platform: String
    /// The stack file's path in the bundle.
    public var stack: String
    public var files: [File]

    enum CodingKeys: String, CodingKey {
        case format, bundleID = "bundle_id", sequence, created, tools, platform, stack, files
    }

    /// The manifest's bytes as written and signed: keys sorted, so the same manifest is the same bytes.
    public func encoded() throws(BundleError) -> [UInt8] {
        try CanonicalJSON.encode(self, as: Self.path)
    }

    static func identity(of files: [File]) -> String {
        SHA256.hex(files.map { "\($0.path)\t\($0.role)\t\($0.size)\t\($0.sha256)\n" }.joined())
    }
}

/// The detached signature of the manifest, beside it in the archive.
public struct ManifestSignature: Codable, Sendable {
    public var algorithm: String
    /// The signer's public key fingerprint, as the archive claims it: not covered by the signature, so never shown as
    /// the signer (the fingerprint of the key that verified is).
    public var key: String
    /// Base64 of the 64-byte Ed25519 signature over manifest.json's bytes.
    public var signature: String

    func encoded() throws(BundleError) -> [UInt8] {
        try CanonicalJSON.encode(self, as: BundleManifest.signaturePath)
    }
}
