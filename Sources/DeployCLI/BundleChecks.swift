import Bundling
import Foundation
import Glibc

/// `bundle verify`, `inspect` and `import`. The signer they name is the fingerprint of the key given (SHA256: and the
/// unpadded base64 of the SHA-256 of the raw 32-byte Ed25519 public key, as OpenSSH prints it), never the archive's
/// claim; every other text from the archive goes through `ArchiveText` before it is shown.
enum BundleChecks {
    static func verify(_ file: String, key path: String, _ context: CommandContext) throws -> Int32 {
        let key = try BundleKeys.publicKey(path)
        let started = Date()
        let bundle = try BundleReader.open(file, key: key)
        try BundleReader.scan(bundle)
        let seconds = Date().timeIntervalSince(started)
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(Verified(bundle: file, verified: true, bundle_id: bundle.manifest.bundleID,
                                                             manifest_sha256: bundle.manifestSHA256, sequence: bundle.manifest.sequence,
                                                             signer: key.fingerprint, files: bundle.manifest.files.count, size: bundle.size)))
        case .text:
            context.console.out("verified \(file): signed by the key given, \(key.fingerprint); bundle id \(ArchiveText.shown(bundle.manifest.bundleID)), "
                + "sequence \(bundle.manifest.sequence); \(bundle.manifest.files.count) files and "
                + "\(BundleSizes.text(bundle.size)) match the manifest" + (bundle.isSplit ? " (parts match the index)" : "")
                + String(format: ", in %.1f s", seconds))
        }
        return ExitCode.success
    }

    struct Verified: Encodable {
        var bundle: String
        var verified: Bool
        var bundle_id: String
        var manifest_sha256: String
        var sequence: Int64
        /// The fingerprint of the key that verified.
        var signer: String
        var files: Int
        var size: Int64
    }

    struct Inspected: Encodable {
        var bundle: String
        var format: String
        var bundle_id: String
        var manifest_sha256: String
        var sequence: Int64
        var created: String
        var platform: String
        var tools: [String: String]
        var stack: String
        /// The fingerprint of the key given with --pubkey, when the signature verified with it; null without --pubkey.
        var signer: String?
        /// What manifest.sig claims, escaped and cut: the archive's word, not a checked fact.
        var claimed_signer: String
        var signature_verified: Bool
        var files: [File]
        var sbom: [Component]

        struct File: Encodable {
            var path: String
            var role: String
            var size: Int64
            var sha256: String
        }

        struct Component: Encodable {
            var type: String
            var name: String
            var version: String?
            var properties: [String: String]
        }
    }

    /// What the bundle says it holds, from its headers, manifest and SBOM (checked against the manifest's digest);
    /// the files' data is not read.
    static func inspect(_ file: String, key path: String?, _ context: CommandContext) throws -> Int32 {
        let key = try path.map(BundleKeys.publicKey)
        let bundle = try BundleReader.open(file, key: key)
        let components = try sbom(bundle)
        let manifest = bundle.manifest
        let report = Inspected(bundle: file, format: manifest.format, bundle_id: manifest.bundleID, manifest_sha256: bundle.manifestSHA256,
                               sequence: manifest.sequence, created: manifest.created, platform: manifest.platform, tools: manifest.tools,
                               stack: manifest.stack, signer: bundle.signer, claimed_signer: ArchiveText.shown(bundle.claimedSigner),
                               signature_verified: bundle.signer != nil,
                               files: manifest.files.map { .init(path: $0.path, role: $0.role, size: $0.size, sha256: $0.sha256) },
                               sbom: components)
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(report))
        case .text:
            let shown = ArchiveText.shown
            context.console.out("bundle \(file) (\(shown(report.format))), id \(shown(report.bundle_id)), sequence \(report.sequence)")
            context.console.out("created \(shown(report.created)) for \(shown(report.platform)); deploy \(shown(report.tools["deploy"] ?? "?")); "
                + "stack \(shown(report.stack))")
            if let signer = bundle.signer {
                context.console.out("signed by \(signer) (checked with the key given)")
            } else {
                context.console.out("not checked: the bundle claims to be signed by '\(report.claimed_signer)'; pass --pubkey to check it")
            }
            context.console.out("")
            for file in report.files {
                context.console.out("  \(shown(file.role).padding(toLength: 16, withPad: " ", startingAt: 0)) "
                    + "\(BundleSizes.text(file.size).padding(toLength: 11, withPad: " ", startingAt: 0)) \(shown(String(file.sha256.prefix(16))))  "
                    + shown(file.path))
            }
            let total = report.files.reduce(Int64(0)) { $0 + $1.size }
            context.console.out("  \(report.files.count) files, \(BundleSizes.text(total))")
            context.console.out("")
            context.console.out("SBOM (CycloneDX 1.5, its SHA-256 as the manifest lists it):")
            for component in report.sbom where component.type != "file" {
                let details = component.properties.filter { $0.key != "deploy:role" }.sorted { $0.key < $1.key }
                    .map { "\(shown($0.key))=\(shown($0.value))" }
                context.console.out("  \(shown(component.type)) \(shown(component.name))" + (component.version.map { " \(shown($0))" } ?? "")
                    + (details.isEmpty ? "" : " (" + details.joined(separator: ", ") + ")"))
            }
            context.console.out("  and \(report.sbom.filter { $0.type == "file" }.count) files")
        }
        return ExitCode.success
    }

    /// The SBOM's components, read only once its bytes match the SHA-256 the manifest lists.
    private static func sbom(_ bundle: OpenedBundle) throws -> [Inspected.Component] {
        guard let bytes = try BundleReader.checkedContents(of: "sbom.cdx.json", in: bundle, limit: 16 << 20) else { return [] }
        let document: SBOMDocument
        do {
            document = try JSONDecoder().decode(SBOMDocument.self, from: Data(bytes))
        } catch {
            throw BundleError("sbom.cdx.json is not a CycloneDX document as deploy writes it: \(error)", file: bundle.path)
        }
        return document.components.map { component in
            let properties = (component.properties ?? []).reduce(into: [String: String]()) { $0[$1.name] = $1.value }
            return .init(type: component.type, name: component.name, version: component.version, properties: properties)
        }
    }

    static func importBundle(_ file: String, key path: String, to destination: String, _ context: CommandContext) throws -> Int32 {
        let key = try BundleKeys.publicKey(path)
        let bundle = try BundleReader.open(file, key: key)
        try BundleImport.extract(bundle, to: destination)
        context.console.out("imported \(file) into \(destination): \(bundle.manifest.files.count) files, sequence \(bundle.manifest.sequence), "
            + "signed by the key given, \(key.fingerprint); every byte checked")
        context.console.out("apply it with: \(destination)/bin/deploy apply --stack \(destination)/\(ArchiveText.shown(bundle.manifest.stack)) --state STATE")
        return ExitCode.success
    }
}
