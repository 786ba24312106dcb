import Foundation
import Testing
@testable import AWS

/// One case of AWS's SigV4 test suite (Fixtures/aws-sigv4, Apache-2.0, from aws-c-auth).
struct SigV4SuiteCase: CustomTestStringConvertible, Sendable {
    let name: String
    let directory: URL

    var testDescription: String { name }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/aws-sigv4")

    static let all: [SigV4SuiteCase] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { !$0.contains(".") && $0 != "LICENSE" && $0 != "NOTICE" }.sorted()
            .map { SigV4SuiteCase(name: $0, directory: root.appendingPathComponent($0)) }
    }()

    func text(_ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }

    struct Context: Decodable {
        struct Keys: Decodable {
            let access_key_id: String
            let secret_access_key: String
            let token: String?
        }
        let credentials: Keys
        let expiration_in_seconds: Int
        let normalize: Bool
        let region: String
        let service: String
        let sign_body: Bool
        let timestamp: String
        let omit_session_token: Bool?
    }

    func context() throws -> Context {
        try JSONDecoder().decode(Context.self, from: Data(try text("context.json").utf8))
    }

    func signer(_ context: Context) -> SigV4Signer {
        var options = SigV4Signer.Options()
        options.normalizePath = context.normalize
        options.addContentSHA256Header = context.sign_body
        options.omitSessionTokenFromSignature = context.omit_session_token ?? false
        let credentials = Credentials(accessKeyID: context.credentials.access_key_id,
                                      secretAccessKey: context.credentials.secret_access_key,
                                      sessionToken: context.credentials.token)
        return SigV4Signer(credentials: credentials, region: context.region, service: context.service, options: options)
    }

    /// Parses request.txt: request line, headers (indented lines continue the previous value), blank line, body.
    func request() throws -> HTTPRequest {
        let raw = try text("request.txt")
        let (head, body) = raw.range(of: "\n\n").map { (String(raw[..<$0.lowerBound]), String(raw[$0.upperBound...])) }
            ?? (raw, "")
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        let query = target.contains("?") ? String(target.split(separator: "?", maxSplits: 1)[1]) : ""

        var fields: [(String, String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t", !fields.isEmpty {
                fields[fields.count - 1].1 += "\n" + line
            } else {
                let colon = try #require(line.firstIndex(of: ":"))
                fields.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        let host = fields.first { $0.0.lowercased() == "host" }?.1 ?? "example.amazonaws.com"
        return HTTPRequest(method: method, host: host, path: path, query: query,
                           headers: HTTPHeaders(fields), body: Data(body.utf8))
    }

    func date(_ context: Context) throws -> Date {
        try #require(Timestamp.parseISO8601(context.timestamp))
    }

    /// The request line of a *-signed-request.txt file, and its header fields.
    func signedRequest(_ file: String) throws -> (line: String, headers: [String: String]) {
        let lines = try text(file).split(separator: "\n").map(String.init)
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...])
        }
        return (lines.first ?? "", headers)
    }
}

@Suite("AWS SigV4 test suite")
struct SigV4SuiteTests {
    @Test("the fixture suite is complete")
    func suiteIsPresent() {
        #expect(SigV4SuiteCase.all.count == 38)
    }

    @Test("header signing", arguments: SigV4SuiteCase.all)
    func headerSigning(_ suiteCase: SigV4SuiteCase) throws {
        let context = try suiteCase.context()
        var request = try suiteCase.request()
        let result = suiteCase.signer(context).sign(&request, date: try suiteCase.date(context))

        #expect(result.canonicalRequest == (try suiteCase.text("header-canonical-request.txt")))
        #expect(result.stringToSign == (try suiteCase.text("header-string-to-sign.txt")))
        #expect(result.signature == (try suiteCase.text("header-signature.txt")))
        let expected = try suiteCase.signedRequest("header-signed-request.txt")
        #expect(request.headers["Authorization"] == expected.headers["authorization"])
        #expect(request.headers["X-Amz-Security-Token"] == expected.headers["x-amz-security-token"])
        #expect(request.headers["x-amz-content-sha256"] == expected.headers["x-amz-content-sha256"])
    }

    @Test("query signing (presigned URL)", arguments: SigV4SuiteCase.all)
    func querySigning(_ suiteCase: SigV4SuiteCase) throws {
        let context = try suiteCase.context()
        var request = try suiteCase.request()
        let result = suiteCase.signer(context).presign(&request, date: try suiteCase.date(context),
                                                      expires: context.expiration_in_seconds)

        #expect(result.canonicalRequest == (try suiteCase.text("query-canonical-request.txt")))
        #expect(result.stringToSign == (try suiteCase.text("query-string-to-sign.txt")))
        #expect(result.signature == (try suiteCase.text("query-signature.txt")))
        let expected = try suiteCase.signedRequest("query-signed-request.txt")
        let target = expected.line.drop { $0 != " " }.dropFirst().dropLast(" HTTP/1.1".count)
        let expectedQuery = target.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        #expect(Set(expectedQuery.split(separator: "&")) == Set(request.query.split(separator: "&")))
        #expect(request.headers["Authorization"] == nil)
    }
}
