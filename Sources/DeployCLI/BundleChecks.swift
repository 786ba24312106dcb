import Bundling
import Foundation
import Glibc

/// `bundle verify`, `inspect` and `import`.
enum BundleChecks {
    static func verify(_ file: String, _ context: CommandContext) throws -> Int32 {
        let key = try BundleKeys.publicKey(context.arguments.value("pubkey")!)
        let started = Date()
        let bundle = try BundleReader.open(file, key: key)
        try BundleReader.scan(bundle)
        let seconds = Date().timeIntervalSince(started)
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(Verified(bundle: file, verified: true, bundle_id: bundle.manifest.bundleID,
                                                             signer: bundle.signer, files: bundle.manifest.files.count, size: bundle.size)))
        case .text:
            context.console.out("verified \(file): signed by \(bundle.signer); \(bundle.manifest.files.count) files and "
                + "\(BundleSizes.text(bundle.size)) match the manifest" + (bundle.isSplit ? " (parts match the index)" : "")
                + String(format: ", in %.1f s", seconds))
        }
        return ExitCode.success
    }

    struct Verified: Encodable {
        var bundle: String
        var verified: Bool
        var bundle_id: String
        var signer: String
        var files: Int
        var size: Int64
    }

    struct Inspected: Encodable {
        var bundle: String
        var format: String
        var bundle_id: String
        var created: String
        var platform: String
        var tools: [String: String]
        var stack: String
        /// The fingerprint the signature names; `signature_verified` says whether --pubkey confirmed it.
        var signer: String
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

    /// What the bundle says it holds, from its headers, manifest and SBOM; the data is not read.
    static func inspect(_ file: String, _ context: CommandContext) throws -> Int32 {
        let key = try context.arguments.value("pubkey").map(BundleKeys.publicKey)
        let bundle = try BundleReader.open(file, key: key)
        let components = try sbom(bundle)
        let report = Inspected(bundle: file, format: bundle.manifest.format, bundle_id: bundle.manifest.bundleID, created: bundle.manifest.created,
                               platform: bundle.manifest.platform, tools: bundle.manifest.tools, stack: bundle.manifest.stack,
                               signer: bundle.signer, signature_verified: key != nil,
                               files: bundle.manifest.files.map { .init(path: $0.path, role: $0.role, size: $0.size, sha256: $0.sha256) },
                               sbom: components)
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(report))
        case .text:
            context.console.out("bundle \(file) (\(report.format)), id \(report.bundle_id)")
            context.console.out("created \(report.created) for \(report.platform); deploy \(report.tools["deploy"] ?? "?"); stack \(report.stack)")
            context.console.out("signed by \(report.signer)" + (key == nil ? " (not checked: pass --pubkey to check it)" : " (checked)"))
            context.console.out("")
            for file in report.files {
                context.console.out("  \(file.role.padding(toLength: 16, withPad: " ", startingAt: 0)) \(BundleSizes.text(file.size).padding(toLength: 11, withPad: " ", startingAt: 0)) \(file.sha256.prefix(16))  \(file.path)")
            }
            let total = report.files.reduce(Int64(0)) { $0 + $1.size }
            context.console.out("  \(report.files.count) files, \(BundleSizes.text(total))")
            context.console.out("")
            context.console.out("SBOM (CycloneDX 1.5):")
            for component in report.sbom where component.type != "file" {
                let details = component.properties.filter { $0.key != "deploy:role" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                context.console.out("  \(component.type) \(component.name)" + (component.version.map { " \($0)" } ?? "")
                    + (details.isEmpty ? "" : " (" + details.joined(separator: ", ") + ")"))
            }
            context.console.out("  and \(report.sbom.filter { $0.type == "file" }.count) files")
        }
        return ExitCode.success
    }

    private static func sbom(_ bundle: OpenedBundle) throws -> [Inspected.Component] {
        guard let entry = bundle.entry("sbom.cdx.json"), entry.size < 16 << 20 else { return [] }
        let data = Data(try BundleReader.contents(of: entry, in: bundle))
        guard let document = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let components = document["components"] as? [[String: Any]] else { return [] }
        return components.map { component in
            let properties = (component["properties"] as? [[String: String]] ?? []).reduce(into: [String: String]()) { $0[$1["name"] ?? ""] = $1["value"] }
            return .init(type: component["type"] as? String ?? "", name: component["name"] as? String ?? "",
                         version: component["version"] as? String, properties: properties)
        }
    }

    static func importBundle(_ file: String, _ context: CommandContext) throws -> Int32 {
        let key = try BundleKeys.publicKey(context.arguments.value("pubkey")!)
        let destination = context.arguments.value("to")!
        let bundle = try BundleReader.open(file, key: key)
        try BundleImport.extract(bundle, to: destination)
        context.console.out("imported \(file) into \(destination): \(bundle.manifest.files.count) files, signed by \(bundle.signer), every byte checked")
        context.console.out("apply it with: \(destination)/bin/deploy apply --stack \(destination)/\(bundle.manifest.stack) --state STATE")
        return ExitCode.success
    }
}
