import Foundation
import Testing

/// The whole path from `deploy apply` to an answered chat completion: the node's rendered user data runs against the
/// local endpoint (scripts/node-boot), fetches and checks its artifacts with the node role's own permissions, and
/// starts the server its unit describes. Its audit shipper copies each checkpoint file to the audit bucket with the
/// same permissions, once, and those permissions can neither delete nor replace a shipped file. A tampered model stops
/// the boot, naming the file.
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
        #expect(calls.contains("systemctl enable --now audit-shipper-final.service audit-shipper.path audit-shipper.timer inference-server.service")
                && calls.contains("useradd --system"), "\(calls)")
        try Self.shipsCheckpoints(fixture, root: root, serverSigns: !booted.stderr.contains("has no --audit-key"))
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

    static func ship(_ fixture: StackFixture, root: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DeployProcess.Result {
        try DeployProcess.run([bootScript.path, "ship", "--state", fixture.statePath, "--root", root],
                              environment: environment, executable: URL(fileURLWithPath: "/usr/bin/env"))
    }

    /// The shipper, run as its unit runs it, with the node role's permissions: checkpoint files (written here in the
    /// server's shape, numbered far past any the server itself writes) reach node-audit/<instance id>/ once, a failed
    /// run records nothing, and the role cannot delete a shipped file, replace it, or write outside node-audit/. A
    /// server that signs checkpoints (`serverSigns`) has its own start checkpoint and public key shipped with them.
    static func shipsCheckpoints(_ fixture: StackFixture, root: String, serverSigns: Bool) throws {
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.statePath))) as? [String: Any]
        let node = (state?["resources"] as? [[String: Any]])?.first { ($0["address"] as? String)?.hasPrefix("inference.node") == true }
        let instance = try #require((node?["attributes"] as? [String: Any])?["id"] as? String)
        let directory = URL(fileURLWithPath: root + "/var/log/inference/checkpoints")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let names = ["checkpoint-90000000000000000001.json", "checkpoint-90000000000000000002.json"]
        for name in names + [".checkpoint-90000000000000000003.json.tmp"] {
            try Data("{\"sequence\": \"\(name)\", \"head\": \"\(UUID().uuidString)\"}\n".utf8).write(to: directory.appendingPathComponent(name))
        }
        let publicKey = directory.appendingPathComponent("audit-key.pub.pem")
        if !FileManager.default.fileExists(atPath: publicKey.path) {
            try Data("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n".utf8).write(to: publicKey)
        }

        var unreachable = ProcessInfo.processInfo.environment
        unreachable["AWS_ENDPOINT_URL"] = "https://127.0.0.1:9"
        let failed = try ship(fixture, root: root, environment: unreachable)
        #expect(failed.status != 0 && failed.stderr.contains("cannot upload") && failed.stderr.contains("the next run retries it"), "\(failed.stderr)")
        let shipped = root + "/var/lib/audit-shipper/shipped/"
        #expect(names.allSatisfy { !FileManager.default.fileExists(atPath: shipped + $0) }, "a failed upload is not recorded as shipped")

        // what is there now ships in this run (the server may add a periodic checkpoint later)
        let present = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0 == "audit-key.pub.pem" || ($0.hasPrefix("checkpoint-") && $0.hasSuffix(".json") && $0.count == 36) }
        #expect(!serverSigns || present.contains { $0.hasPrefix("checkpoint-0") }, "the server wrote its start checkpoint: \(present)")
        let first = try ship(fixture, root: root)
        #expect(first.status == 0 && first.stdout.contains("shipped"), "\(first.stderr)")
        let second = try ship(fixture, root: root)
        // (unless the server wrote a periodic checkpoint in between, which is new)
        let added = try Set(FileManager.default.contentsOfDirectory(atPath: directory.path)).subtracting(present)
            .filter { $0.hasPrefix("checkpoint-") }
        #expect(second.status == 0 && (!second.stdout.contains("shipped") || !added.isEmpty),
                "a second run uploads nothing: \(second.stdout) \(second.stderr)")

        let profile = try String(contentsOfFile: root + "/stand-ins/instance-profile.json", encoding: .utf8)
        let listing = try OutsideActor.run("""
            bucket, prefix = '\(fixture.name)-123456789012-audit', 'node-audit/\(instance)/'
            credentials = json.loads(\(OutsideActor.pythonString(profile)))
            node = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='\(fixture.region)',
                                aws_access_key_id=credentials['AWS_ACCESS_KEY_ID'], aws_secret_access_key=credentials['AWS_SECRET_ACCESS_KEY'])
            def attempt(call):
                try:
                    call()
                    return 'allowed'
                except botocore.exceptions.ClientError as error:
                    return error.response['Error']['Code']
            import botocore.exceptions
            key = prefix + '\(names[0])'
            # (moto's signature check fails on a Prefix holding '/': the versions are listed whole and filtered)
            def versions_of(wanted):
                return [v for v in s3.list_object_versions(Bucket=bucket).get('Versions', []) if v['Key'].startswith(wanted)]
            tries = {
                'delete': attempt(lambda: node.delete_object(Bucket=bucket, Key=key)),
                'delete version': attempt(lambda: node.delete_object(Bucket=bucket, Key=key, VersionId=versions_of(key)[0]['VersionId'])),
                'replace': attempt(lambda: node.put_object(Bucket=bucket, Key=key, Body=b'rewritten')),
                'replace conditionally': attempt(lambda: node.put_object(Bucket=bucket, Key=key, Body=b'rewritten', IfNoneMatch='*')),
                'outside node-audit': attempt(lambda: node.put_object(Bucket=bucket, Key='AWSLogs/x', Body=b'x', IfNoneMatch='*')),
            }
            versions = versions_of(prefix)
            bodies = {v['Key'][len(prefix):]: s3.get_object(Bucket=bucket, Key=v['Key'])['Body'].read().decode() for v in versions}
            print(json.dumps({'tries': tries, 'versions': sorted(v['Key'][len(prefix):] for v in versions), 'bodies': bodies}))
            """, region: fixture.region)
        let found = try JSONSerialization.jsonObject(with: Data(listing.utf8)) as? [String: Any]
        let versions = found?["versions"] as? [String] ?? []
        #expect(Set(names + ["audit-key.pub.pem"]).isSubset(of: present))
        for name in present {
            #expect(versions.filter { $0 == name }.count == 1, "\(name) shipped once, one version: \(versions)")
            let local = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect((found?["bodies"] as? [String: String])?[name] == local, "\(name) arrived whole")
        }
        #expect(!versions.contains { $0.hasSuffix(".tmp") }, "a temporary file stays on the node: \(versions)")
        let tries = found?["tries"] as? [String: String] ?? [:]
        #expect(tries == ["delete": "AccessDenied", "delete version": "AccessDenied", "replace": "AccessDenied",
                          "replace conditionally": "PreconditionFailed", "outside node-audit": "AccessDenied"], "\(tries)")
    }
}
