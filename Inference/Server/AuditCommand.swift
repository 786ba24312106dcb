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
        print(render(result), terminator: "")
        if !result.intact { exit(1) }
    }

    /// The report: the verdict, each finding named, then what is anchored.
    static func render(_ result: AuditVerification) -> String {
        var text = ""
        let range = result.records == 0 ? "" : " (records \(result.firstSeq)-\(result.lastSeq))"
        if result.intact {
            text += "audit log intact: \(result.records) record\(result.records == 1 ? "" : "s") chained\(range)\n"
        } else if result.findings.contains(where: { if case .tornTail = $0 { true } else { false } }),
                  result.findings.allSatisfy({ switch $0 { case .tornTail, .unanchoredTail: true; default: false } }) {
            // a crash's or a full disk's leavings, no more: say so, though nothing vouches for the torn record
            text += "audit log TORN (no other sign of tampering): \(result.findings.count) finding\(result.findings.count == 1 ? "" : "s") in \(result.records) records\(range)\n"
            for finding in result.findings { text += "  \(finding.name): \(SafeText.terminal(finding.description))\n" }
        } else {
            text += "audit log TAMPERED: \(result.findings.count) finding\(result.findings.count == 1 ? "" : "s") in \(result.records) records\(range)\n"
            let shown = 50
            for finding in result.findings.prefix(shown) { text += "  \(finding.name): \(SafeText.terminal(finding.description))\n" }
            if result.findings.count > shown { text += "  … and \(result.findings.count - shown) more\n" }
        }
        text += "checkpoints: \(result.logCheckpoints) in the log, \(result.shippedCheckpoints) shipped; "
        switch result.key {
        case .given(let fingerprint): text += "signatures checked with the given key \(fingerprint)\n"
        case .directory(let fingerprint):
            text += "signatures checked with the checkpoint directory's key \(fingerprint) (give --public-key to check it against a key held apart)\n"
        case .none: text += "signatures NOT checked (no --public-key, and no audit-key.pub.pem in a --checkpoints directory): nothing is anchored\n"
        }
        if let anchor = result.anchor {
            // with findings, the anchor never reaches a record they put in doubt (AuditVerifier caps it)
            text += "anchored: records 1-\(result.anchoredThrough)\(result.intact ? "" : " (those before the first record in doubt)") "
                + "by the signed \(anchor.kind.rawValue) checkpoint of \(SafeText.terminal(anchor.time))\n"
        } else if !result.intact, result.key != .none {
            text += "anchored: none (no signed checkpoint vouches for the records before the first in doubt)\n"
        }
        if result.unanchored > 0 {
            text += "unanchored: \(result.unanchored) record\(result.unanchored == 1 ? "" : "s") (\(result.anchoredThrough + 1)-\(result.lastSeq))"
                + (result.anchor == nil ? ", no signed checkpoint covers any" : " after the last signed checkpoint")
                + (result.endsWithShutdown || !result.intact ? "\n"
                   : "; the log does not end with a shutdown checkpoint (a server still running, verified with --live)\n")
        }
        return text
    }
}
