import Foundation
import Testing
@testable import InferenceEngine
@testable import InferenceService

/// TLS through libssl: a client trusting a test CA gets answers; TLS 1.1 is refused; a bad certificate path is an
/// error at start.
@Suite("inference TLS", .serialized)
struct TLSTests {
    /// A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl command.
    static func certificates(in directory: URL) throws -> (ca: String, certificate: String, key: String) {
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: path("ext.cnf"), atomically: true, encoding: .utf8)
        for arguments in [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
             "-out", path("server.pem"), "-days", "2", "-extfile", path("ext.cnf")],
        ] {
            let result = try run("/usr/bin/openssl", arguments)
            try #require(result.status == 0, "openssl \(arguments[0]): \(result.output)")
        }
        return (path("ca.pem"), path("server.pem"), path("server.key"))
    }

    static func run(_ executable: String, _ arguments: [String], input: String = "") throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe(), stdin = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = stdin
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("a client trusting the test CA is served over TLS 1.2+, TLS 1.1 is refused")
    func tls() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (ca, certificate, key) = try Self.certificates(in: directory)
        let tls = try TLSContext(certificate: certificate, key: key)
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.tls = tls
        let server = try HTTPServer(configuration) { request in
            .text(200, #"{"path":"\#(request.path)"}"#, contentType: "application/json")
        }
        server.serve()
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)/health"
        let trusted = try Self.run("/usr/bin/curl", ["-sS", "--cacert", ca, url])
        #expect(trusted.status == 0 && trusted.output == #"{"path":"/health"}"#, "\(trusted.output)")
        let untrusted = try Self.run("/usr/bin/curl", ["-sS", url])
        #expect(untrusted.status != 0, "without the CA the certificate is not trusted")
        let old = try Self.run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(old.status != 0 && old.output.contains("alert protocol version"), "the server refuses TLS 1.1 with a protocol_version alert: \(old.output.suffix(300))")
        let modern = try Self.run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_2", "-CAfile", ca])
        #expect(modern.output.contains("Verify return code: 0 (ok)"), "\(modern.output.suffix(300))")
        #expect(throws: TLSContext.SetupError.self) { try TLSContext(certificate: directory.appendingPathComponent("missing.pem").path, key: key) }
    }
}
