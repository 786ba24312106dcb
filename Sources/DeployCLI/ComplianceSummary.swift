import Compliance

/// What `plan` prints above the plan: the compliance rules' verdict on it, in a few lines.
enum ComplianceSummary {
    /// One line of counts, and one per failure (worst first).
    static func lines(_ evaluation: Evaluation) -> [String] {
        let failed = evaluation.failures.sorted { ($0.rule.severity, $0.address) > ($1.rule.severity, $1.address) }
        let suppressed = evaluation.findings.filter { $0.status == .suppressed }.count
        var lines = ["Compliance on the plan: \(evaluation.findings.count - failed.count - suppressed) passed, \(failed.count) failed"
                     + (suppressed > 0 ? ", \(suppressed) suppressed" : "") + (failed.isEmpty ? "." : " (deploy check for details):")]
        lines += failed.map { "  \($0.rule.severity.rawValue.uppercased()) \($0.rule.id) \($0.address): \($0.message)" }
        return lines
    }
}
