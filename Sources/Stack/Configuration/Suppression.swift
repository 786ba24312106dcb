import Foundation
import TextSafety

/// A compliance finding the customer has accepted, for a time: the rule, the resource, why, and until when.
/// (`suppress: [{ rule, address, reason, expires: "YYYY-MM-DD" }]` in the stack file.)
public struct Suppression: Sendable {
    public var rule: String
    /// `phase.name` (every instance) or `phase.name[i]`.
    public var address: String
    public var reason: String
    /// The last day it holds (UTC): from the next day on, the finding counts again and says so.
    public var expires: String
    public var location: SourceLocation

    /// Whether it still holds on `date`.
    public func holds(on date: Date) -> Bool {
        Self.days().string(from: date) <= expires
    }

    /// Whether it covers the finding of `rule` on `address` (an instance is covered by its block's address too).
    public func covers(rule: String, address: String) -> Bool {
        rule == self.rule && (address == self.address || address.hasPrefix(self.address + "["))
    }

    static func parse(_ node: JSON5Node?) throws(StackError) -> [Suppression] {
        guard let node else { return [] }
        guard case .array(let items) = node.kind else {
            throw StackError("'suppress' must be a list of { rule, address, reason, expires }, found \(node.kindName)", at: node.location)
        }
        var suppressions: [Suppression] = []
        for item in items {
            let fields = try ObjectFields(item, allowed: ["rule", "address", "reason", "expires"], context: "suppression")
            let reason = try fields.requiredString("reason")
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw StackError("a suppression needs a reason that says why the finding is accepted", at: fields["reason"]?.location)
            }
            let expires = try fields.requiredString("expires")
            guard isDate(expires) else {
                throw StackError("suppression expiry '\(SafeText.quoted(expires))' must be a date like 2027-03-31", at: fields["expires"]?.location)
            }
            suppressions.append(Suppression(rule: try fields.requiredString("rule"), address: try fields.requiredString("address"),
                                            reason: reason, expires: expires, location: item.location))
        }
        return suppressions
    }

    /// `YYYY-MM-DD` naming a real day.
    static func isDate(_ text: String) -> Bool {
        let formatter = days()
        guard text.count == 10, let date = formatter.date(from: text) else { return false }
        return formatter.string(from: date) == text
    }

    /// `YYYY-MM-DD` in UTC, strictly.
    private static func days() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.isLenient = false
        return formatter
    }
}
