import Foundation
import InferenceEngine
import Testing
@testable import Guardrails

/// A streamed answer through the hold-back window: however the model's pieces cut a value, the text that leaves
/// is what the whole answer's filtering gives, and no piece of a masked value leaves before it is judged.
@Suite("stream hold-back window")
struct StreamGuardTests {
    static let rules = """
        detectors: { email: 'mask', payment_card: 'mask', aws_access_key: 'mask', private_key: 'mask', jwt: 'mask', phone: 'mask' },
        words: [ { name: 'codenames', phrases: ['Project Falcon'], action: 'mask' } ],
        """

    static let answers = [
        "Write to jane.doe@example.com or ops@example.org today, and charge 4111 1111 1111 1111.",
        "The key is AKIAIOSFODNN7EXAMPLE and the project is project   falcon, call +1 415 555 0132.",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nabcdefghijklmnopqrstuvwxyz0123\n-----END PRIVATE KEY-----\nthat was it",
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
        "日本語のテキスト jane@example.jp と Project Falcon",
        "no secrets here at all, only words and more words to fill the window and then some",
        // multi-byte text before the values: the context kept from what was sent must start on a character
        String(repeating: "🙂🙂🙂 ", count: 7) + "Project Falcon 你好 bob@example.com 你好 4111 1111 1111 1111 end",
        String(repeating: "你好世界，", count: 12) + "mail bob@example.com 或 4111 1111 1111 1111 谢谢",
    ]

    /// Cuts `text` into pieces of whole characters, of random lengths from 1 to `longest`.
    static func pieces(_ text: String, longest: Int, seed: UInt64) -> [String] {
        var generator = SplitMix64(seed: seed)
        var out: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            let length = Int.random(in: 1...longest, using: &generator)
            out.append(String(rest.prefix(length)))
            rest = rest.dropFirst(length)
        }
        return out
    }

    @Test(arguments: Array(answers.indices)) func anyCutGivesTheWholeAnswersMasking(index: Int) throws {
        let profile = try GuardrailFilterTests.profile(Self.rules)
        let filter = GuardrailFilter(profile: profile, direction: .output)
        var wholePlaceholders = Placeholders()
        let whole = filter.filter(Self.answers[index], placeholders: &wholePlaceholders).text
        for seed in 0..<40 as Range<UInt64> {
            var placeholders = Placeholders()
            var stream = StreamGuard(filter: filter, window: 64)
            var sent: [String] = []
            for piece in Self.pieces(Self.answers[index], longest: seed % 2 == 0 ? 3 : 12, seed: seed) {
                sent.append(stream.push(piece, placeholders: &placeholders))
            }
            sent.append(stream.finish(placeholders: &placeholders))
            #expect(sent.joined() == whole, "seed \(seed)")
            // nothing of a masked value went out in any chunk
            for value in ["jane", "ops@", "bob@", "4111", "AKIA", "falcon", "Falcon", "BEGIN PRIVATE", "eyJ", "415 555", "\u{FFFD}"] {
                #expect(!sent.contains { $0.contains(value) }, "seed \(seed): \(value) left in \(sent)")
            }
        }
    }

    @Test func aBlockStopsTheStreamBeforeTheValue() throws {
        let filter = GuardrailFilter(profile: try GuardrailFilterTests.profile("detectors: { payment_card: { output: 'block' } }"), direction: .output)
        var placeholders = Placeholders()
        var stream = StreamGuard(filter: filter, window: 32)
        var sent = ""
        for piece in Self.pieces("Sure, here is a long preamble before the number 4111 1111 1111 1111 and after it", longest: 2, seed: 7) {
            sent += stream.push(piece, placeholders: &placeholders)
        }
        sent += stream.finish(placeholders: &placeholders)
        #expect(stream.blockedBy == "payment_card")
        #expect(!sent.contains("4111") && sent.hasPrefix("Sure"))
    }

    /// What a hostile review sent through the window: a phrase longer than the window, a key with no END line
    /// followed by more than the window can hold, a minified document with addresses past 8 KiB, a window of 16
    /// bytes over a key. Nothing of a value leaves.
    @Test func valuesLongerThanTheWindowDoNotLeak() throws {
        func stream(_ rules: String, _ text: String, window: Int = 64) throws -> (sent: String, blockedBy: String?) {
            let filter = GuardrailFilter(profile: try GuardrailFilterTests.profile(rules), direction: .output)
            var placeholders = Placeholders()
            var guardian = StreamGuard(filter: filter, window: window)
            var sent = ""
            for piece in Self.pieces(text, longest: 5, seed: 11) { sent += guardian.push(piece, placeholders: &placeholders) }
            sent += guardian.finish(placeholders: &placeholders)
            return (sent, guardian.blockedBy)
        }
        let phrase = "the board approved the acquisition of the northern subsidiary for an undisclosed sum on friday"
        let long = try stream("words: [ { name: 'deal', phrases: ['\(phrase)'], output: 'block' } ]", "News: \(phrase). More later.")
        #expect(long.blockedBy == "deal" && !long.sent.contains("acquisition"))
        let body = (0..<20).map { _ in "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" }.joined(separator: "\n")
        let prose = String(repeating: "and then the story goes on for a while ", count: 230)
        let open = try stream("detectors: { private_key: 'mask' }", "-----BEGIN PRIVATE KEY-----\n\(body)\n\(prose)")
        #expect(open.blockedBy == "private_key" && !open.sent.contains("MIIEvQ") && !open.sent.contains("BEGIN"), "\(open.blockedBy ?? "none"): \(open.sent.prefix(300))")
        let minified = "{\"pad\":\"" + String(repeating: "a", count: 8000) + "\",\"to\":\""
            + (0..<12).map { "user\(String(format: "%02d", $0))@example.com" }.joined(separator: ",") + "\"}"
        let document = try stream("detectors: { email: 'mask' }", minified)
        #expect(document.blockedBy == nil && !document.sent.contains("@example.com"))
        let narrow = try stream("detectors: { private_key: 'block' }", "Here: -----BEGIN RSA PRIVATE KEY-----\n\(body)\n-----END RSA PRIVATE KEY-----", window: 16)
        #expect(narrow.blockedBy == "private_key" && !narrow.sent.contains("MIIEvQ"))
    }

    @Test func textWithoutFindingsFlowsOneWindowBehind() throws {
        let filter = GuardrailFilter(profile: try GuardrailFilterTests.profile("detectors: { email: 'mask' }"), direction: .output)
        var placeholders = Placeholders()
        var stream = StreamGuard(filter: filter, window: 16)
        let text = String(repeating: "plain words ", count: 20)
        var released = 0
        for piece in Self.pieces(text, longest: 4, seed: 3) {
            released += stream.push(piece, placeholders: &placeholders).utf8.count
        }
        let rest = stream.finish(placeholders: &placeholders)
        #expect(released + rest.utf8.count == text.utf8.count)
        #expect(rest.utf8.count <= 16 + 16 + "words ".utf8.count, "at most a window, the half window (at least 16 bytes) not judged yet, and the word being written are held")
    }
}
