import Diagnostics
import GGUF
import Testing
@testable import InferenceEngine
@testable import InferenceServer
@testable import InferenceService

/// inference-server's errors say themselves who can fix them: a bad model, template, key file or log given to it is
/// exit 2 (the input), a server that cannot start or a type it cannot read is exit 1.
@Suite("inference-server user-facing errors")
struct InferenceUserFacingErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var error: any Error & Sendable
        var kind: FailureKind
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "arguments", error: Arguments.Invalid(description: "bad"), kind: .usage),
        Case(name: "GGUF", error: GGUFError(path: "m.gguf", message: "bad"), kind: .usage),
        Case(name: "model", error: ModelError("bad"), kind: .usage),
        Case(name: "chat template", error: ChatTemplate.Unknown(description: "bad"), kind: .usage),
        Case(name: "tokenizer", error: BytePairTokenizer.Unsupported(description: "bad"), kind: .usage),
        Case(name: "perplexity text", error: Perplexity.TooShort(description: "bad"), kind: .usage),
        Case(name: "keys file", error: KeyStore.KeyError(description: "bad"), kind: .usage),
        Case(name: "audit log", error: AuditLog.LogError(description: "bad"), kind: .usage),
        Case(name: "audit input", error: AuditVerifier.InputError(description: "bad"), kind: .usage),
        Case(name: "server start", error: HTTPServer.StartError(description: "bad"), kind: .failure),
        Case(name: "dequantiser", error: Dequantize.Unsupported(type: .i8), kind: .failure),
    ]

    @Test("kind, exit code and message", arguments: cases)
    func table(_ test: Case) {
        let report = UserFacingReport(test.error)
        #expect(report.kind == test.kind && report.exitCode == (test.kind == .usage ? 2 : 1))
        #expect(report.message == "\(test.error)")
    }
}
