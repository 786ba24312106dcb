import Foundation

/// One decision of a policy on one request: a rule, the direction, what it did and how many times. The matched
/// values are kept only when the policy says so (`record_matches`).
public struct GuardrailDecision: Encodable, Sendable, Equatable {
    public var rule: String
    public var direction: String
    public var action: String
    public var count: Int
    public var matches: [String]?

    public init(rule: String, direction: String, action: String, count: Int, matches: [String]? = nil) {
        self.rule = rule
        self.direction = direction
        self.action = action
        self.count = count
        self.matches = matches
    }
}

/// Applies a profile's rules in one direction to a whole text: finds what they match, then masks, blocks or logs.
public struct GuardrailFilter: Sendable {
    let rules: [GuardrailPolicy.Rule]
    let direction: GuardrailPolicy.Direction
    let recordMatches: Bool

    public init(profile: GuardrailPolicy.Profile, direction: GuardrailPolicy.Direction) {
        rules = profile.acting(in: direction)
        self.direction = direction
        recordMatches = profile.recordMatches
    }

    /// Whether no rule acts in this direction.
    public var isEmpty: Bool { rules.isEmpty }

    /// A rule's match in the original text, as UTF-8 byte offsets.
    struct Finding: Sendable {
        var rule: Int
        var range: Range<Int>
    }

    /// What a text became: the text to pass on, and the decisions; or the rule that blocked it.
    public struct Outcome: Sendable {
        public var text: String
        public var decisions: [GuardrailDecision]
        public var blockedBy: String?
    }

    /// The rules' findings in `text`, overlaps resolved: the stronger action stands, then the earlier start, then the
    /// longer match. Findings before `from` (text already released) are left out.
    func findings(in text: String, from: Int = 0) -> [Finding] {
        guard !rules.isEmpty else { return [] }
        var all: [Finding] = []
        var compatible: NormalizedText?
        var folded: NormalizedText?
        var kinds: [SensitiveKind: Int] = [:]
        for (index, rule) in rules.enumerated() {
            switch rule.matcher {
            case .detector(let kind): kinds[kind] = index
            case .phrases(let list):
                if folded == nil { folded = NormalizedText(text, form: .folded) }
                all += list.matches(in: folded!).map { Finding(rule: index, range: folded!.originalRange($0)) }
            case .pattern(let pattern):
                if compatible == nil { compatible = NormalizedText(text, form: .compatible) }
                all += Self.matches(of: pattern, in: compatible!).map { Finding(rule: index, range: $0) }
            }
        }
        if !kinds.isEmpty {
            if compatible == nil { compatible = NormalizedText(text, form: .compatible) }
            for match in SensitiveScanner.scan(compatible!.string, kinds: Set(kinds.keys)) {
                all.append(Finding(rule: kinds[match.kind]!, range: compatible!.originalRange(match.range)))
            }
        }
        all.removeAll { $0.range.lowerBound < from || $0.range.isEmpty }
        all.sort { a, b in
            let (actionA, actionB) = (rules[a.rule].action(direction), rules[b.rule].action(direction))
            if actionA != actionB { return actionA > actionB }
            if a.range.lowerBound != b.range.lowerBound { return a.range.lowerBound < b.range.lowerBound }
            return a.range.count > b.range.count
        }
        var kept: [Finding] = []
        for finding in all where !kept.contains(where: { $0.range.overlaps(finding.range) }) { kept.append(finding) }
        return kept.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// Applies the findings to `text`: the first blocking one blocks, masked ones become placeholders, logged ones
    /// are only counted.
    func apply(_ findings: [Finding], to text: String, placeholders: inout Placeholders) -> Outcome {
        let bytes = Array(text.utf8)
        if let block = findings.first(where: { rules[$0.rule].action(direction) == .block }) {
            let rule = rules[block.rule]
            let count = findings.filter { $0.rule == block.rule }.count
            return Outcome(text: "", decisions: [decision(rule, count: count, matches: findings.filter { $0.rule == block.rule }, bytes)],
                           blockedBy: rule.name)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var cursor = 0
        for finding in findings where rules[finding.rule].action(direction) == .mask {
            out += bytes[cursor..<finding.range.lowerBound]
            let value = String(decoding: bytes[finding.range], as: UTF8.self)
            out += Array(placeholders.placeholder(label: rules[finding.rule].label, value: value, restorable: direction == .input).utf8)
            cursor = finding.range.upperBound
        }
        out += bytes[cursor...]
        var decisions: [GuardrailDecision] = []
        for (index, rule) in rules.enumerated() {
            let mine = findings.filter { $0.rule == index }
            if !mine.isEmpty { decisions.append(decision(rule, count: mine.count, matches: mine, bytes)) }
        }
        return Outcome(text: String(decoding: out, as: UTF8.self), decisions: decisions, blockedBy: nil)
    }

    /// Finds and applies in one step.
    public func filter(_ text: String, placeholders: inout Placeholders) -> Outcome {
        apply(findings(in: text), to: text, placeholders: &placeholders)
    }

    private func decision(_ rule: GuardrailPolicy.Rule, count: Int, matches: [Finding], _ bytes: [UInt8]) -> GuardrailDecision {
        GuardrailDecision(rule: rule.name, direction: direction.rawValue, action: rule.action(direction).rawValue, count: count,
                          matches: recordMatches ? matches.map { String(decoding: bytes[$0.range], as: UTF8.self) } : nil)
    }

    /// A pattern's matches in the compatible form, as byte ranges of the original text.
    private static func matches(of pattern: Pattern, in text: NormalizedText) -> [Range<Int>] {
        let string = text.string
        let utf16 = string.utf16
        return pattern.expression.matches(in: string, range: NSRange(location: 0, length: utf16.count)).compactMap { match in
            guard match.range.length > 0, let range = Range(match.range, in: string) else { return nil }
            let lower = string.utf8.distance(from: string.startIndex, to: range.lowerBound)
            let upper = lower + string.utf8.distance(from: range.lowerBound, to: range.upperBound)
            return text.originalRange(lower..<upper)
        }
    }
}
