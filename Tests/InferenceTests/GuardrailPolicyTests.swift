import Foundation
import Hashing
import JSON5Source
import Testing
@testable import Guardrails
import InferenceService

/// The policy file: what it reads, how a profile inherits from the default, and one error with file:line:col for
/// each kind of mistake.
@Suite("guardrail policy file")
struct GuardrailPolicyTests {
    static let full = """
        {
          version: 1,
          default: {
            detectors: { email: "mask", payment_card: { input: "block", output: "mask" }, jwt: { action: "log" } },
            words: [ { name: "codenames", phrases: ["Project Falcon", "  blue\\u200Bbird  "], action: "mask" } ],
            patterns: [ { name: "employee-id", regex: "EMP-[0-9]{6}", output: "block", placeholder: "EMPLOYEE" } ],
            pseudonymize: true,
            quotas: { requests_per_minute: 60, tokens_per_day: 100000 },
          },
          profiles: [
            { name: "analysts", identities: ["alice", "analytics-*"], detectors: { email: "allow", phone: "mask" },
              quotas: { tokens_per_day: null, concurrent_requests: 2 }, control_tokens: "allow" },
          ],
        }
        """

    @Test func readsAProfileOverTheDefault() throws {
        let policy = try GuardrailPolicyParser.parse(Self.full, file: "p.json5")
        let base = policy.defaultProfile
        #expect(base.rules.map(\.name) == ["email", "payment_card", "jwt", "codenames", "employee-id"])
        #expect(base.rules.first { $0.name == "payment_card" }.map { ($0.input, $0.output) } ?? (.allow, .allow) == (.block, .mask))
        #expect(base.rules.first { $0.name == "employee-id" }.map { ($0.input, $0.output, $0.label) } ?? (.block, .block, "") == (.allow, .block, "EMPLOYEE"))
        #expect(base.quotas.requestsPerMinute == 60 && base.quotas.tokensPerDay == 100_000)
        let analyst = policy.profile(for: "analytics-eu")
        #expect(analyst.name == "analysts" && policy.profile(for: "alice").name == "analysts")
        #expect(policy.profile(for: "alice2").name == "default" && policy.profile(for: "analytics").name == "default")
        #expect(analyst.rules.first { $0.name == "email" }?.input == .allow)
        #expect(analyst.rules.contains { $0.name == "phone" } && analyst.rules.contains { $0.name == "codenames" })
        #expect(analyst.quotas.requestsPerMinute == 60 && analyst.quotas.tokensPerDay == nil && analyst.quotas.concurrentRequests == 2)
        #expect(analyst.allowControlTokens && !base.allowControlTokens && analyst.pseudonymize)
        #expect(policy.sha256.count == 64 && policy.hasQuotas)
    }

    /// Each mistake: the policy, and the error's `line:column: message` start.
    static let mistakes: [(String, String)] = [
        ("{ default: {} }", "1:1: the policy is missing 'version'"),
        ("{ version: 2 }", "1:12: the policy's 'version' must be 1"),
        ("{ version: 1, defaults: {} }", "1:15: unknown key 'defaults' in the policy; did you mean 'default'?"),
        ("{ version: 1,\n  default: { detectors: { emial: 'mask' } } }", "2:27: unknown detector 'emial'; did you mean 'email'?"),
        ("{ version: 1,\n  default: { detectors: { email: 'redact' } } }", "2:34: detector 'email': an action is one of allow, log, mask, block"),
        ("{ version: 1, default: { detectors: { email: { action: 'mask', input: 'block' } } } }",
         "1:48: detector 'email' gives 'action' (both directions) or 'input' and 'output', not both"),
        ("{ version: 1, default: { words: [ { name: 'w', phrases: [] , action: 'mask' } ] } }", "1:48: a word list needs 'phrases'"),
        ("{ version: 1, default: { words: [ { name: 'w', phrases: ['\\u200B '], action: 'mask' } ] } }",
         "1:48: a phrase is empty once invisible characters and spaces are taken out"),
        ("{ version: 1, default: { patterns: [ { name: 'p', regex: '([a-z', action: 'mask' } ] } }",
         "1:51: 'regex' is not a valid regular expression"),
        ("{ version: 1, default: { patterns: [ { name: 'p', regex: 'x*', action: 'mask' } ] } }", "1:51: 'regex' matches the empty text"),
        ("{ version: 1, default: { patterns: [ { name: 'p', regex: '(a+)+b', action: 'mask' } ] } }", "1:51: 'regex' repeats a group that itself repeats"),
        ("{ version: 1, default: { patterns: [ { name: 'p', regex: '(?:x[0-9]*)*y', action: 'mask' } ] } }", "1:51: 'regex' repeats a group"),
        ("{ version: 1, default: { patterns: [ { name: 'p', regex: '([a-z]+\\\\.)+corp', action: 'mask' } ] } }", "1:51: 'regex' repeats a group"),
        ("{ version: 1, default: { patterns: [ { name: 'p q', regex: 'x', action: 'mask' } ] } }", "1:40: a rule's name is 1 to 40 letters"),
        ("{ version: 1, default: { detectors: { email: 'mask' }, patterns: [ { name: 'email', regex: 'x', action: 'mask' } ] } }",
         "1:70: a rule named 'email' is already in this profile"),
        ("{ version: 1, default: { patterns: [ { name: 'p', regex: 'x' } ] } }", "1:38: rule 'p' needs an 'action'"),
        ("{ version: 1, default: { stream_window: 8 } }", "1:26: 'stream_window' is 16 to 4096 bytes"),
        ("{ version: 1, default: { control_tokens: 'yes' } }", "1:26: 'control_tokens' is \"text\""),
        ("{ version: 1, default: { quotas: { tokens_per_minute: 0 } } }", "1:55: 'tokens_per_minute' is a whole number of at least 1"),
        ("{ version: 1, default: { quotas: { tokens_per_hour: 5 } } }", "1:36: unknown key 'tokens_per_hour' in 'quotas'"),
        ("{ version: 1, profiles: [ { name: 'x' } ] }", "1:27: profile 'x' names no 'identities'"),
        ("{ version: 1, profiles: [ { name: 'default', identities: ['a'] } ] }", "1:29: a profile's name must be unique"),
        ("{ version: 1, profiles: [ { name: 'x', identities: ['a*b'] } ] }", "1:53: 'a*b' is not a key name or a prefix ending in *"),
        ("{ version: 1, default: { detectors: { email: 'mask' }, }, }  x", "1:62: unexpected"),
    ]

    @Test(arguments: mistakes) func oneErrorWithItsPlace(policy: String, expected: String) {
        #expect(throws: StackError.self) { try GuardrailPolicyParser.parse(policy, file: "p.json5") }
        do {
            _ = try GuardrailPolicyParser.parse(policy, file: "p.json5")
        } catch {
            #expect(error.description.hasPrefix("p.json5:" + expected), "\(error.description)")
        }
    }

    /// Patterns that repeat nothing that repeats are accepted, those that do are refused; those that may backtrack
    /// run against a clock, the others without one.
    @Test func theShapeOfAPatternDecidesHowItRuns() {
        let plain = ["EMP-[0-9]{6}", "INC[0-9]{7}", "[a-z0-9-]+\\.corp\\.example\\.net", "(?i)ticket #[0-9]+", "[(+]+", "a{2,5}b+", "(a|b)c+",
                     "\\p{Lu}{2}-\\d+", "\\Q(a+)+\\E"]
        let watched = ["(ab)+c", "x(?:y)+", "\\(a+\\)+x+", "(a)(b+)c*", "(a?)+", "(a|a)+b", "\\d*\\d*x", "a+b+", "x{2,}y*",
                       "\\p{Nd}*\\p{Nd}*x", "\\d{1,3000}\\d{1,3000}x", "(\\p{L}|-)+", "(?:\\p{Lu}\\d)+"]
        let refused = ["(a+)+", "(a*)*b", "((ab)+)+", "(x{2,})+", "([a-z]+\\.)+", "(?:\\d+)+", "(\\p{L}+)*"]
        for pattern in plain { #expect(!PatternShape(pattern).mayBacktrack && !PatternShape(pattern).nestsRepetition, "\(pattern)") }
        for pattern in watched { #expect(PatternShape(pattern).mayBacktrack && !PatternShape(pattern).nestsRepetition, "\(pattern)") }
        for pattern in refused { #expect(PatternShape(pattern).nestsRepetition, "\(pattern)") }
    }

    /// A file that is not JSON5 at all (a credentials file named by mistake) is refused without its words repeated.
    @Test func aFileThatIsNoPolicyIsNotQuoted() {
        #expect(GuardrailPolicyParser.withoutQuotes("duplicate key 'it's a secret' (first at line 1)") == "duplicate key '…' (first at line 1)")
        for text in ["AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "root:$6$salt$hash:19000:0:99999:7:::"] {
            do {
                _ = try GuardrailPolicyParser.parse(text, file: "p.json5")
                Issue.record("accepted")
            } catch {
                #expect(error.description.hasPrefix("p.json5:1:1: ") && !error.description.contains("AKIA") && !error.description.contains("root"),
                        "\(error.description)")
            }
        }
    }

    @Test func aBadEditKeepsTheLastGoodPolicy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("policy.json5").path
        func write(_ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path + ".new"))
            _ = rename(path + ".new", path)
        }
        try write("{ version: 1, default: { detectors: { email: 'mask' } } }")
        let store = try GuardrailPolicyStore(path: path)
        let first = store.current().policy.sha256
        try write("{ version: 1,\n  default: { detectors: { email: 'mask', } ")
        Thread.sleep(forTimeInterval: 1.1)
        let rejected = store.current()
        #expect(rejected.policy.sha256 == first)
        guard case .rejected(let message) = rejected.reload else { Issue.record("no rejection reported"); return }
        #expect(message.contains("\(path):2:") && message.contains(String(first.prefix(16))))
        #expect(store.reloadFailures == 1)
        Thread.sleep(forTimeInterval: 1.1)
        #expect(store.current().reload == nil, "the same bad file is reported once")
        try FileManager.default.removeItem(atPath: path)
        Thread.sleep(forTimeInterval: 1.1)
        #expect(store.current().reload != nil)
        Thread.sleep(forTimeInterval: 1.1)
        #expect(store.current().reload == nil, "a missing file is reported once too")
        let good = "{ version: 1, default: { detectors: { phone: 'mask' } } }"
        try write(good)
        Thread.sleep(forTimeInterval: 1.1)
        let reloaded = store.current()
        #expect(reloaded.reload == .loaded(sha256: SHA256.hex(good)) && reloaded.policy.defaultProfile.rules.map(\.name) == ["phone"])
    }
}
