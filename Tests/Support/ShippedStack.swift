import Foundation

/// The shipped stacks as tests load them: a copy of `Stacks/` in a scratch directory, beside stand-ins for the
/// artifacts the stacks upload (the real ones, a static server build and a model, are made by `scripts/artifacts`
/// and are not committed), with `Templates` linked beside it so that the copy finds the repository's templates.
public enum ShippedStack {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Small files standing in for what `scripts/artifacts` puts in Stacks/artifacts, by name.
    public static let standIns: [String: String] = [
        "inference-server": "#!/bin/sh\necho 'a stand-in for the inference-server binary'\n",
        "model.gguf": "GGUF: a stand-in for the model\n",
        "keys.json": "{\"keys\": []}\n",
    ]

    private static let copy: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-shipped-\(UUID().uuidString)")
        let stacks = root.appendingPathComponent("Stacks")
        do {
            try FileManager.default.createDirectory(at: stacks.appendingPathComponent("artifacts"), withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("Stacks").path) where name.hasSuffix(".json5") {
                try FileManager.default.copyItem(at: repository.appendingPathComponent("Stacks/\(name)"), to: stacks.appendingPathComponent(name))
            }
            try writeStandIns(into: stacks.appendingPathComponent("artifacts"))
            try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("Templates"),
                                                       withDestinationURL: repository.appendingPathComponent("Templates"))
        } catch {
            preconditionFailure("cannot copy the shipped stacks: \(error)")
        }
        return stacks
    }()

    /// The path of the copy of `Stacks/<name>.json5`.
    public static func path(_ name: String = "private-inference") -> String {
        copy.appendingPathComponent("\(name).json5").path
    }

    /// A private, writable copy of the shipped stack `name` with its own copy of the templates, in a new scratch
    /// directory (the caller removes it), so that state, locks and edited templates land there.
    public static func scratch(_ name: String = "private-inference", prefix: String = "deploy-scratch") throws -> (stack: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("Stacks"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repository.appendingPathComponent("Templates"), to: directory.appendingPathComponent("Templates"))
        let stack = directory.appendingPathComponent("Stacks/\(name).json5")
        try FileManager.default.copyItem(at: repository.appendingPathComponent("Stacks/\(name).json5"), to: stack)
        try writeStandIns(into: directory.appendingPathComponent("Stacks/artifacts"))
        return (stack.path, directory)
    }

    /// Writes the stand-in artifacts into `directory`, and the fleet's listener certificate (`tls/listener.pem`).
    public static func writeStandIns(into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("tls"), withIntermediateDirectories: true)
        for (name, text) in standIns { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        try listenerCertificate.get().write(to: directory.appendingPathComponent("tls/listener.pem"), atomically: true, encoding: .utf8)
    }

    /// A self-signed certificate, its key after it (the layout `aws.acm.certificate` imports), made once per run by
    /// openssl: a real certificate, since the local endpoint's ACM parses what it imports.
    public static let listenerCertificate: Result<String, any Error> = Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-listener-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                             "-subj", "/CN=inference.fleet.internal", "-keyout", directory.appendingPathComponent("key.pem").path,
                             "-out", directory.appendingPathComponent("certificate.pem").path]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        return try String(contentsOf: directory.appendingPathComponent("certificate.pem"), encoding: .utf8)
            + String(contentsOf: directory.appendingPathComponent("key.pem"), encoding: .utf8)
    }
}
