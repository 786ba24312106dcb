import Compliance
import Diagnostics

/// The identity deploy runs as belongs to another account than the stack names: nothing is done (exit 2).
public struct AccountMismatch: UserFacingError {
    public var expected: String
    public var actual: String
    public var arn: String

    public init(expected: String, actual: String, arn: String) {
        self.expected = expected
        self.actual = actual
        self.arn = arn
    }

    public var description: String {
        "the credentials belong to account \(actual) (\(arn)), but the stack is for account \(expected); nothing was changed"
    }
    public var failureKind: FailureKind { .usage }
}

/// A run that must not go on without a person's yes, or that was refused before anything changed (exit 2).
public struct NotConfirmed: UserFacingError {
    public var description: String

    public init(description: String) {
        self.description = description
    }

    public var failureKind: FailureKind { .usage }
}

/// Apply found critical compliance failures on the plan and was not told to go ahead anyway (exit 1).
public struct FindingsRefused: UserFacingError {
    public var findings: [Finding]

    public init(findings: [Finding]) {
        self.findings = findings
    }

    public var description: String {
        "the plan fails \(findings.count) critical compliance check(s); nothing was changed (fix them, suppress them in the stack, "
            + "or apply with --allow-findings):\n" + findings.map { "  \($0.rule.id) \($0.address): \($0.message)" }.joined(separator: "\n")
    }
    public var failureKind: FailureKind { .failure }
}

/// Input that names something the stack or the state does not allow, found before anything changed (exit 2).
public struct Refused: UserFacingError {
    public var description: String
    public var hint: String?

    public init(_ description: String, hint: String? = nil) {
        self.description = description
        self.hint = hint
    }

    public var failureKind: FailureKind { .usage }
}
