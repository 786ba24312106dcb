import Compliance
import Foundation
import Stack
import TextSafety

/// A compliance report as SARIF 2.1.0, for code-scanning upload: the rules with their rationale, remediation and
/// framework ids, one result per failed check, located at the template line that declares the resource.
struct SARIFReport: Encodable {
    struct Text: Encodable { var text: String }

    struct RuleEntry: Encodable {
        var id: String
        var name: String
        var shortDescription: Text
        var fullDescription: Text
        var help: Text
        var defaultConfiguration: [String: String]
        var properties: RuleProperties
    }

    /// GitHub reads `security-severity` as a string holding a number, and ignores it in any other form.
    struct RuleProperties: Encodable {
        var tags: [String]
        var securitySeverity: String

        enum CodingKeys: String, CodingKey { case tags, securitySeverity = "security-severity" }
    }

    struct Driver: Encodable {
        var name = "deploy check"
        var version = DeployCLI.version
        var informationUri = "https://github.com/deploy/deploy"
        var rules: [RuleEntry]
    }

    struct Location: Encodable {
        struct Physical: Encodable {
            var artifactLocation: [String: String]
            var region: [String: Int]
        }
        struct Logical: Encodable {
            var fullyQualifiedName: String
            var kind = "resource"
        }
        var physicalLocation: Physical?
        var logicalLocations: [Logical]
    }

    struct Suppression: Encodable {
        var kind = "external"
        var status = "accepted"
        var justification: String
    }

    struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int
        var level: String
        var message: Text
        var locations: [Location]
        var suppressions: [Suppression]?
        var properties: [String: Value]
    }

    struct Run: Encodable {
        var tool: [String: Driver]
        var automationDetails: [String: String]
        var results: [Result]
    }

    var schema = "https://json.schemastore.org/sarif-2.1.0.json"
    var version = "2.1.0"
    var runs: [Run]

    enum CodingKeys: String, CodingKey {
        case schema = "$schema", version, runs
    }

    static func level(_ severity: Severity) -> String {
        switch severity {
        case .critical, .high: "error"
        case .medium: "warning"
        case .low: "note"
        }
    }

    /// GitHub's code scanning reads a security severity from 0 to 10.
    static func score(_ severity: Severity) -> String {
        switch severity {
        case .critical: "9.5"
        case .high: "8.0"
        case .medium: "5.5"
        case .low: "3.0"
        }
    }

    init(_ reports: [ComplianceReport], baseDirectory: String) {
        let rules = RuleCatalog.all
        let entries = rules.map { rule in
            RuleEntry(id: rule.id, name: rule.id, shortDescription: Text(text: rule.title), fullDescription: Text(text: rule.rationale),
                      help: Text(text: rule.remediation), defaultConfiguration: ["level": Self.level(rule.severity)],
                      properties: RuleProperties(tags: ["security", "compliance"] + rule.mappings.cis.map { "CIS-5.0/\($0)" }
                          + rule.mappings.fsbp.map { "FSBP/\($0)" } + rule.mappings.prowler.map { "prowler/\($0)" },
                                                 securitySeverity: Self.score(rule.severity)))
        }
        runs = reports.map { report in
            let results = report.evaluation.findings.filter { $0.status != .pass }.map { finding in
                let physical = finding.location.map { location in
                    Location.Physical(artifactLocation: ["uri": Self.relative(location.file, to: baseDirectory)],
                                      region: ["startLine": location.line, "startColumn": location.column])
                }
                return Result(ruleId: finding.rule.id, ruleIndex: rules.firstIndex { $0.id == finding.rule.id } ?? 0,
                              level: Self.level(finding.rule.severity), message: Text(text: "\(finding.address): \(finding.message)"),
                              locations: [Location(physicalLocation: physical, logicalLocations: [.init(fullyQualifiedName: finding.address)])],
                              suppressions: finding.status == .suppressed
                                  ? [Suppression(justification: "\(finding.suppression?.reason ?? "") (until \(finding.suppression?.expires ?? ""))")] : nil,
                              properties: ["evidence": .map(finding.evidence), "severity": .string(finding.rule.severity.rawValue)])
            }
            return Run(tool: ["driver": Driver(rules: entries)],
                       automationDetails: ["id": "deploy-check/\(report.stack.name)/\(report.mode)/"], results: results)
        }
    }

    /// `path` relative to `base` when it lies inside it (code scanning resolves URIs against the repository).
    static func relative(_ path: String, to base: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let root = URL(fileURLWithPath: base).standardizedFileURL.path + "/"
        return absolute.hasPrefix(root) ? String(absolute.dropFirst(root.count)) : absolute
    }
}

/// A compliance report as JUnit XML, for CI systems: one suite per mode and phase, one test case per rule and
/// resource, a failure element for each failed check.
enum JUnitReport {
    static func xml(_ reports: [ComplianceReport]) -> String {
        let all = reports.flatMap { $0.evaluation.findings }
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                     "<testsuites name=\"deploy check\" tests=\"\(all.count)\" failures=\"\(all.filter { $0.status == .fail }.count)\">"]
        for report in reports {
            for phase in Phase.allCases.map(\.rawValue) {
                let findings = report.evaluation.findings.filter { $0.address.hasPrefix(phase + ".") }
                guard !findings.isEmpty else { continue }
                let failures = findings.filter { $0.status == .fail }.count
                lines.append("  <testsuite name=\"\(report.mode).\(phase)\" tests=\"\(findings.count)\" failures=\"\(failures)\" errors=\"0\">")
                for finding in findings {
                    let name = SafeText.xmlEscaped("\(finding.rule.id) \(finding.address)")
                    let classname = SafeText.xmlEscaped("\(report.stack.name).\(report.mode).\(phase)")
                    if finding.status == .suppressed {
                        lines.append("    <testcase classname=\"\(classname)\" name=\"\(name)\"><skipped message=\"\(SafeText.xmlEscaped(finding.message))\"/></testcase>")
                        continue
                    }
                    guard finding.status == .fail else {
                        lines.append("    <testcase classname=\"\(classname)\" name=\"\(name)\"/>")
                        continue
                    }
                    lines.append("    <testcase classname=\"\(classname)\" name=\"\(name)\">")
                    lines.append("      <failure type=\"\(finding.rule.severity.rawValue)\" message=\"\(SafeText.xmlEscaped(finding.message))\">"
                                 + SafeText.xmlEscaped("\(finding.rule.title). Fix: \(finding.rule.remediation)") + "</failure>")
                    lines.append("    </testcase>")
                }
                lines.append("  </testsuite>")
            }
        }
        lines.append("</testsuites>")
        return lines.joined(separator: "\n")
    }
}
