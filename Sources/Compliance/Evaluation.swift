import Foundation
import Stack

/// One rule's verdict on one resource.
public struct Finding: Sendable {
    public enum Status: String, Sendable { case pass, fail, suppressed }

    public var rule: Rule
    public var address: String
    public var type: String
    public var status: Status
    public var message: String
    /// The accepted suppression that covers it, if any (holding or expired).
    public var suppression: Suppression?
    /// The attributes the rule read.
    public var evidence: [String: Value]
    /// Those of them read from the account (a live check).
    public var observed: Set<String>
    /// Where the template declares the resource.
    public var location: SourceLocation?
}

/// Every rule over every resource it applies to.
public struct Evaluation: Sendable {
    public var findings: [Finding]

    /// Every rule of `rules` over `inventory`; a failure that a suppression covers is `suppressed` while the
    /// suppression holds on `today`, and fails again, saying so, once it has expired.
    public init(_ inventory: Inventory, rules: [Rule] = RuleCatalog.all, suppressions: [Suppression] = [], today: Date = Date()) {
        var findings: [Finding] = []
        for subject in inventory.subjects {
            for rule in rules {
                switch rule.check(subject, in: inventory) {
                case .notApplicable: continue
                case .pass(let evidence):
                    findings.append(Finding(rule: rule, address: subject.address, type: subject.type, status: .pass, message: rule.title,
                                            evidence: evidence, observed: subject.observed, location: subject.location))
                case .fail(let reason, let evidence):
                    var finding = Finding(rule: rule, address: subject.address, type: subject.type, status: .fail, message: reason,
                                          evidence: evidence, observed: subject.observed, location: subject.location)
                    if let suppression = suppressions.first(where: { $0.covers(rule: rule.id, address: subject.address) }) {
                        finding.suppression = suppression
                        if suppression.holds(on: today) {
                            finding.status = .suppressed
                            finding.message = "\(reason) (accepted until \(suppression.expires): \(suppression.reason))"
                        } else {
                            finding.message = "\(reason) (its suppression expired on \(suppression.expires))"
                        }
                    }
                    findings.append(finding)
                }
            }
        }
        self.findings = findings
    }

    public var failures: [Finding] { findings.filter { $0.status == .fail } }

    /// Whether anything at or above `threshold` failed.
    public func fails(atOrAbove threshold: Severity) -> Bool { failures.contains { $0.rule.severity >= threshold } }
}
