import Compliance
import Plan
import Stack
import Diagnostics

/// The compliance rules over the stack as planned, with the state's ids and ARNs where it records them: what
/// `check --plan` reports, what `plan` shows above the plan, and what `apply` refuses on.
enum StaticCheck {
    /// `expanded`: the stack as opened (every computed attribute unknown); expanded here when not given.
    static func evaluate(_ configuration: StackConfiguration, expanded: ExpandedStack? = nil, state: State?) throws -> Evaluation {
        var known: [String: [String: Value]] = [:]
        for resource in state?.resources ?? [] where resource.status == .created { known[resource.address.description] = resource.attributes }
        let planned = try expanded ?? { var expander = Expander(configuration); return try expander.expand() }()
        let inventory = Inventory(planned: planned, configuration: configuration, known: known)
        return Evaluation(inventory, suppressions: configuration.stack.suppressions)
    }

    /// One line of counts, and one per failure (worst first).
    static func summary(_ evaluation: Evaluation) -> [String] {
        let failed = evaluation.failures.sorted { ($0.rule.severity, $0.address) > ($1.rule.severity, $1.address) }
        let suppressed = evaluation.findings.filter { $0.status == .suppressed }.count
        var lines = ["Compliance on the plan: \(evaluation.findings.count - failed.count - suppressed) passed, \(failed.count) failed"
                     + (suppressed > 0 ? ", \(suppressed) suppressed" : "") + (failed.isEmpty ? "." : " (deploy check for details):")]
        lines += failed.map { "  \($0.rule.severity.rawValue.uppercased()) \($0.rule.id) \($0.address): \($0.message)" }
        return lines
    }
}

/// Apply found critical compliance failures on the plan and was not told to go ahead anyway.
struct FindingsRefused: Error, CustomStringConvertible {
    var findings: [Finding]

    var description: String {
        "the plan fails \(findings.count) critical compliance check(s); nothing was changed (fix them, suppress them in the stack, "
            + "or apply with --allow-findings):\n" + findings.map { "  \($0.rule.id) \($0.address): \($0.message)" }.joined(separator: "\n")
    }
}

extension FindingsRefused: UserFacingError {
    var failureKind: FailureKind { .failure }
}
