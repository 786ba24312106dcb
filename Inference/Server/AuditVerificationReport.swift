import InferenceService
import TextSafety

/// What `inference-server audit verify` prints: the verdict, each finding named, then how much a signed checkpoint
/// anchors.
enum AuditVerificationReport {
    static func text(_ result: AuditVerification) -> String {
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
