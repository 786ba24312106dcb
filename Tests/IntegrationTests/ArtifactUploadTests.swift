import Foundation
import Hashing
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The artifacts the node runs, as `aws.s3.object` resources against the local endpoint: digests in the plan,
/// multipart uploads streamed, resumed after SIGKILL with only the missing parts, correct through faults, encrypted
/// with the stack's key, and no upload left open.
@Suite("artifact uploads against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct ArtifactUploadTests {
    /// A model of six 5 MiB parts, the last one short.
    static let modelSize = 28 << 20

    /// The default stack with 5 MiB parts and a random model of `modelSize` bytes.
    static func fixture(_ prefix: String) throws -> StackFixture {
        let fixture = try StackFixture(prefix: prefix)
        let text = try String(contentsOfFile: fixture.stackPath, encoding: .utf8)
        try text.replacingOccurrences(of: "audit_retention_days: 2557,", with: "audit_retention_days: 2557, multipart_part_mib: 5,")
            .write(toFile: fixture.stackPath, atomically: true, encoding: .utf8)
        try writeModel(fixture, seed: 1)
        return fixture
    }

    static func modelPath(_ fixture: StackFixture) -> String { fixture.directory.appendingPathComponent("artifacts/model.gguf").path }

    static func writeModel(_ fixture: StackFixture, seed: UInt64) throws {
        var generator = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var bytes = [UInt8](repeating: 0, count: modelSize)
        for index in bytes.indices {
            generator ^= generator << 13; generator ^= generator >> 7; generator ^= generator << 17
            bytes[index] = UInt8(truncatingIfNeeded: generator)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: modelPath(fixture)))
    }

    static func localDigest(_ fixture: StackFixture) throws -> String {
        Hex.encode(try FileDigest.summary(path: modelPath(fixture)).sha256)
    }

    /// The model object as the outside admin sees it: its downloaded bytes' SHA-256, encryption and metadata, and
    /// the multipart uploads still open in the bucket.
    static func inspect(_ fixture: StackFixture) throws -> [String: Any] {
        let output = try OutsideActor.run("""
            import hashlib
            bucket, key = '\(fixture.name)-123456789012-artifacts', 'models/model.gguf'
            head = s3.head_object(Bucket=bucket, Key=key)
            body = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
            print(json.dumps({"sha256": hashlib.sha256(body).hexdigest(), "size": len(body),
                              "encryption": head.get("ServerSideEncryption"), "kms_key": head.get("SSEKMSKeyId"),
                              "metadata": head.get("Metadata", {}),
                              "open_uploads": len(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []))}))
            """, region: fixture.region)
        return try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
    }

    static func openUploads(_ fixture: StackFixture) throws -> Int {
        Int(try OutsideActor.run("""
            print(len(s3.list_multipart_uploads(Bucket='\(fixture.name)-123456789012-artifacts').get('Uploads', [])))
            """, region: fixture.region).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// UploadPart calls the proxy saw, from its request log.
    static func uploadParts(_ proxy: FaultProxy) throws -> Int {
        try String(contentsOfFile: proxy.logPath, encoding: .utf8).split(separator: "\n").filter { line in
            line.contains("\"PUT\"") && line.contains("\"partNumber\"")
        }.count
    }

    /// How many of the model's parts the state journals, when its upload is in progress.
    static func journaledParts(_ statePath: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: statePath),
              let state = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let resources = state["resources"] as? [[String: Any]],
              let model = resources.first(where: { ($0["address"] as? String) == "storage.model" }),
              let progress = model["progress"] as? [String: Any], let parts = progress["parts"] as? [Any] else { return nil }
        return parts.count
    }

    /// Runs `deploy` and SIGKILLs it once the state journals at least `parts` finished parts of the model.
    static func applyKilled(after parts: Int, _ arguments: [String], environment: [String: String]) throws -> Bool {
        let process = Process()
        process.executableURL = DeployProcess.binary
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let statePath = arguments[arguments.firstIndex(of: "--state")! + 1]
        var killed = false
        while process.isRunning {
            if let done = journaledParts(statePath), done >= parts {
                kill(process.processIdentifier, SIGKILL)
                killed = true
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        return killed
    }

    @Test("a killed multipart upload resumes with only the missing parts; a changed file plans an update; destroy aborts what is open")
    func killedAndResumed() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try Self.fixture("au")
        defer { fixture.remove() }
        // latency keeps parts in flight long enough for the kill to land between them
        let proxy = try FaultProxy(target: endpoint.url, latencyMS: 150)
        var environment = endpoint.adminEnvironment
        environment["AWS_ENDPOINT_URL"] = proxy.url
        let target = ["--stack", fixture.stackPath, "--state", fixture.statePath]

        let plan = try DeployProcess.run(["plan"] + target, environment: environment)
        #expect(plan.stdout.contains("sha256             = \"\(try Self.localDigest(fixture))\""), "\(plan.stdout)")
        #expect(plan.stdout.contains("size               = \(Self.modelSize)"))

        #expect(try Self.applyKilled(after: 2, ["apply", "--auto-approve"] + target, environment: environment), "killed mid-upload")
        let journaled = try #require(Self.journaledParts(fixture.statePath))
        #expect(journaled >= 2 && journaled < 6, "the kill landed mid-upload: \(journaled) parts journaled")
        let before = try Self.uploadParts(proxy)

        let resumed = try DeployProcess.run(["apply", "--auto-approve"] + target, environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Self.uploadParts(proxy) - before == 6 - journaled, "only the parts the journal did not hold were sent again")
        let object = try Self.inspect(fixture)
        #expect(object["sha256"] as? String == (try Self.localDigest(fixture)), "the object is the file, byte for byte")
        #expect(object["size"] as? Int == Self.modelSize)
        #expect(object["open_uploads"] as? Int == 0, "no multipart upload is left open")
        #expect(object["encryption"] as? String == "aws:kms")
        let keyARN = try #require(try OutsideActor.run("""
            print(next(a['TargetKeyId'] for a in kms.list_aliases()['Aliases'] if a['AliasName'] == 'alias/\(fixture.name)'))
            """, region: fixture.region).split(separator: "\n").last)
        #expect((object["kms_key"] as? String)?.hasSuffix(String(keyARN)) == true, "encrypted with the stack's key: \(object)")
        #expect((object["metadata"] as? [String: String])?["sha256"] == (try Self.localDigest(fixture)))

        let clean = try DeployProcess.run(["plan", "--detailed-exitcode"] + target, environment: environment)
        #expect(clean.status == 0, "an unchanged file plans nothing: \(clean.stdout)")

        try Self.writeModel(fixture, seed: 2)
        let changed = try DeployProcess.run(["plan", "--detailed-exitcode"] + target, environment: environment)
        #expect(changed.status == 2)
        #expect(changed.stdout.contains("~ storage.model (aws.s3.object)") && changed.stdout.contains("sha256 = "), "\(changed.stdout)")
        #expect(!changed.stdout.contains("~ storage.server"), "only the changed file")
        let updated = try DeployProcess.run(["apply", "--auto-approve"] + target, environment: environment)
        #expect(updated.status == 0, "\(updated.stderr)")
        #expect(try Self.inspect(fixture)["sha256"] as? String == (try Self.localDigest(fixture)), "the new file was uploaded")

        // killed mid-upload of yet another version; destroy then leaves no part behind
        try Self.writeModel(fixture, seed: 3)
        #expect(try Self.applyKilled(after: 1, ["apply", "--auto-approve"] + target, environment: environment))
        #expect(try Self.openUploads(fixture) >= 1, "the killed run left its upload open")
        let destroy = try DeployProcess.run(["destroy", "--auto-approve", "--force", "--empty-buckets"] + target, environment: environment)
        #expect(destroy.status == 0, "\(destroy.stderr)")
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region).values.allSatisfy { $0 == 0 })
    }

    @Test("throttling and dropped connections during a multipart upload still give the right object")
    func throughFaults() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try Self.fixture("af")
        defer { fixture.remove() }
        let proxy = try FaultProxy(target: endpoint.url, throttle: 0.1, drop: 0.3, seed: 5)
        var environment = endpoint.adminEnvironment
        environment["AWS_ENDPOINT_URL"] = proxy.url
        environment["AWS_MAX_ATTEMPTS"] = "8"
        let target = ["--stack", fixture.stackPath, "--state", fixture.statePath]

        let apply = try DeployProcess.run(["apply", "--auto-approve"] + target, environment: environment)
        #expect(apply.status == 0, "\(apply.stderr)")
        let faults = try proxy.faults()
        #expect((faults["throttle"] ?? 0) + (faults["drop"] ?? 0) >= 5, "faults were injected: \(faults)")
        #expect(try Self.uploadParts(proxy) >= 6)
        let object = try Self.inspect(fixture)
        #expect(object["sha256"] as? String == (try Self.localDigest(fixture)))
        #expect(object["open_uploads"] as? Int == 0)
        let destroy = try DeployProcess.run(["destroy", "--auto-approve", "--force", "--empty-buckets"] + target, environment: endpoint.adminEnvironment)
        #expect(destroy.status == 0, "\(destroy.stderr)")
    }
}
