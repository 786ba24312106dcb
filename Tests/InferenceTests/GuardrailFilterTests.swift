import Foundation
import Testing
@testable import Guardrails

/// The rules applied to text: masking with numbered placeholders, blocking, logging, restoring; words and
/// patterns through case, accents, look-alike letters and invisible characters; the corpus's Unicode tricks.
@Suite("guardrail filter")
struct GuardrailFilterTests {
    static func profile(_ body: String) throws -> GuardrailPolicy.Profile {
        try GuardrailPolicyParser.parse("{ version: 1, default: { \(body) } }", file: "p.json5").defaultProfile
    }

    static func run(_ body: String, _ text: String, direction: GuardrailPolicy.Direction = .input) throws -> GuardrailFilter.Outcome {
        var placeholders = Placeholders()
        return GuardrailFilter(profile: try profile(body), direction: direction).filter(text, placeholders: &placeholders)
    }

    /// Rules, a text, and what it becomes (or "BLOCKED rule").
    static let cases: [(String, String, String)] = [
        ("detectors: { email: 'mask' }", "write to a@example.com, b@example.org and a@example.com",
         "write to [EMAIL_1], [EMAIL_2] and [EMAIL_1]"),
        ("detectors: { email: 'mask', phone: 'mask' }", "call +1 415 555 0132 or mail x@example.com", "call [PHONE_1] or mail [EMAIL_1]"),
        ("detectors: { payment_card: 'block', email: 'mask' }", "a@example.com pays with 4111 1111 1111 1111", "BLOCKED payment_card"),
        ("detectors: { email: 'log' }", "a@example.com", "a@example.com"),
        ("detectors: { email: { output: 'mask' } }", "a@example.com", "a@example.com"),
        // invisible characters and full-width forms do not hide a value from the detectors
        ("detectors: { payment_card: 'mask' }", "card 5349 8779\u{200B}5741 0186 ok", "card [PAYMENT_CARD_1] ok"),
        ("detectors: { payment_card: 'mask' }", "card ４５２７ ３６２９ ３８４５ ９７６５ ok", "card [PAYMENT_CARD_1] ok"),
        ("detectors: { us_ssn: 'mask' }", "SSN ٧٨٦-٥٥-٥٩١٧ here", "SSN [US_SSN_1] here"),
        ("detectors: { email: 'mask' }", "jane.doe\u{200B}@example.com", "[EMAIL_1]"),
        ("words: [ { name: 'codenames', phrases: ['Project Falcon'], action: 'mask' } ]",
         "about PROJECT   falcon, prоject fаlcon (Cyrillic), Pro\u{200D}ject Fal\u{00AD}con and Projéct Falcon", 
         "about [CODENAMES_1], [CODENAMES_2] (Cyrillic), [CODENAMES_3] and [CODENAMES_4]"),
        ("words: [ { name: 'codenames', phrases: ['falcon'], action: 'mask' } ]", "falcons and Falcon9 but falcon.", "falcons and Falcon9 but [CODENAMES_1]."),
        ("words: [ { name: 'banned', phrases: ['秘密'], action: 'block' } ]", "这是秘密文件", "BLOCKED banned"),
        ("words: [ { name: 'banned', phrases: ['ｓｅｃｒｅｔ ｐｌａｎ'], action: 'block' } ]", "the Secret  Plan", "BLOCKED banned"),
        ("patterns: [ { name: 'employee-id', regex: 'EMP-[0-9]{6}', action: 'mask' } ]", "EMP-123456 and emp-123456 and ＥＭＰ-１２３４５６",
         "[EMPLOYEE_ID_1] and emp-123456 and [EMPLOYEE_ID_2]"),
        ("patterns: [ { name: 'ticket', regex: 'ticket #[0-9]+', ignore_case: true, action: 'mask', placeholder: 'T' } ]", "Ticket #42 é ticket #7",
         "[T_1] é [T_2]"),
        // dashes of every kind, combining and enclosing marks, ideographic full stops (found by a hostile review)
        ("detectors: { us_ssn: 'mask', phone: 'mask' }", "SSN 123\u{2013}45\u{2013}6789, call (415) 555\u{2212}0132", "SSN [US_SSN_1], call [PHONE_1]"),
        ("detectors: { payment_card: 'mask' }", "card 4\u{0301}111 1\u{0332}111 1111 1111 ok", "card [PAYMENT_CARD_1] ok"),
        ("detectors: { payment_card: 'mask' }", "card 4\u{20E3}111-1111\u{2011}1111-1111 ok", "card [PAYMENT_CARD_1] ok"),
        ("detectors: { ip_address: 'mask' }", "host 10\u{3002}1\u{3002}2\u{3002}3 down", "host [IP_ADDRESS_1] down"),
        // a card beside other digit groups: its expiry, its code, a quantity before it
        ("detectors: { payment_card: 'mask' }", "4111 1111 1111 1111 12/26", "[PAYMENT_CARD_1] 12/26"),
        ("detectors: { payment_card: 'mask' }", "card 4111 1111 1111 1111 123 thanks", "card [PAYMENT_CARD_1] 123 thanks"),
        ("detectors: { payment_card: 'mask' }", "qty 2 4111 1111 1111 1111", "qty 2 [PAYMENT_CARD_1]"),
        // capitals and other scripts' letters drawn like Latin ones
        ("words: [ { name: 'codenames', phrases: ['project falcon'], action: 'mask' } ]",
         "PROJECT FALCO\u{039D}, Project Falc\u{0585}n, Project F\u{1D00}lcon, ΡROJECT FALCON", "[CODENAMES_1], [CODENAMES_2], [CODENAMES_3], [CODENAMES_4]"),
        // PEM keys as configuration files hold them
        ("detectors: { private_key: 'mask' }", "key: |\n  -----BEGIN PRIVATE KEY-----\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n  -----END PRIVATE KEY-----\nnext: 1",
         "key: |\n  [PRIVATE_KEY_1]\nnext: 1"),
        ("detectors: { private_key: 'mask' }", "-----BEGIN RSA PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC -----END RSA PRIVATE KEY----- x",
         "[PRIVATE_KEY_1] x"),
        ("detectors: { private_key: 'mask' }",
         "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END RSA PRIVATE KEY-----",
         "[PRIVATE_KEY_1]"),
        // a line of small numbers is no card; a card's digits are not left out of an overlapping mask
        ("detectors: { payment_card: 'block' }", "70 54 7 72 15 28 80 80 74 7 73 74 50 6 28 5 71 17 37 53", "70 54 7 72 15 28 80 80 74 7 73 74 50 6 28 5 71 17 37 53"),
        ("detectors: { payment_card: 'mask' }, patterns: [ { name: 'acct', regex: 'ACCT-[0-9]+', action: 'mask' } ]",
         "pay ACCT-4111 1111 1111 1111 now", "pay [ACCT_1] now"),
        ("detectors: { email: 'mask' }, words: [ { name: 'who', phrases: ['contact bob'], action: 'mask' } ]",
         "write to contact bob@example.com", "write to [WHO_1]"),
        // overlaps: the stronger action stands, then the earlier and longer finding
        ("detectors: { iban: 'log', payment_card: 'block' }", "charge AT70 4111 1111 1111 1111", "BLOCKED payment_card"),
        ("detectors: { email: 'mask' }, words: [ { name: 'w', phrases: ['example'], action: 'log' } ]", "x@example.com example", "[EMAIL_1] example"),
        ("detectors: { email: 'mask' }, words: [ { name: 'w', phrases: ['example'], action: 'block' } ]", "x@example.com", "BLOCKED w"),
    ]

    @Test(arguments: cases) func rulesApplied(rules: String, text: String, expected: String) throws {
        let outcome = try Self.run(rules, text)
        if let rule = outcome.blockedBy {
            #expect("BLOCKED " + rule == expected)
        } else {
            #expect(outcome.text == expected)
        }
    }

    /// A pattern a crafted text sends into backtracking is stopped at its time limit, and the text is blocked: what
    /// was not judged does not pass.
    @Test func aPatternOutOfTimeBlocks() throws {
        let outcome = try Self.run("patterns: [ { name: 'slow', regex: '(a|a)+b', action: 'log' } ]", String(repeating: "a", count: 40))
        #expect(outcome.blockedBy == "slow" && outcome.unjudgedReason?.contains("time limit") == true)
        #expect(outcome.decisions == [GuardrailDecision(rule: "slow", direction: "input", action: "block", count: 0)])
    }

    /// Any pattern can be quadratic in a long text: past a few hundred bytes every pattern runs against the thread's
    /// CPU clock; and one request's texts share a budget, so many texts each just under the limit do not add up.
    @Test func longTextsAndManyTextsRunAgainstTheClock() throws {
        let quadratic = try Self.run("patterns: [ { name: 'corp', regex: '[^@]+@corp\\\\.example', action: 'mask' } ]",
                                     String(repeating: "a", count: 40_000))
        #expect(quadratic.blockedBy == "corp" && quadratic.unjudgedReason?.contains("time limit") == true, "\(quadratic.unjudgedReason ?? "judged")")
        let profile = try Self.profile("patterns: [ { name: 'slow', regex: '(a|a)+b', action: 'log' } ]")
        let filter = GuardrailFilter(profile: profile, direction: .input)
        let clock = PatternClock(budget: .milliseconds(30))
        var placeholders = Placeholders()
        var outcomes: [GuardrailFilter.Outcome] = []
        for _ in 0..<3 { outcomes.append(filter.filter(String(repeating: "a", count: 40), placeholders: &placeholders, clock: clock)) }
        #expect(outcomes.allSatisfy { $0.blockedBy == "slow" })
        #expect(clock.left <= .zero, "the texts spent the request's budget between them")
    }

    @Test func decisionsCountWithoutTheValuesUnlessAsked() throws {
        let quiet = try Self.run("detectors: { email: 'mask', phone: 'log' }", "a@example.com b@example.com +44 20 7946 0958")
        #expect(quiet.decisions == [GuardrailDecision(rule: "email", direction: "input", action: "mask", count: 2, matches: nil),
                                    GuardrailDecision(rule: "phone", direction: "input", action: "log", count: 1, matches: nil)])
        let loud = try Self.run("detectors: { email: 'mask' }, record_matches: true", "a@example.com")
        #expect(loud.decisions.first?.matches == ["a@example.com"])
        let blocked = try Self.run("detectors: { payment_card: 'block' }", "4111 1111 1111 1111 and 5555 5555 5555 4444")
        #expect(blocked.blockedBy == "payment_card" && blocked.decisions.first?.count == 2 && blocked.text.isEmpty)
    }

    @Test func placeholdersAreRestoredOnlyForTheirOwnValues() throws {
        let profile = try Self.profile("detectors: { email: 'mask' }, pseudonymize: true")
        var placeholders = Placeholders()
        let input = GuardrailFilter(profile: profile, direction: .input).filter("mail a@example.com", placeholders: &placeholders)
        #expect(input.text == "mail [EMAIL_1]")
        #expect(placeholders.restore("[EMAIL_1] said [EMAIL_2] [EMAIL_1 [EMAIL_1]]") == "a@example.com said [EMAIL_2] [EMAIL_1 a@example.com]")
        let output = GuardrailFilter(profile: profile, direction: .output).filter("ask b@example.com or a@example.com", placeholders: &placeholders)
        #expect(output.text == "ask [EMAIL_2] or [EMAIL_1]", "the same value keeps its number across directions")
        #expect(placeholders.restore(output.text) == "ask [EMAIL_2] or a@example.com", "a value the model wrote stays masked")
    }

    /// Every sample of the corpus whose value a raw scan misses only for a Unicode trick (an invisible character
    /// inside, full-width or other non-ASCII digits) is found once the text is normalized.
    @Test func corpusUnicodeTricksAreCaught() throws {
        let tricks = SensitiveScannerTests.corpus.filter { $0.case.hasPrefix("zero-width") || $0.case.contains("digits (not ASCII)") }
        #expect(tricks.count >= 10)
        for sample in tricks {
            guard let kind = SensitiveKind(rawValue: sample.kind) else { continue }
            let outcome = try Self.run("detectors: { \(kind.rawValue): 'mask' }", sample.text)
            #expect(!outcome.text.contains(sample.value) && outcome.text.contains("[\(kind.rawValue.uppercased())_1]"), "\(sample.case): \(outcome.text)")
        }
    }

    @Test func normalizedTextTracesEveryByteBack() {
        let text = "Ａb\u{200B}c é\u{301}  Д"
        let folded = NormalizedText(text, form: .folded)
        #expect(folded.string == "abc e д")
        // the whole text maps back to the whole text
        #expect(folded.originalRange(0..<folded.bytes.count) == 0..<text.utf8.count)
        let compatible = NormalizedText("x\u{FEFF}１", form: .compatible)
        #expect(compatible.string == "x1" && compatible.originalRange(1..<2) == 4..<7)
    }
}
