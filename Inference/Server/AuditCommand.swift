import Foundation
import Hashing
import InferenceService
import TextSafety

/// `inference-server audit verify FILE... [--public-key PEM] [--checkpoints DIR] [--live]`: checks an audit log (rotated
/// files oldest first) and its signed checkpoints, names every sign of tampering, and says how much of it a
/// signed checkpoint anchors. Exit 0 intact, 1 tampered, 2 bad usage or a file that cannot be read.
/// `inference-server audit keygen --key FILE`: a new checkpoint key, its public half printed.
enum Audit {
    static let usage = """
        USAGE: inference-server audit verify FILE [FILE...] [--public-key PEM] [--checkpoints DIR] [--live]   (rotated files oldest first: log.2 log.1 log;
                 --live: the server is still writing the log, so its last records may be unanchored for one checkpoint interval)
               inference-server audit keygen --key FILE   (a new checkpoint signing key, mode 0600; prints its public key)
        """

    static func run(_ arguments: [String]) throws {
        if arguments.first == "--help" || arguments.first == "-h" { throw Arguments.HelpRequested(usage: usage) }
        switch arguments.first {
        case "verify": try verify(Array(arguments.dropFirst()))
        case "keygen": try keygen(Array(arguments.dropFirst()))
        default: throw Arguments.Invalid(description: "audit: give verify FILE... or keygen --key FILE")
        }
    }

    static func keygen(_ arguments: [String]) throws {
        let options = try Arguments("audit keygen", arguments, valued: ["--key"], switches: [], usage: usage)
        let path = try options.required("--key")
        let key = try AuditKey.create(path)
        print(key.publicKey.pem, terminator: "")
        FileHandle.standardError.write(Data("inference-server: wrote \(path) (private, mode 0600); public key fingerprint \(key.publicKey.openSSHFingerprint)\n".utf8))
    }

    static func verify(_ arguments: [String]) throws {
        var files: [String] = []
        var values: [String: String] = [:]
        var live = false
        var index = 0
        while index < arguments.count {
            var flag = arguments[index]
            var value: String?
            if flag == "--help" || flag == "-h" { throw Arguments.HelpRequested(usage: usage) }
            if flag.hasPrefix("--"), let equals = flag.firstIndex(of: "=") {
                value = String(flag[flag.index(after: equals)...])
                flag = String(flag[..<equals])
            }
            if flag == "--live", value == nil {
                live = true
            } else if flag == "--public-key" || flag == "--checkpoints" {
                if value == nil {
                    guard index + 1 < arguments.count else { throw Arguments.Invalid(description: "audit verify: \(flag) needs a value") }
                    index += 1
                    value = arguments[index]
                }
                values[flag] = value
            } else if flag.hasPrefix("-") {
                throw Arguments.Invalid(description: "audit verify: unknown option '\(SafeText.quoted(flag))' (known: --checkpoints --live --public-key)")
            } else {
                files.append(flag)
            }
            index += 1
        }
        guard !files.isEmpty else { throw Arguments.Invalid(description: "audit verify: give the log's FILE (rotated files oldest first)") }
        var publicKey: Ed25519.PublicKey?
        if let path = values["--public-key"] {
            do {
                publicKey = try Ed25519.PublicKey(pem: try Ed25519.pemText(file: path), file: path)
            } catch {
                throw Arguments.Invalid(description: "audit verify: --public-key \(error.description)")
            }
        }
        let result: AuditVerification
        do {
            result = try AuditVerifier.verify(files, publicKey: publicKey, checkpoints: values["--checkpoints"], live: live)
        } catch {
            throw Arguments.Invalid(description: "audit verify: \(error.description)")
        }
        print(AuditVerificationReport.text(result), terminator: "")
        if !result.intact { exit(1) }
    }
}
