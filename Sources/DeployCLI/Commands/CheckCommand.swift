import Compliance
import Deployment
import Foundation
import Plan
import Stack

/// `deploy check`: the compliance rules over the stack as planned, and over what the account holds.
struct CheckCommand: Command {
    static let name = "check"
    static let usesAWS = true
    static let abstract = "Check the stack's security posture against the compliance rules, on its plan and in the account."
    static let discussion = """
        Runs every rule (encryption with the stack's key, no public access, TLS only, IMDSv2, rotation, trails, flow \
        logs, least privilege, ...) over the resources the stack plans (--plan: no credentials needed, the ids and ARNs \
        the state records where it has them) and over the resources the state records, read from the account with \
        read-only calls (--live; the same rules, on the same attribute names). Without either, the plan, and the \
        account too when the state records resources. Exit 0 when nothing at or above --severity (default low) fails, \
        1 when something does, 2 on bad input. --format json adds, for every finding, the attributes the rule read \
        (and which of them came from the account) and the rule's CIS, AWS Foundational Security Best Practices and \
        Prowler mappings; sarif writes SARIF 2.1.0 for code scanning, junit JUnit XML for CI.
        """

    /// What --format writes.
    enum Format: String, Sendable {
        case text, json, sarif, junit
    }

    struct Options: CommandOptions {
        var stack = StackSelection()
        var plan = false
        var live = false
        var severity: Severity?
        var format: Format?
        var out: String?
        var framework: String?
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack) + [
            .flag("plan", "Check the planned resources only.", \.plan),
            .flag("live", "Check the resources in the account only.", \.live),
            .choice("severity", "level", "Fail only on findings at or above low, medium, high or critical (default low).", \.severity) {
                "--severity must be low, medium, high or critical, not '\($0)'"
            },
            .choice("format", "kind", "text (default), json, sarif or junit.", \.format) {
                "--format must be text, json, sarif or junit, not '\($0)'"
            },
            .value("out", "file", "Write the report to this file instead of standard output.", \.out),
            .value("framework", "name", "Report text by control: cis-5.0 or fsbp.", \.framework),
        ]

        func validate() throws(UsageError) {
            guard positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(positionals[0])'", command: name) }
            if let framework, ComplianceReport.frameworks[framework] == nil {
                throw UsageError(message: "--framework must be cis-5.0 or fsbp, not '\(framework)'", command: name)
            }
            if plan && live {
                throw UsageError(message: "--plan and --live exclude each other; give neither for both", command: name)
            }
        }
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        // the account's resources are judged as the state records them: a stack that no longer expands (an artifact
        // moved away) only costs their source locations
        let loaded = try await parsed.stack.required(command: name).load(context, requiringExpansion: !parsed.live)
        let threshold = parsed.severity ?? .low
        let outcome = try await Deployment(loaded, context).check(parsed.plan ? .plan : parsed.live ? .live : .both)
        var reports: [ComplianceReport] = []
        if let plan = outcome.plan { reports.append(ComplianceReport(plan, stack: loaded.stack, mode: "plan", threshold: threshold)) }
        if let live = outcome.live {
            reports.append(ComplianceReport(live, stack: loaded.stack, mode: "account", threshold: threshold, missing: outcome.missing))
        }
        let text: String
        switch parsed.format ?? .text {
        case .json: text = try JSONText.encode(reports.map(\.document))  // one document per mode checked, the plan's first
        case .sarif: text = try JSONText.encode(SARIFReport(reports, baseDirectory: FileManager.default.currentDirectoryPath))
        case .junit: text = JUnitReport.xml(reports)
        default:
            let framework = parsed.framework
            text = reports.map { (framework.map($0.controlLines) ?? $0.lines).joined(separator: "\n") }.joined(separator: "\n\n")
        }
        if let out = parsed.out {
            try AtomicFile.write(Data((text + "\n").utf8), to: out, mode: 0o644)
        } else {
            context.console.out(text)
        }
        return reports.contains { $0.fails } ? ExitCode.failure : ExitCode.success
    }
}
