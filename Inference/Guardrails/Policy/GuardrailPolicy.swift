import Foundation

/// What the server does with the text of a request and of its answer: which findings are allowed, masked, blocked
/// or only logged in each direction, whether masked values come back to the caller, whether user content may carry
/// the model's control tokens, and each identity's quotas. Read from a JSON5 file (`GuardrailPolicyParser`).
public struct GuardrailPolicy: Sendable {
    /// The rules and limits of the identities a profile names (or of everyone else, for the default).
    public var defaultProfile: Profile
    public var profiles: [Profile]
    /// The SHA-256 of the file's bytes: in /metrics and in each audit record, so a record says which policy judged it.
    public var sha256: String

    /// The profile that applies to `identity`: the first whose `identities` names it, else the default.
    public func profile(for identity: String) -> Profile {
        profiles.first { $0.applies(to: identity) } ?? defaultProfile
    }

    /// Whether any profile sets a quota (counters are then kept and persisted).
    public var hasQuotas: Bool { ([defaultProfile] + profiles).contains { !$0.quotas.isEmpty } }

    /// A profile: its name ("default" for the default), the identities it applies to, and what it enforces.
    public struct Profile: Sendable {
        public var name: String
        /// Key names, or prefixes ending in `*` (a key group: `team-analytics-*`).
        public var identities: [String] = []
        public var rules: [Rule] = []
        /// Masked values are restored in the answer the caller gets (the model only ever sees the placeholders).
        public var pseudonymize = false
        /// Whether an audit record keeps the matched values of a decision (off: rule, action and count only).
        public var recordMatches = false
        /// Whether user content may carry the model's control tokens (off: they are encoded as text).
        public var allowControlTokens = false
        /// How many bytes of a streamed answer are held back, so that a value is masked before any of it leaves.
        public var streamWindow = 64
        public var quotas = QuotaLimits()

        public init(name: String) { self.name = name }

        func applies(to identity: String) -> Bool {
            identities.contains { pattern in
                pattern.hasSuffix("*") ? identity.hasPrefix(pattern.dropLast()) : identity == pattern
            }
        }

        /// The rules that act (anything but allow) in `direction`.
        func acting(in direction: Direction) -> [Rule] { rules.filter { $0.action(direction) != .allow } }
    }

    /// One rule: what it finds and what it does in each direction.
    public struct Rule: Sendable {
        public var name: String
        public var matcher: Matcher
        public var input: Action
        public var output: Action
        /// The placeholder's label: `[LABEL_1]`.
        public var label: String

        public func action(_ direction: Direction) -> Action { direction == .input ? input : output }
    }

    public enum Matcher: Sendable {
        case detector(SensitiveKind)
        case phrases(PhraseList)
        case pattern(Pattern)
    }

    public enum Action: String, Sendable, CaseIterable, Comparable {
        case allow, log, mask, block

        /// Where two findings overlap, the stronger action stands.
        public static func < (lhs: Action, rhs: Action) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public enum Direction: String, Sendable {
        case input, output
    }
}

/// Each identity's limits; nil is no limit.
public struct QuotaLimits: Sendable, Equatable {
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var tokensPerDay: Int?
    public var tokensPerMonth: Int?
    public var concurrentRequests: Int?

    public init() {}

    public var isEmpty: Bool { self == QuotaLimits() }
}

/// An operator's regular expression, compiled once. `NSRegularExpression` is immutable after creation and documented
/// as safe to share between threads.
public struct Pattern: @unchecked Sendable {
    let expression: NSRegularExpression
    /// Whether its shape lets a crafted text make it slow at any length (`PatternShape.mayBacktrack`); any pattern
    /// can be quadratic in a long text. Such a run is timed, which costs a call back from ICU at every position, so
    /// a short text under a pattern that cannot backtrack is matched without the clock.
    let watched: Bool
}
