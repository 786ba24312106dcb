import Compliance
import Foundation
import Stack

/// A compliance evaluation as `deploy check` prints it: a table grouped by phase, or a JSON document with the
/// evidence of every finding.
struct ComplianceReport {
    let evaluation: Evaluation
    let stack: StackFile
    let mode: String
    let threshold: Severity
    /// Recorded resources the account no longer holds (a live check).
    let missing: [String]

    init(_ evaluation: Evaluation, stack: StackFile, mode: String, threshold: Severity, missing: [String] = []) {
        self.evaluation = evaluation
        self.stack = stack
        self.mode = mode
        self.threshold = threshold
        self.missing = missing
    }

    /// The frameworks a report can be grouped by, and how a rule maps into each.
    static let frameworks: [String: (name: String, controls: @Sendable (Rule) -> [String])] = [
        "cis-5.0": ("CIS AWS Foundations Benchmark v5.0", { $0.mappings.cis }),
        "fsbp": ("AWS Foundational Security Best Practices", { $0.mappings.fsbp }),
    ]

    /// By control of `framework`: each control the rules map to, passed when every finding of its rules passed.
    func controls(_ framework: String) -> [(control: String, failed: Int, passed: Int, rules: [String])] {
        guard let map = Self.frameworks[framework]?.controls else { return [] }
        var byControl: [String: (failed: Int, passed: Int, rules: Set<String>)] = [:]
        for finding in evaluation.findings {
            for control in map(finding.rule) {
                var entry = byControl[control] ?? (0, 0, [])
                if finding.status == .fail { entry.failed += 1 } else { entry.passed += 1 }
                entry.rules.insert(finding.rule.id)
                byControl[control] = entry
            }
        }
        return byControl.keys.sorted { $0.compare($1, options: .numeric) == .orderedAscending }.map { control in
            let entry = byControl[control]!
            return (control, entry.failed, entry.passed, entry.rules.sorted())
        }
    }

    /// The report by control, for `--framework`.
    func controlLines(_ framework: String) -> [String] {
        let name = Self.frameworks[framework]?.name ?? framework
        var lines = ["\(name), stack \(stack.name), on the \(mode):"]
        let controls = controls(framework)
        for entry in controls {
            let verdict = entry.failed > 0 ? "FAIL" : "PASS"
            lines.append("  \(verdict) \(entry.control.padding(toLength: 14, withPad: " ", startingAt: 0)) \(entry.passed) passed, \(entry.failed) failed  (\(entry.rules.joined(separator: ", ")))")
        }
        lines.append("\(controls.count) controls checked, \(controls.filter { $0.failed > 0 }.count) failing.")
        return lines
    }

    /// Whether the report fails the run: a finding at or above the threshold, or a recorded resource gone.
    var fails: Bool { evaluation.fails(atOrAbove: threshold) || !missing.isEmpty }

    private static func phase(_ finding: Finding) -> String { String(finding.address.prefix { $0 != "." }) }

    /// Failures in full, phase by phase, and the counts of what passed.
    var lines: [String] {
        var lines = ["Compliance of stack \(stack.name) (account \(stack.account), region \(stack.region)), on the \(mode):"]
        for phase in Phase.allCases.map(\.rawValue) {
            let findings = evaluation.findings.filter { Self.phase($0) == phase }
            guard !findings.isEmpty else { continue }
            let failed = findings.filter { $0.status == .fail }
            let suppressed = findings.filter { $0.status == .suppressed }
            lines.append("")
            lines.append("\(phase): \(findings.count - failed.count - suppressed.count) passed, \(failed.count) failed"
                         + (suppressed.isEmpty ? "" : ", \(suppressed.count) suppressed"))
            let width = failed.map(\.rule.id.count).max() ?? 0
            for finding in failed.sorted(by: { ($0.rule.severity, $0.address) > ($1.rule.severity, $1.address) }) {
                let id = finding.rule.id.padding(toLength: width, withPad: " ", startingAt: 0)
                lines.append("  FAIL \(finding.rule.severity.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) \(id)  \(finding.address): \(finding.message)")
                lines.append("       fix: \(finding.rule.remediation)")
            }
            for finding in suppressed {
                lines.append("  SUPPRESSED \(finding.rule.id)  \(finding.address): \(finding.message)")
            }
        }
        if !missing.isEmpty {
            lines.append("")
            lines.append("missing from the account (deleted outside deploy): " + missing.joined(separator: ", "))
        }
        let failed = evaluation.failures
        let suppressed = evaluation.findings.filter { $0.status == .suppressed }.count
        let blocking = failed.filter { $0.rule.severity >= threshold }.count
        lines.append("")
        lines.append("\(evaluation.findings.count - failed.count - suppressed) passed, \(failed.count) failed (\(blocking) at or above \(threshold.rawValue)), "
                     + (suppressed > 0 ? "\(suppressed) suppressed, " : "")
                     + "\(Set(evaluation.findings.map(\.rule.id)).count) rules over \(Set(evaluation.findings.map(\.address)).count) resources.")
        return lines
    }

    struct Document: Encodable {
        var format = "deploy.check/1"
        var stack: String
        var account: String
        var region: String
        var mode: String
        var timestamp: String
        var threshold: String
        var summary: [String: Int]
        var missing: [String]
        var findings: [Entry]
    }

    struct Entry: Encodable {
        var rule: String
        var title: String
        var severity: String
        var status: String
        var address: String
        var type: String
        var message: String
        var remediation: String
        var evidence: [String: Value]
        /// The evidence read from the account just now; the rest is as the state recorded it.
        var observed: [String]
        var cis: [String]
        var fsbp: [String]
        var prowler: [String]
    }

    var document: Document {
        let failed = evaluation.failures.count
        let suppressed = evaluation.findings.filter { $0.status == .suppressed }.count
        return Document(stack: stack.name, account: stack.account, region: stack.region, mode: mode,
                        timestamp: ISO8601DateFormatter().string(from: Date()), threshold: threshold.rawValue,
                        summary: ["passed": evaluation.findings.count - failed - suppressed, "failed": failed, "suppressed": suppressed],
                        missing: missing,
                        findings: evaluation.findings.map { finding in
                            Entry(rule: finding.rule.id, title: finding.rule.title, severity: finding.rule.severity.rawValue,
                                  status: finding.status.rawValue, address: finding.address, type: finding.type, message: finding.message,
                                  remediation: finding.rule.remediation, evidence: finding.evidence,
                                  observed: finding.evidence.keys.filter { finding.observed.contains($0) }.sorted(), cis: finding.rule.mappings.cis,
                                  fsbp: finding.rule.mappings.fsbp, prowler: finding.rule.mappings.prowler)
                        })
    }
}
