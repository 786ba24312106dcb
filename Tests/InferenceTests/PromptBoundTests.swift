import Foundation
import Testing
@testable import InferenceEngine

/// The bound a prompt's length puts on its token count (what lets the server refuse a prompt of megabytes without
/// tokenizing it) never exceeds the true count: over the fuzz fixtures' strings in every script, with and without
/// special tokens, and over texts made of the vocabulary's longest pieces, where it is tightest.
@Suite("prompt length bound")
struct PromptBoundTests {
    static let names = ["llama-spm", "llama-bpe", "qwen2", "llama-spm-retyped"]

    @Test("no text tokenizes to fewer tokens than its bytes over the longest piece", arguments: names)
    func neverAbove(_ name: String) throws {
        let (fixture, tokenizer) = try TokenizerFuzzTests.load(name)
        let longest = try #require(tokenizer.longestPieceBytes)
        #expect(longest >= 4)
        let byLength = tokenizer.vocabulary.tokens.indices.sorted { tokenizer.vocabulary.tokens[$0].utf8.count > tokenizer.vocabulary.tokens[$1].utf8.count }
        let longPieces = byLength.prefix(20).map { String(decoding: tokenizer.piece($0, special: true), as: UTF8.self) }
        let texts = fixture.cases.prefix(300).map(\.text) + longPieces + longPieces.map { String(repeating: $0, count: 50) }
            + [longPieces.joined(), String(repeating: " ", count: 5000), String(repeating: "a", count: 5000)]
        var violations: [String] = []
        for text in texts {
            let least = try #require(tokenizer.minimumTokens(forBytes: text.utf8.count))
            for count in [tokenizer.encode(text).count, tokenizer.encode(text, parseSpecial: true).count] where count < least {
                violations.append("\(text.prefix(40).debugDescription): \(count) tokens, bound \(least)")
            }
        }
        #expect(violations.isEmpty, "\(violations.prefix(5))")
    }

    @Test("a byte-level BPE vocabulary missing a byte's character gives no bound")
    func noBoundWithoutEveryByte() throws {
        let (_, tokenizer) = try TokenizerFuzzTests.load("qwen2")
        var vocabulary = tokenizer.vocabulary
        #expect(Tokenizer.longestPiece(vocabulary) != nil)
        vocabulary.ids[Array(String(BytePairTokenizer.byteCharacters[0]).utf8)[...]] = nil
        #expect(Tokenizer.longestPiece(vocabulary) == nil)
    }
}
