import Foundation
import Testing
@testable import InferenceService

/// The request head parser, case by case: what smuggling and identity confusion need (two lengths, a signed length,
/// a length beside Transfer-Encoding, two Authorization or Host headers, folded lines) is refused; ordinary heads
/// parse as before.
@Suite("HTTP head parsing")
struct HTTPHeadTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var lines: [String]
        /// The refusal's status, or nil when the head parses.
        var status: Int?
        var testDescription: String { name }

        var head: [UInt8] { Array(lines.joined(separator: "\r\n").utf8) }
    }

    static let request = "POST /v1/completions HTTP/1.1"

    @Test("refused with 400 (or 501/505 as before)", arguments: [
        Case(name: "two Content-Length, differing", lines: [request, "Host: x", "Content-Length: 5", "Content-Length: 6"], status: 400),
        Case(name: "two Content-Length, equal", lines: [request, "Host: x", "Content-Length: 5", "Content-Length: 5"], status: 400),
        Case(name: "two Content-Length, differing case", lines: [request, "Host: x", "Content-Length: 5", "content-length: 5"], status: 400),
        Case(name: "Content-Length as a list", lines: [request, "Host: x", "Content-Length: 5, 5"], status: 400),
        Case(name: "Content-Length with a plus sign", lines: [request, "Host: x", "Content-Length: +5"], status: 400),
        Case(name: "Content-Length negative", lines: [request, "Host: x", "Content-Length: -1"], status: 400),
        Case(name: "Content-Length with an inner space", lines: [request, "Host: x", "Content-Length: 1 0"], status: 400),
        Case(name: "Content-Length empty", lines: [request, "Host: x", "Content-Length: "], status: 400),
        Case(name: "Content-Length in hex", lines: [request, "Host: x", "Content-Length: 0x10"], status: 400),
        Case(name: "Content-Length past Int", lines: [request, "Host: x", "Content-Length: 99999999999999999999999"], status: 400),
        Case(name: "Content-Length in Arabic-Indic digits", lines: [request, "Host: x", "Content-Length: \u{661}\u{662}"], status: 400),
        Case(name: "Content-Length with Transfer-Encoding chunked", lines: [request, "Host: x", "Content-Length: 5", "Transfer-Encoding: chunked"], status: 400),
        Case(name: "Content-Length with Transfer-Encoding identity", lines: [request, "Host: x", "Transfer-Encoding: identity", "Content-Length: 5"], status: 400),
        Case(name: "two Transfer-Encoding", lines: [request, "Host: x", "Transfer-Encoding: identity", "Transfer-Encoding: chunked"], status: 400),
        Case(name: "two Authorization", lines: [request, "Host: x", "Authorization: Bearer a", "Authorization: Bearer b"], status: 400),
        Case(name: "two Host", lines: [request, "Host: x", "Host: y"], status: 400),
        Case(name: "obs-fold with a space", lines: [request, "Host: x", "X-Long: a", " b"], status: 400),
        Case(name: "obs-fold with a tab", lines: [request, "Host: x", "Content-Length: 5", "\t6"], status: 400),
        Case(name: "space before the colon", lines: [request, "Host: x", "Content-Length : 5"], status: 400),
        Case(name: "tab before the colon", lines: [request, "Host: x", "Content-Length\t: 5"], status: 400),
        Case(name: "a bare LF inside a value", lines: [request, "Host: x", "X-A: 1\nContent-Length: 5"], status: 400),
        Case(name: "a bare CR inside a value", lines: [request, "Host: x", "X-A: 1\rContent-Length: 5"], status: 400),
        Case(name: "a NUL inside a value", lines: [request, "Host: x", "X-A: 1\u{0}"], status: 400),
        Case(name: "a line without a colon", lines: [request, "Host: x", "Content-Length 5"], status: 400),
        Case(name: "an empty header name", lines: [request, "Host: x", ": 5"], status: 400),
        Case(name: "a malformed request line", lines: ["POST /v1/completions", "Host: x"], status: 400),
        Case(name: "a target not starting with a slash", lines: ["GET http://x/ HTTP/1.1", "Host: x"], status: 400),
        Case(name: "a control byte in the target", lines: ["GET /a\u{1}b HTTP/1.1", "Host: x"], status: 400),
        Case(name: "HTTP/2.0", lines: ["GET / HTTP/2.0", "Host: x"], status: 505),
        Case(name: "Transfer-Encoding chunked alone", lines: [request, "Host: x", "Transfer-Encoding: chunked"], status: 501),
    ])
    func refused(_ test: Case) {
        guard case .failure(let refusal) = HTTPHead.parse(test.head) else {
            Issue.record("\(test.name) parsed")
            return
        }
        #expect(refusal.status == test.status, "\(refusal.message)")
    }

    @Test("accepted as before", arguments: [
        Case(name: "a POST with a length", lines: [request, "Host: x", "Content-Length: 12", "Authorization: Bearer k"], status: nil),
        Case(name: "a length with leading zeros", lines: [request, "Host: x", "Content-Length: 007"], status: nil),
        Case(name: "a length with spaces around it", lines: [request, "Host: x", "Content-Length:   12\t"], status: nil),
        Case(name: "no Host (HTTP/1.0)", lines: ["GET /health HTTP/1.0"], status: nil),
        Case(name: "a repeated ordinary header", lines: ["GET /health HTTP/1.1", "Host: x", "Accept: a", "Accept: b"], status: nil),
        Case(name: "Transfer-Encoding identity alone", lines: [request, "Host: x", "Transfer-Encoding: identity"], status: nil),
        Case(name: "a query and UTF-8 in the target", lines: ["GET /v1/models/caf\u{e9}?x=1 HTTP/1.1", "Host: x"], status: nil),
    ])
    func accepted(_ test: Case) throws {
        let head = try HTTPHead.parse(test.head).get()
        #expect(head.headers["host"] == (test.lines.contains { $0.hasPrefix("Host:") } ? "x" : nil))
        if let length = test.lines.first(where: { $0.hasPrefix("Content-Length:") }) {
            #expect(head.contentLength == Int(length.dropFirst("Content-Length:".count).trimmingCharacters(in: .whitespaces)))
        } else {
            #expect(head.contentLength == 0)
        }
    }

    @Test("a repeated ordinary header keeps its last value; names are lower case; the target keeps its query")
    func values() throws {
        let head = try HTTPHead.parse(Array("GET /v1/models?x=1 HTTP/1.1\r\nHost: x\r\nAccept: a\r\nACCEPT: b".utf8)).get()
        #expect(head.headers["accept"] == "b" && head.method == "GET" && head.target == "/v1/models?x=1" && head.version == "HTTP/1.1")
    }
}
