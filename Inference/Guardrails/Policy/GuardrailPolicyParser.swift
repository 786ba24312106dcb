import Foundation
import Hashing
import JSON5Source
import TextSafety

/// Reads a guardrail policy (JSON5). Every mistake is one error with its file, line and column; nothing half-read
/// is ever used. A profile starts from the default: its detectors are merged over the default's, its quotas field
/// by field (null lifts one), and anything else it sets replaces the default's.
public enum GuardrailPolicyParser {
    public static func parse(_ text: String, file: String) throws(StackError) -> GuardrailPolicy {
        let root: JSON5Node
        do {
            root = try JSON5Parser.parse(text, file: file)
        } catch {
            // a file that is no JSON5 at all may be the wrong file (a credentials file): its words are not repeated
            throw StackError(Self.withoutQuotes(error.message), at: error.location)
        }
        let fields = try ObjectFields(root, allowed: ["version", "default", "profiles"], context: "the policy")
        guard let version = fields["version"] else {
            throw StackError("the policy is missing 'version' (this server reads version 1)", at: root.location)
        }
        guard case .int(1) = version.kind else { throw StackError("the policy's 'version' must be 1", at: version.location) }
        var defaultProfile = GuardrailPolicy.Profile(name: "default")
        if let node = fields["default"] { defaultProfile = try profile(node, base: defaultProfile, named: nil) }
        var profiles: [GuardrailPolicy.Profile] = []
        if let node = fields["profiles"] {
            guard case .array(let items) = node.kind else {
                throw StackError("'profiles' must be a list of profiles, found \(node.kindName)", at: node.location)
            }
            for item in items {
                let entry = try ObjectFields(item, allowed: profileKeys + ["name", "identities"], context: "a profile")
                let name = try entry.requiredString("name")
                guard !name.isEmpty, name != "default", !profiles.contains(where: { $0.name == name }) else {
                    throw StackError("a profile's name must be unique, not empty and not 'default'", at: entry.location(of: "name"))
                }
                var profile = try profile(item, base: defaultProfile, named: name)
                profile.name = name
                let identities = try entry.stringList("identities")
                guard !identities.isEmpty else {
                    throw StackError("profile '\(SafeText.quoted(name))' names no 'identities' (key names, or prefixes ending in *)",
                                     at: entry.location(of: "identities"))
                }
                for (identity, location) in identities where identity.isEmpty || identity.dropLast().contains("*") {
                    throw StackError("'\(SafeText.quoted(identity))' is not a key name or a prefix ending in *", at: location)
                }
                profile.identities = identities.map(\.0)
                profiles.append(profile)
            }
        }
        return GuardrailPolicy(defaultProfile: defaultProfile, profiles: profiles, sha256: SHA256.hex(text))
    }

    static let profileKeys = ["detectors", "words", "patterns", "pseudonymize", "record_matches", "control_tokens", "stream_window", "quotas"]

    private static func profile(_ node: JSON5Node, base: GuardrailPolicy.Profile, named name: String?) throws(StackError) -> GuardrailPolicy.Profile {
        let fields = try ObjectFields(node, allowed: profileKeys + (name == nil ? [] : ["name", "identities"]),
                                      context: name.map { "profile '\(SafeText.quoted($0))'" } ?? "the default profile")
        var profile = base
        if fields["detectors"] != nil {
            for member in try fields.object("detectors") {
                guard let kind = SensitiveKind(rawValue: member.key) else {
                    throw StackError(Suggestion.message("unknown detector '\(SafeText.quoted(member.key))'", for: member.key,
                                                        among: SensitiveKind.allCases.map(\.rawValue))
                                     + " (detectors: \(SensitiveKind.allCases.map(\.rawValue).joined(separator: ", ")))", at: member.keyLocation)
                }
                let (input, output) = try actions(member.value, context: "detector '\(kind.rawValue)'", allowShorthand: true)
                let rule = GuardrailPolicy.Rule(name: kind.rawValue, matcher: .detector(kind), input: input, output: output,
                                                label: kind.rawValue.uppercased())
                profile.rules.removeAll { $0.name == rule.name }
                profile.rules.append(rule)
            }
        }
        if fields["words"] != nil {
            profile.rules.removeAll { if case .phrases = $0.matcher { true } else { false } }
            for item in try list(fields, "words") {
                let entry = try ObjectFields(item, allowed: ["name", "phrases", "action", "input", "output", "placeholder"], context: "a word list")
                let phrases = try entry.stringList("phrases")
                guard !phrases.isEmpty else { throw StackError("a word list needs 'phrases'", at: entry.location(of: "phrases")) }
                guard let list = PhraseList(phrases.map(\.0)) else {
                    throw StackError("a phrase is empty once invisible characters and spaces are taken out", at: entry.location(of: "phrases"))
                }
                try add(.phrases(list), entry, to: &profile)
            }
        }
        if fields["patterns"] != nil {
            profile.rules.removeAll { if case .pattern = $0.matcher { true } else { false } }
            for item in try list(fields, "patterns") {
                let entry = try ObjectFields(item, allowed: ["name", "regex", "ignore_case", "action", "input", "output", "placeholder"],
                                             context: "a pattern")
                let source = try entry.requiredString("regex")
                let options: NSRegularExpression.Options = try entry.bool("ignore_case") == true ? [.caseInsensitive] : []
                guard !source.isEmpty, let expression = try? NSRegularExpression(pattern: source, options: options) else {
                    throw StackError("'regex' is not a valid regular expression (ICU syntax)", at: entry.location(of: "regex"))
                }
                guard expression.firstMatch(in: "", range: NSRange(location: 0, length: 0)) == nil else {
                    throw StackError("'regex' matches the empty text, so it would match everywhere", at: entry.location(of: "regex"))
                }
                let shape = PatternShape(source)
                guard !shape.nestsRepetition else {
                    throw StackError("'regex' repeats a group that itself repeats (as in (a+)+): a crafted prompt could make it run for "
                                     + "minutes; write it without the nested repetition", at: entry.location(of: "regex"))
                }
                try add(.pattern(Pattern(expression: expression, watched: shape.mayBacktrack)), entry, to: &profile)
            }
        }
        if let flag = try fields.bool("pseudonymize") { profile.pseudonymize = flag }
        if let flag = try fields.bool("record_matches") { profile.recordMatches = flag }
        if let value = try fields.string("control_tokens") {
            guard value == "text" || value == "allow" else {
                throw StackError("'control_tokens' is \"text\" (user content's control tokens are read as text) or \"allow\"",
                                 at: fields.location(of: "control_tokens"))
            }
            profile.allowControlTokens = value == "allow"
        }
        if let window = try fields.int("stream_window") {
            guard (16...4096).contains(window) else {
                throw StackError("'stream_window' is 16 to 4096 bytes", at: fields.location(of: "stream_window"))
            }
            profile.streamWindow = window
        }
        if fields["quotas"] != nil { profile.quotas = try quotas(fields.required("quotas"), base: profile.quotas) }
        return profile
    }

    private static func list(_ fields: ObjectFields, _ key: String) throws(StackError) -> [JSON5Node] {
        let node = try fields.required(key)
        guard case .array(let items) = node.kind else { throw StackError("'\(key)' must be a list, found \(node.kindName)", at: node.location) }
        return items
    }

    private static func add(_ matcher: GuardrailPolicy.Matcher, _ entry: ObjectFields, to profile: inout GuardrailPolicy.Profile) throws(StackError) {
        let name = try entry.requiredString("name")
        guard Self.isName(name) else {
            throw StackError("a rule's name is 1 to 40 letters, digits, _ and -, not '\(SafeText.quoted(name))'", at: entry.location(of: "name"))
        }
        guard !profile.rules.contains(where: { $0.name == name }) else {
            throw StackError("a rule named '\(name)' is already in this profile (detectors are named after their kind)", at: entry.location(of: "name"))
        }
        let (input, output) = try actions(entry.node, context: "rule '\(name)'", allowShorthand: false)
        let label = try entry.string("placeholder") ?? name.uppercased().replacingOccurrences(of: "-", with: "_")
        guard Self.isName(label), label == label.uppercased(), !label.contains("-") else {
            throw StackError("'placeholder' is 1 to 40 upper-case letters, digits and _", at: entry.location(of: "placeholder"))
        }
        profile.rules.append(GuardrailPolicy.Rule(name: name, matcher: matcher, input: input, output: output, label: label))
    }

    /// `"mask"` (both directions), or an object with `action` and/or `input` and `output`; a direction left out is allow.
    private static func actions(_ node: JSON5Node, context: String, allowShorthand: Bool) throws(StackError)
        -> (GuardrailPolicy.Action, GuardrailPolicy.Action) {
        if allowShorthand, case .string = node.kind {
            let both = try action(node, context)
            return (both, both)
        }
        let fields = try ObjectFields(node, allowed: allowShorthand ? ["action", "input", "output"]
                                      : ["name", "phrases", "regex", "ignore_case", "action", "input", "output", "placeholder"], context: context)
        let both = try fields["action"].map { node throws(StackError) in try action(node, context) }
        let input = try fields["input"].map { node throws(StackError) in try action(node, context) }
        let output = try fields["output"].map { node throws(StackError) in try action(node, context) }
        guard both == nil || (input == nil && output == nil) else {
            throw StackError("\(context) gives 'action' (both directions) or 'input' and 'output', not both", at: fields.location(of: "action"))
        }
        guard both != nil || input != nil || output != nil else {
            throw StackError("\(context) needs an 'action' or an 'input' or 'output' action", at: node.location)
        }
        return (both ?? input ?? .allow, both ?? output ?? .allow)
    }

    private static func action(_ node: JSON5Node, _ context: String) throws(StackError) -> GuardrailPolicy.Action {
        let names = GuardrailPolicy.Action.allCases.map(\.rawValue)
        guard case .string(let text) = node.kind, let action = GuardrailPolicy.Action(rawValue: text) else {
            throw StackError("\(context): an action is one of \(names.joined(separator: ", "))", at: node.location)
        }
        return action
    }

    private static func quotas(_ node: JSON5Node, base: QuotaLimits) throws(StackError) -> QuotaLimits {
        let keys: [(String, WritableKeyPath<QuotaLimits, Int?>)] = [
            ("requests_per_minute", \.requestsPerMinute), ("tokens_per_minute", \.tokensPerMinute), ("tokens_per_day", \.tokensPerDay),
            ("tokens_per_month", \.tokensPerMonth), ("concurrent_requests", \.concurrentRequests),
        ]
        let fields = try ObjectFields(node, allowed: keys.map(\.0), context: "'quotas'")
        var limits = base
        for (key, path) in keys {
            guard let value = fields[key] else { continue }
            switch value.kind {
            case .null: limits[keyPath: path] = nil
            case .int(let number) where number >= 1 && number <= 1_000_000_000_000: limits[keyPath: path] = number
            default: throw StackError("'\(key)' is a whole number of at least 1, or null for no limit", at: value.location)
            }
        }
        return limits
    }

    /// `message` with what it quotes from the file ('…') left out.
    static func withoutQuotes(_ message: String) -> String {
        // from the first quote to the last: a quoted word may itself hold a quote
        guard let first = message.firstIndex(of: "'"), let last = message.lastIndex(of: "'"), first < last else { return message }
        return String(message[..<first]) + "'…'" + String(message[message.index(after: last)...])
    }

    private static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 40 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}
