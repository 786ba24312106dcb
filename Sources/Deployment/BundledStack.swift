import Bundling
import Foundation
import Hashing
import Plan
import Stack
import TextSafety

/// A verified bundle made ready to apply: its stack, templates and catalog unpacked into a private temporary
/// directory; its artifacts left in the archive, read from there at their offsets (no copy of a model is made).
public struct BundledStack: Sendable {
    public var directory: String
    public var stackPath: String
    /// Which release of which signer it is: the signer is the fingerprint of the key it verified with.
    public var release: BundleRelease
    /// By the absolute path the stack resolves each artifact to, in the temporary directory.
    public var artifacts: [String: LocalArtifact]

    /// Opens and verifies the bundle at `path` with `key`. A release that the state at `statePath` does not admit
    /// (older than, or the same as, the last one completed from its signer, unless `allowDowngrade`) is refused on
    /// the signed manifest alone, before a byte of the files is read or unpacked, a lock taken or a call made.
    public static func open(_ path: String, key: Ed25519.PublicKey, statePath: String, allowDowngrade: Bool) throws -> BundledStack {
        let bundle = try BundleReader.open(path, key: key)
        let release = BundleRelease(bundleID: bundle.manifest.bundleID, manifestSHA256: bundle.manifestSHA256,
                                    sequence: bundle.manifest.sequence, signer: key.fingerprint)
        _ = try StateStore(path: statePath).load()?.admit(release, allowDowngrade: allowDowngrade)
        let artifactRoles: Set<String> = ["artifact", "model", "deploy", "inference-server"]
        let roles = Dictionary(bundle.manifest.files.map { ($0.path, $0) }) { first, _ in first }
        guard roles[bundle.manifest.stack]?.role == "stack" else {
            throw BundleError("the manifest names '\(SafeText.quoted(bundle.manifest.stack, limit: BundleError.quoteLimit))' as the stack, "
                              + "which is not one of its files of role stack", file: path, entry: BundleManifest.path)
        }
        let artifactFiles = bundle.entries.filter { artifactRoles.contains(roles[$0.path]?.role ?? "") }
        guard !bundle.isSplit || artifactFiles.isEmpty else {
            throw Refused("\(path) is split into parts; apply reads artifacts straight from one archive: join the parts "
                          + "(deploy bundle import, or cat) first", hint: "See 'deploy apply --help'.")
        }
        let parent = FileManager.default.temporaryDirectory.path
        let directory = parent + "/deploy-bundle-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // one pass checks every byte of the archive, artifacts included, while it unpacks the small files
        try BundleImport.extract(bundle, to: directory) { !artifactRoles.contains(roles[$0.path]?.role ?? "") }
        let archive = URL(fileURLWithPath: path).standardizedFileURL.path
        var artifacts: [String: LocalArtifact] = [:]
        for entry in artifactFiles {
            guard let file = roles[entry.path] else { continue }
            artifacts[URL(fileURLWithPath: directory + "/" + entry.path).standardizedFileURL.path] =
                LocalArtifact(path: archive, offset: entry.offset, size: entry.size, sha256: file.sha256)
        }
        return BundledStack(directory: directory, stackPath: directory + "/" + bundle.manifest.stack, release: release, artifacts: artifacts)
    }

    /// Deletes the unpacked directory.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
