import Bundling
import Foundation
import Hashing
import Stack

/// `deploy bundle keygen | export | verify | inspect | import`: everything a site without internet needs, in one
/// signed archive that is checked before anything in it is used.
struct BundleCommand: Command {
    static let name = "bundle"
    static let abstract = "Export a signed air-gap bundle of a stack and its files; verify, inspect or import one."
    static let discussion = """
        keygen --out KEY: an Ed25519 key pair (KEY, mode 0600, and KEY.pub). export --stack FILE --out FILE: a POSIX tar \
        with the deploy and inference-server binaries, the stack, its templates and pricing catalog, its artifacts, \
        each --model, an optional --plan, an SBOM (CycloneDX 1.5) and a manifest of every file's size and SHA-256, \
        signed with --sign-key; byte-identical for the same inputs when SOURCE_DATE_EPOCH is set; --split SIZE writes \
        parts (FILE.000, ...) and an index at FILE; --sequence N numbers the release (default: SOURCE_DATE_EPOCH, else \
        the time now, in seconds), and apply --bundle refuses one not newer than the last it applied from the same \
        signer. verify FILE --pubkey KEY: the signature, the manifest, then every byte, streaming; exit 1 with what \
        failed and where; it names the signer by the fingerprint of the key given. inspect FILE: contents, sizes, \
        digests, sequence, signer and SBOM. \
        import FILE --pubkey KEY --to DIR: verifies while extracting into a new directory beside DIR, renamed into place \
        only when complete. Apply straight from a bundle with deploy apply --bundle FILE --pubkey KEY.
        """
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let positionals = ["keygen|export|verify|inspect|import", "[FILE]"]

    struct Options: CommandOptions {
        var stack = StackSelection()
        var out: String?
        var models: [String] = []
        var plan: String?
        var signKey: String?
        var server: String?
        var deploy: String?
        var split: Int64?
        var sequence: Int64?
        var pubkey: String?
        var to: String?
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack, state: false) + [
            .value("out", "file", "keygen: the private key file; export: the bundle file.", \.out),
            .values("model", "path", "export: a model file to include (repeatable).", \.models),
            .value("plan", "file", "export: a saved plan to include.", \.plan),
            .value("sign-key", "key", "export: the Ed25519 private key that signs the manifest.", \.signKey),
            .value("server", "file", "export: the inference-server binary (default: beside deploy).", \.server),
            .value("deploy", "file", "export: the deploy binary to ship (default: this one).", \.deploy),
            .value("split", "size", "export: write parts of at most this size (bytes, or with K, M, G).", \.split) { text throws(UsageError) in
                guard let size = BundleSizes.parse(text) else {
                    throw UsageError(message: "--split must be a size such as 4G, 700M or 1048576, of at least 1M, not '\(text)'")
                }
                return size
            },
            .value("sequence", "n", "export: the release sequence, higher than the signer's last (default: SOURCE_DATE_EPOCH, else now, in seconds).",
                   \.sequence, BundleSequence.parse),
            .value("pubkey", "key", "verify, inspect, import: the Ed25519 public key the bundle must be signed with.", \.pubkey),
            .value("to", "dir", "import: the directory to create.", \.to),
        ]

        func validate() throws(UsageError) {
            let words = positionals
            switch words.first {
            case "keygen":
                guard words.count == 1 else { throw UsageError(message: "bundle keygen takes no file; use --out", command: name) }
                _ = try given(out, "out")
            case "export":
                guard words.count == 1 else { throw UsageError(message: "bundle export takes no file; use --out", command: name) }
                _ = try given(stack.stackPath, "stack")
                _ = try given(out, "out")
            case "verify", "inspect", "import":
                guard words.count == 2 else { throw UsageError(message: "bundle \(words[0]) takes one bundle FILE", command: name) }
                if words[0] != "inspect" { _ = try given(pubkey, "pubkey") }
                if words[0] == "import" { _ = try given(to, "to") }
            case let other:
                throw UsageError(message: "bundle needs keygen, export, verify, inspect or import" + (other.map { ", not '\($0)'" } ?? ""), command: name)
            }
        }

        /// `value`, which the subcommand needs: "bundle <subcommand> needs --<option>" when it was not given.
        func given(_ value: String?, _ option: String) throws(UsageError) -> String {
            guard let value else { throw UsageError(message: "bundle \(positionals.first ?? "") needs --\(option)", command: name) }
            return value
        }
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let words = parsed.positionals
        switch words[0] {
        case "keygen": return try BundleKeys.generate(try parsed.given(parsed.out, "out"), context)
        case "export": return try await BundleExportRun.run(parsed, context)
        case "verify": return try BundleChecks.verify(words[1], key: try parsed.given(parsed.pubkey, "pubkey"), context)
        case "inspect": return try BundleChecks.inspect(words[1], key: parsed.pubkey, context)
        default: return try BundleChecks.importBundle(words[1], key: try parsed.given(parsed.pubkey, "pubkey"), to: try parsed.given(parsed.to, "to"),
                                                      context)
        }
    }
}

/// Sizes on the command line: bytes, or with K, M or G (powers of 1024).
enum BundleSizes {
    static func parse(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        let unit = text.last.flatMap { units[Character($0.uppercased())] }
        guard let number = Int64(unit == nil ? text : String(text.dropLast())), number > 0 else { return nil }
        let (size, overflow) = number.multipliedReportingOverflow(by: unit ?? 1)
        return overflow || size < 1 << 20 ? nil : size
    }

    static func text(_ bytes: Int64) -> String {
        bytes >= 1 << 30 ? String(format: "%.2f GiB", Double(bytes) / Double(1 << 30))
            : bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) : "\(bytes) B"
    }
}

/// `--sequence N`: a whole number every JSON reader holds exactly.
enum BundleSequence {
    static func parse(_ text: String) throws(UsageError) -> Int64 {
        guard let value = Int64(text), (0...BundleManifest.maxSequence).contains(value) else {
            throw UsageError(message: "--sequence must be a whole number from 0 to \(BundleManifest.maxSequence), not '\(text)'",
                             command: BundleCommand.name)
        }
        return value
    }
}

/// `bundle keygen`.
enum BundleKeys {
    static func generate(_ path: String, _ context: CommandContext) throws -> Int32 {
        for file in [path, path + ".pub"] where FileManager.default.fileExists(atPath: file) {
            throw UsageError(message: "\(file) exists; keygen never overwrites a key", command: BundleCommand.name)
        }
        let key = Ed25519.PrivateKey.generate()
        guard FileManager.default.createFile(atPath: path, contents: Data(key.pem.utf8), attributes: [.posixPermissions: 0o600]),
              FileManager.default.createFile(atPath: path + ".pub", contents: Data(key.publicKey.pem.utf8), attributes: [.posixPermissions: 0o644]) else {
            throw UsageError(message: "cannot write \(path)", command: BundleCommand.name)
        }
        context.console.out("wrote \(path) (private, mode 0600) and \(path).pub; fingerprint \(key.publicKey.fingerprint)")
        return ExitCode.success
    }

    static func publicKey(_ path: String) throws -> Ed25519.PublicKey {
        let text = try keyText(path, what: "the public key")
        do {
            return try Ed25519.PublicKey(pem: text, file: path)
        } catch {
            throw UsageError(message: error.description, command: BundleCommand.name)
        }
    }

    static func privateKey(_ path: String) throws -> Ed25519.PrivateKey {
        let text = try keyText(path, what: "the signing key")
        do {
            return try Ed25519.PrivateKey(pem: text, file: path)
        } catch {
            throw UsageError(message: error.description, command: BundleCommand.name)
        }
    }

    private static func keyText(_ path: String, what: String) throws(UsageError) -> String {
        do {
            return try Ed25519.pemText(file: path)
        } catch {
            throw UsageError(message: "\(what) \(path): \(error.message)", command: BundleCommand.name)
        }
    }
}
