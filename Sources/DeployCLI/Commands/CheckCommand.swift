import Compliance
import Foundation
import Plan
import Stack

/// `deploy check`: the compliance rules over the stack as planned.
struct CheckCommand: Command {
    static let name = "check"
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Check the stack's security posture against the compliance rules, on its plan."
    static let discussion = """
        Runs every rule (encryption with the stack's key, no public access, TLS only, IMDSv2, rotation, trails, flow \
        logs, least privilege, ...) over the resources the stack plans, with the ids and ARNs the state records where it \
        has them; no credentials are needed. Exit 0 when nothing at or above --severity (default low) fails, 1 when \
        something does, 2 on bad input. --output json adds, for every finding, the attributes the rule read and the \
        rule's CIS, AWS Foundational Security Best Practices and Prowler mappings.
        """
    static let options = StackOptions.specs + StackOptions.stateSpecs + [
        .value("severity", "level", "Fail only on findings at or above low, medium, high or critical (default low)."),
    ]

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.isEmpty else { throw UsageError(message: "unexpected argument '\(arguments.positionals[0])'", command: name) }
        if let level = arguments.value("severity"), Severity(rawValue: level) == nil {
            throw UsageError(message: "--severity must be low, medium, high or critical, not '\(level)'", command: name)
        }
    }

    static func run(_ context: CommandContext) async throws -> Int32 {
        let options = try StackOptions(context.arguments, command: name)
        let configuration = try options.loadConfiguration(warnings: context.console)
        let state = try options.stateStore(for: configuration).load(for: configuration.stack)
        var known: [String: [String: Value]] = [:]
        for resource in state?.resources ?? [] where resource.status == .created { known[resource.address.description] = resource.attributes }
        var expander = Expander(configuration)
        let inventory = Inventory(planned: try expander.expand(), configuration: configuration, known: known)
        let evaluation = Evaluation(inventory)
        let threshold = context.arguments.value("severity").flatMap(Severity.init(rawValue:)) ?? .low
        let report = ComplianceReport(evaluation, stack: configuration.stack, mode: "plan", threshold: threshold)
        switch context.options.output {
        case .json: context.console.out(try JSONText.encode(report.document))
        case .text: for line in report.lines { context.console.out(line) }
        }
        return evaluation.fails(atOrAbove: threshold) ? ExitCode.failure : ExitCode.success
    }
}
