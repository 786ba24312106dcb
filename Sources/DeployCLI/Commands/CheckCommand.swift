import Compliance
import Deployment
import Foundation
import Plan
import Stack

/// `deploy check`: the compliance rules over the stack as planned, and over what the account holds.
struct CheckCommand: Command {
    static let name = "check"
    static let usesAWS = true
    static let formats = ["text", "json", "sarif", "junit"]
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
    static let options = StackOptions.specs + StackOptions.stateSpecs + [
        .flag("plan", "Check the planned resources only."),
        .flag("live", "Check the resources in the account only."),
        .value("severity", "level", "Fail only on findings at or above low, medium, high or critical (default low)."),
        .value("format", "kind", "text (default), json, sarif or junit."),
        .value("out", "file", "Write the report to this file instead of standard output."),
        .value("framework", "name", "Report text by control: cis-5.0 or fsbp."),
    ]

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(arguments.positionals[0])'", command: name) }
        if let format = arguments.value("format"), !formats.contains(format) {
            throw UsageError(message: "--format must be text, json, sarif or junit, not '\(format)'", command: name)
        }
        if let framework = arguments.value("framework"), ComplianceReport.frameworks[framework] == nil {
            throw UsageError(message: "--framework must be cis-5.0 or fsbp, not '\(framework)'", command: name)
        }
        if arguments.flag("plan") && arguments.flag("live") {
            throw UsageError(message: "--plan and --live exclude each other; give neither for both", command: name)
        }
        if let level = arguments.value("severity"), Severity(rawValue: level) == nil {
            throw UsageError(message: "--severity must be low, medium, high or critical, not '\(level)'", command: name)
        }
    }

    static func run(_ context: CommandContext) async throws -> Int32 {
        let loaded = try StackOptions(context.arguments, command: name).load(context.console)
        let threshold = context.arguments.value("severity").flatMap(Severity.init(rawValue:)) ?? .low
        let scope: Deployment.CheckScope = context.arguments.flag("plan") ? .plan : context.arguments.flag("live") ? .live : .both
        let outcome = try await Deployment(loaded, context).check(scope)
        var reports: [ComplianceReport] = []
        if let plan = outcome.plan { reports.append(ComplianceReport(plan, stack: loaded.stack, mode: "plan", threshold: threshold)) }
        if let live = outcome.live {
            reports.append(ComplianceReport(live, stack: loaded.stack, mode: "account", threshold: threshold, missing: outcome.missing))
        }
        let text: String
        switch context.arguments.value("format") ?? "text" {
        case "json": text = try JSONText.encode(reports.map(\.document))  // one document per mode checked, the plan's first
        case "sarif": text = try JSONText.encode(SARIFReport(reports, baseDirectory: FileManager.default.currentDirectoryPath))
        case "junit": text = JUnitReport.xml(reports)
        default:
            let framework = context.arguments.value("framework")
            text = reports.map { (framework.map($0.controlLines) ?? $0.lines).joined(separator: "\n") }.joined(separator: "\n\n")
        }
        if let out = context.arguments.value("out") {
            try AtomicFile.write(Data((text + "\n").utf8), to: out, mode: 0o644)
        } else {
            context.console.out(text)
        }
        return reports.contains { $0.fails } ? ExitCode.failure : ExitCode.success
    }
}
