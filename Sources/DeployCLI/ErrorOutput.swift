import Diagnostics
import Foundation

/// How an error reaches standard error: `error: message` for a person, or under `--output json` one JSON object,
/// `{"error": {"message": ..., "exitCode": ..., "kind": "usage" | "failure", "hint": ..., "location": {"file", "line",
/// "column"}}}` (hint and location only where there is one), for a program.
struct ErrorOutput {
    var json: Bool
    var console: Console

    private struct Document: Encodable {
        struct Body: Encodable {
            var message: String
            var exitCode: Int32
            var kind: String
            var hint: String?
            var location: Location?
        }
        struct Location: Encodable {
            var file: String
            var line: Int
            var column: Int?
        }
        var error: Body
    }

    func report(_ report: UserFacingReport) {
        guard json else {
            console.error(report.message)
            if let hint = report.hint { console.err(hint) }
            return
        }
        let location = report.location.map { Document.Location(file: $0.file, line: $0.line, column: $0.column) }
        let document = Document(error: .init(message: report.message, exitCode: report.exitCode, kind: report.kind.rawValue,
                                             hint: report.hint, location: location))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        console.err((try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"error":{"message":"unprintable"}}"#)
    }
}
