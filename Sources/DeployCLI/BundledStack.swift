import Bundling
import Foundation
import Hashing
import Plan
import Stack
import TextSafety

/// A verified bundle made ready to apply: its stack, templates and catalog unpacked into a private temporary
/// directory; its artifacts left in the archive, read from there at their offsets (no copy of a model is made).
struct BundledStack {
    var directory: String
    var stackPath: String
    /// Which release of which signer it is: the signer is the fingerprint of the key it verified with.
    var release: BundleRelease
    /// By the absolute path the stack resolves each artifact to, in the temporary directory.
    var artifacts: [String: LocalArtifact]

    /// Opens and verifies the bundle at `path` with `key`. `admit` sees the release as soon as the signature has
    /// verified, before a byte of the files is read or unpacked: what it throws stops everything there.
    static func open(_ path: String, key: Ed25519.PublicKey, admit: (BundleRelease) throws -> Void) throws -> BundledStack {
        let bundle = try BundleReader.open(path, key: key)
        let release = BundleRelease(bundleID: bundle.manifest.bundleID, manifestSHA256: bundle.manifestSHA256,
                                    sequence: bundle.manifest.sequence, signer: key.fingerprint)
        try admit(release)
        let artifactRoles: Set<String> = ["artifact", "model", "deploy", "inference-server"]
        let roles = Dictionary(bundle.manifest.files.map { ($0.path, $0) }) { first, _ in first }
        guard roles[bundle.manifest.stack]?.role == "stack" else {
            throw BundleError("the manifest names '\(SafeText.quoted(bundle.manifest.stack, limit: BundleError.quoteLimit))' as the stack, "
                              + "which is not one of its files of role stack", file: path, entry: BundleManifest.path)
        }
        let artifactFiles = bundle.entries.filter { artifactRoles.contains(roles[$0.path]?.role ?? "") }
        guard !bundle.isSplit || artifactFiles.isEmpty else {
            throw UsageError(message: "\(path) is split into parts; apply reads artifacts straight from one archive: join the parts "
                             + "(deploy bundle import, or cat) first", command: "apply")
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

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
