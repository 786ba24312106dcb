import Foundation
import Testing

/// The whole path from `deploy apply` to an answered chat completion: the node's rendered user data runs against the
/// local endpoint (scripts/node-boot), fetches and checks its artifacts with the node role's own permissions, and
/// starts the server its unit describes. A tampered model stops the boot, naming the file.
@Suite("the inference node boots and serves, against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct NodeBootTests {
    static let bootScript = StackFixture.repository.appendingPathComponent("scripts/node-boot")
    static let model = StackFixture.repository.appendingPathComponent("Tests/InferenceTests/Fixtures/models/llama-q8_0.gguf")

    /// `curl` against the node: the HTTP status and the body.
    static func request(_ url: String, key: String?, body: String? = nil) throws -> (status: Int, body: String) {
        var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", url]
        if let key { arguments += ["-H", "Authorization: Bearer \(key)"] }
        if let body { arguments += ["-H", "Content-Type: application/json", "-d", body] }
        let result = try DeployProcess.run(arguments, environment: ProcessInfo.processInfo.environment,
                                           executable: URL(fileURLWithPath: "/usr/bin/curl"))
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    static func boot(_ fixture: StackFixture, root: String) throws -> DeployProcess.Result {
        try DeployProcess.run([bootScript.path, "start", "--state", fixture.statePath, "--root", root],
                              environment: ProcessInfo.processInfo.environment, executable: URL(fileURLWithPath: "/usr/bin/env"))
    }

    @Test("after apply the node verifies its files, serves a chat completion with its key, refuses others; a changed model byte stops the boot")
    func bootsAndServes() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "nb")
        defer { fixture.remove() }
        let artifacts = fixture.directory.appendingPathComponent("artifacts")
        let server = DeployProcess.binary.deletingLastPathComponent().appendingPathComponent("inference-server")
        for (source, name) in [(server, "inference-server"), (Self.model, "model.gguf")] {
            try? FileManager.default.removeItem(at: artifacts.appendingPathComponent(name))
            try FileManager.default.copyItem(at: source, to: artifacts.appendingPathComponent(name))
        }
        let keys = artifacts.appendingPathComponent("keys.json").path
        try? FileManager.default.removeItem(atPath: keys)
        let added = try DeployProcess.run(["keys", "add", "node-operator", "--keys", keys], environment: [:], executable: server)
        let key = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(added.status == 0 && key.hasPrefix("sk-"), "\(added.stderr)")

        let target = ["--stack", fixture.stackPath, "--state", fixture.statePath]
        let apply = try DeployProcess.run(["apply", "--auto-approve"] + target, environment: endpoint.adminEnvironment)
        #expect(apply.status == 0, "\(apply.stderr)")
        defer { _ = try? DeployProcess.run(["destroy", "--auto-approve", "--force", "--empty-buckets"] + target, environment: endpoint.adminEnvironment) }

        let root = fixture.directory.appendingPathComponent("node").path
        let booted = try Self.boot(fixture, root: root)
        defer {
            _ = try? DeployProcess.run([Self.bootScript.path, "stop", "--root", root], environment: ProcessInfo.processInfo.environment,
                                       executable: URL(fileURLWithPath: "/usr/bin/env"))
        }
        #expect(booted.status == 0, "\(booted.stderr)")
        let url = try #require(booted.stdout.split(separator: "\n").last.map(String.init))
        #expect(booted.stderr.contains("boot: inference-server installed and started"))

        #expect(try Self.request(url + "/health", key: nil).status == 200)
        let chat = #"{"model": "model", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 8}"#
        let answered = try Self.request(url + "/v1/chat/completions", key: key, body: chat)
        #expect(answered.status == 200, "\(answered.body)")
        #expect(answered.body.contains("\"chat.completion\"") && answered.body.contains("\"usage\""), "\(answered.body)")
        #expect(try Self.request(url + "/v1/chat/completions", key: nil, body: chat).status == 401)
        #expect(try Self.request(url + "/v1/chat/completions", key: "sk-not-a-key-of-this-node", body: chat).status == 401)
        let calls = try String(contentsOfFile: root + "/stand-ins/calls", encoding: .utf8)
        #expect(calls.contains("systemctl enable --now inference-server.service") && calls.contains("useradd --system"), "\(calls)")
        let stopped = try DeployProcess.run([Self.bootScript.path, "stop", "--root", root], environment: ProcessInfo.processInfo.environment,
                                            executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(stopped.status == 0 && !stopped.stderr.contains("killed"), "the service stops on SIGTERM: \(stopped.stderr)")
        #expect(try Self.request(url + "/health", key: nil).status == 0, "nothing answers once it has stopped")

        // someone with write access to the bucket changes one byte of the model
        try OutsideActor.run("""
            bucket, key = '\(fixture.name)-123456789012-artifacts', 'models/model.gguf'
            body = bytearray(s3.get_object(Bucket=bucket, Key=key)['Body'].read())
            body[len(body) // 2] ^= 1
            s3.put_object(Bucket=bucket, Key=key, Body=bytes(body))
            """, region: fixture.region)
        let refused = try Self.boot(fixture, root: fixture.directory.appendingPathComponent("tampered").path)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("refusing to start: model.gguf"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.appendingPathComponent("tampered/usr/local/bin/inference-server").path),
                "nothing is installed")
    }
}
