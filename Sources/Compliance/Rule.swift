import Stack

/// How much a failed rule matters.
public enum Severity: String, Sendable, CaseIterable, Comparable, Codable {
    case low, medium, high, critical

    public static func < (a: Severity, b: Severity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Where a rule sits in the frameworks auditors ask about, and the Prowler check that tests the same thing.
public struct Mappings: Sendable, Equatable {
    /// CIS AWS Foundations Benchmark v5.0 control numbers.
    public var cis: [String]
    /// AWS Foundational Security Best Practices control ids (`S3.8`).
    public var fsbp: [String]
    /// Prowler check ids.
    public var prowler: [String]

    public init(cis: [String] = [], fsbp: [String] = [], prowler: [String] = []) {
        self.cis = cis
        self.fsbp = fsbp
        self.prowler = prowler
    }
}

/// What a rule concluded about one resource, with the attributes it read.
public enum Outcome: Sendable, Equatable {
    case pass(evidence: [String: Value])
    case fail(String, evidence: [String: Value])
    /// The resource is not one the rule speaks about (a bucket without a trail, a role without a trust to another account).
    case notApplicable
}

/// One compliance rule: a stable id, what it protects and how to fix it, and one evaluator that reads a resource's
/// attributes. The attributes come from the plan (static) or from the account (live), so both modes run the same rule.
public struct Rule: Sendable {
    public var id: String
    public var title: String
    public var severity: Severity
    public var rationale: String
    public var remediation: String
    /// The resource types it looks at.
    public var types: [String]
    public var mappings: Mappings
    let evaluate: @Sendable (Subject, Inventory) -> Outcome

    public init(id: String, title: String, severity: Severity, rationale: String, remediation: String, types: [String],
                mappings: Mappings, evaluate: @escaping @Sendable (Subject, Inventory) -> Outcome) {
        self.id = id
        self.title = title
        self.severity = severity
        self.rationale = rationale
        self.remediation = remediation
        self.types = types
        self.mappings = mappings
        self.evaluate = evaluate
    }

    /// This rule over `subject`, or not applicable when it is of another type.
    public func check(_ subject: Subject, in inventory: Inventory) -> Outcome {
        types.contains(subject.type) ? evaluate(subject, inventory) : .notApplicable
    }
}
