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

    /// The longest phrase of the rules' word lists, in folded bytes.
    var longestPhrase: Int {
        rules.map { if case .phrases(let list) = $0.matcher { list.longest } else { 0 } }.max() ?? 0
    }

    /// A rule's match in the original text, as UTF-8 byte offsets; or, `unjudged`, a rule that could not judge the
    /// text (a pattern out of time), which blocks: what was not checked does not pass.
    struct Finding: Sendable {
        var rule: Int
        var range: Range<Int>
        var unjudged = false
        var reason: String?
    }

    /// What a text became: the text to pass on, and the decisions; or the rule that blocked it.
    public struct Outcome: Sendable {
        public var text: String
        public var decisions: [GuardrailDecision]
        public var blockedBy: String?
        /// Why the blocking rule blocked, when it could not judge the text rather than found something in it.
        public var unjudgedReason: String?
    }

    /// The rules' findings in `text`, overlaps resolved: the stronger action stands, then the earlier start, then the
    /// longer match. Findings before `from` (text already released) are left out.
    func findings(in text: String, from: Int = 0, clock: PatternClock? = nil) -> [Finding] {
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
                guard let ranges = Self.matches(of: pattern, in: compatible!, clock: clock) else {
                    return [Finding(rule: index, range: 0..<0, unjudged: true,
                                    reason: "its pattern ran past its time limit (\(Self.timeLimitMs(text.utf8.count)) ms of CPU for this text, "
                                        + "within the request's \(Self.requestBudgetMs) ms)")]
                }
                all += ranges.map { Finding(rule: index, range: $0) }
            }
        }
        if !kinds.isEmpty {
            if compatible == nil { compatible = NormalizedText(text, form: .compatible) }
            for match in SensitiveScanner.all(ScanText(bytes: compatible!.bytes), kinds: Set(kinds.keys)) {
                all.append(Finding(rule: kinds[match.kind]!, range: compatible!.originalRange(match.range)))
            }
        }
        // a finding that began in text already released still covers what of it is not
        all = all.compactMap { finding in
            guard finding.range.upperBound > from, !finding.range.isEmpty else { return nil }
            return Finding(rule: finding.rule, range: max(from, finding.range.lowerBound)..<finding.range.upperBound)
        }
        all.sort { a, b in
            let (actionA, actionB) = (rules[a.rule].action(direction), rules[b.rule].action(direction))
            if actionA != actionB { return actionA > actionB }
            if a.range.lowerBound != b.range.lowerBound { return a.range.lowerBound < b.range.lowerBound }
            return a.range.count > b.range.count
        }
        var kept: [Finding] = []
        for finding in all {
            guard let index = kept.firstIndex(where: { $0.range.overlaps(finding.range) }) else {
                kept.append(finding)
                continue
            }
            // two masks that overlap mask their union: neither value keeps a part in the clear
            if rules[kept[index].rule].action(direction) == .mask, rules[finding.rule].action(direction) == .mask {
                kept[index].range = min(kept[index].range.lowerBound, finding.range.lowerBound)..<max(kept[index].range.upperBound, finding.range.upperBound)
            }
        }
        kept.sort { $0.range.lowerBound < $1.range.lowerBound }
        var merged: [Finding] = []
        for finding in kept {
            if let last = merged.last, last.range.overlaps(finding.range) {
                merged[merged.count - 1].range = last.range.lowerBound..<max(last.range.upperBound, finding.range.upperBound)
            } else {
                merged.append(finding)
            }
        }
        return merged
    }

    /// Applies the findings to `text`: the first blocking one blocks, masked ones become placeholders, logged ones
    /// are only counted.
    func apply(_ findings: [Finding], to text: String, placeholders: inout Placeholders) -> Outcome {
        let bytes = Array(text.utf8)
        if let unjudged = findings.first(where: \.unjudged) {
            return Outcome(text: "", decisions: [decision(unjudged)], blockedBy: rules[unjudged.rule].name, unjudgedReason: unjudged.reason)
        }
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
    public func filter(_ text: String, placeholders: inout Placeholders, clock: PatternClock? = nil) -> Outcome {
        apply(findings(in: text, clock: clock), to: text, placeholders: &placeholders)
    }

    /// The decision of a rule that could not judge the text: blocked, with no finding counted.
    func decision(_ unjudged: Finding) -> GuardrailDecision {
        GuardrailDecision(rule: rules[unjudged.rule].name, direction: direction.rawValue, action: GuardrailPolicy.Action.block.rawValue,
                          count: unjudged.unjudged ? 0 : 1)
    }

    private func decision(_ rule: GuardrailPolicy.Rule, count: Int, matches: [Finding], _ bytes: [UInt8]) -> GuardrailDecision {
        GuardrailDecision(rule: rule.name, direction: direction.rawValue, action: rule.action(direction).rawValue, count: count,
                          matches: recordMatches ? matches.map { String(decoding: bytes[$0.range], as: UTF8.self) } : nil)
    }

    /// How long a pattern may take over a text of `bytes`: ICU cannot bound backtracking, so a pattern that a
    /// crafted text sends into it is stopped, and the text is blocked rather than passed unjudged.
    static func timeLimitMs(_ bytes: Int) -> Int { 25 + bytes / 20_000 }

    /// The CPU time all the patterns of one request may take (`PatternClock`).
    public static let requestBudgetMs = 200

    /// Below this length, a pattern that cannot backtrack is matched without the clock: quadratic in so few bytes
    /// is nothing.
    static let unwatchedBytes = 512

    /// A pattern's matches in the compatible form, as byte ranges of the original text; nil when it ran out of time.
    private static func matches(of pattern: Pattern, in text: NormalizedText, clock: PatternClock?) -> [Range<Int>]? {
        let string = text.string
        let utf16 = string.utf16
        guard pattern.watched || text.bytes.count > unwatchedBytes else {
            return pattern.expression.matches(in: string, range: NSRange(location: 0, length: utf16.count)).compactMap { match in
                match.range.length > 0 ? originalRange(match.range, in: string, text) : nil
            }
        }
        let started = PatternClock.threadTime()
        let limit = min(Duration.milliseconds(timeLimitMs(text.bytes.count)), clock?.left ?? .seconds(3600))
        var found: [NSRange] = []
        var outOfTime = limit <= .zero
        var calls = 0
        // reportProgress: ICU calls back during a long match too, where the limit can stop it (the thread's CPU
        // clock read one call in 64: ICU calls back at every position)
        if !outOfTime {
            pattern.expression.enumerateMatches(in: string, options: [.reportProgress], range: NSRange(location: 0, length: utf16.count)) { result, _, stop in
                if let result, result.range.length > 0 { found.append(result.range) }
                calls += 1
                if calls & 63 == 0, PatternClock.threadTime() - started > limit {
                    outOfTime = true
                    stop.pointee = true
                }
            }
        }
        clock?.spend(PatternClock.threadTime() - started)
        guard !outOfTime else { return nil }
        return found.compactMap { originalRange($0, in: string, text) }
    }

    /// A match's UTF-16 range in the normalized string, as bytes of the original text.
    private static func originalRange(_ match: NSRange, in string: String, _ text: NormalizedText) -> Range<Int>? {
        guard let range = Range(match, in: string) else { return nil }
        let lower = string.utf8.distance(from: string.startIndex, to: range.lowerBound)
        let upper = lower + string.utf8.distance(from: range.lowerBound, to: range.upperBound)
        return text.originalRange(lower..<upper)
    }
}
