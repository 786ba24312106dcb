import Foundation
import Testing
@testable import Guardrails

/// The deterministic detectors against a labelled corpus (Fixtures/guardrails/corpus.jsonl, made by
/// scripts/make_guardrail_corpus.py): genuine instances with valid checksums, near misses with invalid ones, and
/// Unicode tricks. A detector must report a genuine instance with exactly its span and nothing else anywhere.
@Suite("personal data and secret detectors")
struct SensitiveScannerTests {
    struct Sample: Decodable {
        var kind: String
        var label: Bool
        var text: String
        var value: String
        var `case`: String
    }

    static let corpus: [Sample] = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/guardrails/corpus.jsonl")
        let text = (try? String(contentsOf: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Sample.self, from: Data($0.utf8)) }
    }()

    /// The UTF-8 byte range of `value` in `text`.
    static func span(_ value: String, in text: String) -> Range<Int>? {
        guard let range = text.range(of: value) else { return nil }
        let start = text.utf8.distance(from: text.utf8.startIndex, to: range.lowerBound)
        return start..<start + value.utf8.count
    }

    struct Score: CustomStringConvertible {
        var truePositives = 0, falseNegatives = 0, falsePositives = 0
        var misses: [String] = []
        var precision: Double { Double(truePositives) / Double(max(1, truePositives + falsePositives)) }
        var recall: Double { Double(truePositives) / Double(max(1, truePositives + falseNegatives)) }
        var description: String {
            String(format: "precision %.3f recall %.3f (%d found, %d missed, %d false)", precision, recall, truePositives, falseNegatives, falsePositives)
        }
    }

    static func scores() -> [SensitiveKind: Score] {
        var scores = Dictionary(uniqueKeysWithValues: SensitiveKind.allCases.map { ($0, Score()) })
        for sample in corpus {
            let expected = sample.label ? SensitiveKind(rawValue: sample.kind) : nil
            let span = Self.span(sample.value, in: sample.text)
            var found = false
            for match in SensitiveScanner.scan(sample.text) {
                if match.kind == expected, match.range == span, !found {
                    found = true
                    scores[match.kind]?.truePositives += 1
                } else {
                    scores[match.kind]?.falsePositives += 1
                    scores[match.kind]?.misses.append("false \(match.kind.rawValue) in [\(sample.case)] \(sample.text)")
                }
            }
            if let expected, !found {
                scores[expected]?.falseNegatives += 1
                scores[expected]?.misses.append("missed in [\(sample.case)] \(sample.text)")
            }
        }
        return scores
    }

    @Test("the corpus is there, and labels every kind both ways")
    func corpusCovers() {
        for kind in SensitiveKind.allCases {
            #expect(Self.corpus.contains { $0.kind == kind.rawValue && $0.label }, "\(kind) positives")
            #expect(Self.corpus.contains { $0.kind == kind.rawValue && !$0.label }, "\(kind) near misses")
        }
        #expect(Self.corpus.allSatisfy { Self.span($0.value, in: $0.text) != nil })
    }

    @Test("every detector finds every genuine instance and nothing else in the corpus", arguments: SensitiveKind.allCases)
    func detector(_ kind: SensitiveKind) throws {
        let score = try #require(Self.scores()[kind])
        print("\(kind.rawValue): \(score)")
        #expect(score.recall == 1 && score.precision == 1, "\(kind.rawValue): \(score)\n\(score.misses.prefix(8).joined(separator: "\n"))")
    }

    @Test("overlapping findings keep the kind that explains more: a key block is one finding, not its digits")
    func overlaps() {
        let text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n4111 1111 1111 1111 AKIAIOSFODNN7EXAMPLE\n-----END PRIVATE KEY-----"
        #expect(SensitiveScanner.scan(text).map(\.kind) == [.privateKey])
        #expect(SensitiveScanner.scan("card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE").map(\.kind) == [.paymentCard, .awsAccessKey])
    }
}
