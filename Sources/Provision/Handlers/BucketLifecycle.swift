import AWS
import Foundation

/// A bucket's lifecycle configuration as read back: the retention it really gives, and the rules that are not the
/// one deploy writes (an expiry of current and noncurrent objects after the same number of days, on every key).
enum BucketLifecycle {
    /// The ID of the rule deploy writes.
    static let ruleID = "expire"

    /// The fewest days after which any enabled rule deletes current or noncurrent objects, a date counted from
    /// `now`: the retention the bucket really has, whatever the other rules say.
    static func shortestExpiry(_ lifecycle: XMLNode?, now: Date = Date()) -> Int? {
        enabled(lifecycle).flatMap { rule -> [Int] in
            var days = [rule.child("Expiration")?.child("Days")?.text, rule.child("NoncurrentVersionExpiration")?.child("NoncurrentDays")?.text]
                .compactMap { $0.flatMap { Int($0) } }
            if let date = rule.child("Expiration")?.child("Date")?.text, let when = ISO8601DateFormatter().date(from: date) {
                days.append(max(0, Int((when.timeIntervalSince(now) / 86_400).rounded(.up))))
            }
            return days
        }.min()
    }

    /// The rules other than deploy's own, by ID (or position): a transition, a filter, a date, any second rule. A
    /// stack owns its buckets' whole lifecycle, so each is drift that apply removes.
    static func otherRules(_ lifecycle: XMLNode?) -> [String] {
        (lifecycle?.children("Rule") ?? []).enumerated().compactMap { position, rule in
            isDeploys(rule) ? nil : (rule.child("ID")?.text).flatMap { $0.isEmpty ? nil : $0 } ?? "rule \(position + 1)"
        }
    }

    private static func enabled(_ lifecycle: XMLNode?) -> [XMLNode] {
        (lifecycle?.children("Rule") ?? []).filter { $0.child("Status")?.text == "Enabled" }
    }

    private static func isDeploys(_ rule: XMLNode) -> Bool {
        func only(_ node: XMLNode?, _ names: Set<String>) -> Bool { Set((node?.children ?? []).map(\.name)).isSubset(of: names) }
        let everyKey = (rule.child("Prefix")?.text ?? "").isEmpty && (rule.child("Filter")?.child("Prefix")?.text ?? "").isEmpty
            && only(rule.child("Filter"), ["Prefix"])
        let days = rule.child("Expiration")?.child("Days")?.text
        return rule.child("ID")?.text == ruleID && rule.child("Status")?.text == "Enabled" && everyKey
            && only(rule, ["ID", "Filter", "Prefix", "Status", "Expiration", "NoncurrentVersionExpiration"])
            && only(rule.child("Expiration"), ["Days"]) && only(rule.child("NoncurrentVersionExpiration"), ["NoncurrentDays"])
            && days != nil && days == rule.child("NoncurrentVersionExpiration")?.child("NoncurrentDays")?.text
    }
}
