import Foundation

/// How an error reaches standard error: `error: message` for a person, or under `--output json` one JSON object,
/// `{"error": {"message": ..., "exitCode": ..., "kind": "usage" | "failure"}}`, for a program.
struct ErrorOutput {
    var json: Bool
    var console: Console

    private struct Document: Encodable {
        struct Body: Encodable {
            var message: String
            var exitCode: Int32
            var kind: String
            var hint: String?
        }
        var error: Body
    }

    func report(_ message: String, code: Int32, hint: String? = nil) {
        guard json else {
            console.error(message)
            if let hint { console.err(hint) }
            return
        }
        let document = Document(error: .init(message: message, exitCode: code, kind: code == ExitCode.usage ? "usage" : "failure", hint: hint))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        console.err((try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"error":{"message":"unprintable"}}"#)
    }
}
