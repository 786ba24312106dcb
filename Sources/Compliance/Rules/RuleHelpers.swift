import Stack

/// A rule that passes when `holds` answers nil, and fails with the reason it gives otherwise; the evidence is the
/// named attributes.
func rule(_ id: String, _ title: String, _ severity: Severity, types: [String], _ mappings: Mappings, rationale: String,
          remediation: String, reads: [String], _ holds: @escaping @Sendable (Subject, Inventory) -> String?) -> Rule {
    Rule(id: id, title: title, severity: severity, rationale: rationale, remediation: remediation, types: types, mappings: mappings) {
        subject, inventory in
        let evidence = Dictionary(uniqueKeysWithValues: reads.map { ($0, subject[$0] ?? .null) })
        // live, the state's memory of a resource is no evidence: a rule that could read none of what it looks at fails
        if subject.live, !reads.isEmpty, subject.observed.isDisjoint(with: reads) {
            return .fail("could not be read from the account (\(reads.joined(separator: ", "))): not judged compliant", evidence: evidence)
        }
        if let reason = holds(subject, inventory) { return .fail(reason, evidence: evidence) }
        return .pass(evidence: evidence)
    }
}

extension Rule {
    /// This rule, not applicable to the subjects `applies` turns away (a bucket no trail delivers to).
    func onlyFor(_ applies: @escaping @Sendable (Subject, Inventory) -> Bool) -> Rule {
        let evaluate = self.evaluate
        return Rule(id: id, title: title, severity: severity, rationale: rationale, remediation: remediation, types: types,
                    mappings: mappings) { subject, inventory in
            applies(subject, inventory) ? evaluate(subject, inventory) : .notApplicable
        }
    }
}

/// Whether a flag is set: a missing or unknown value is not.
func isTrue(_ value: Value?) -> Bool { value == .bool(true) }

/// The CIDR blocks that mean "anyone".
let anywhere: Set<String> = ["0.0.0.0/0", "::/0"]

/// Whether a policy statement makes anyone a principal without a condition to narrow it.
func isPublic(_ statement: PolicyStatements.Statement) -> Bool {
    statement.effect == "Allow" && statement.principals.contains("*") && statement.conditions.isEmpty
}
