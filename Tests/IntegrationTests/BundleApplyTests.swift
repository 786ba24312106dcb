import Foundation
import Testing

/// `deploy apply --bundle` against the local endpoint: the stack and its artifacts come from a signed bundle,
/// verified first; a model upload killed part-way resumes from the same archive; the imported bundle's stack then
/// passes the live check. The state records the bundle applied, and a replay or an older release from the same signer
/// is refused unless --allow-downgrade.
@Suite("apply from a bundle against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct BundleApplyTests {
    @Test("apply --bundle uploads straight from the archive, resumes a killed upload, and the live check passes")
    func applyFromBundle() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try ArtifactUploadTests.fixture("ba")
        defer { fixture.remove() }
        let directory = fixture.directory.path
        let key = directory + "/signing"
        let bundle = directory + "/site.bundle"
        #expect(try DeployProcess.run(["bundle", "keygen", "--out", key], environment: [:]).status == 0)
        var exportEnvironment = ProcessInfo.processInfo.environment
        exportEnvironment["SOURCE_DATE_EPOCH"] = "1764547200"
        let export = try DeployProcess.run(["bundle", "export", "--stack", fixture.stackPath, "--out", bundle, "--sign-key", key],
                                           environment: exportEnvironment)
        try #require(export.status == 0, "\(export.stderr)")

        // the far side: no stack file, only the bundle and the public key
        let proxy = try FaultProxy(target: endpoint.url, latencyMS: 150)
        var environment = endpoint.adminEnvironment
        environment["AWS_ENDPOINT_URL"] = proxy.url
        let state = directory + "/site.state.json"
        let apply = ["apply", "--bundle", bundle, "--pubkey", key + ".pub", "--state", state, "--auto-approve"]
        #expect(try ArtifactUploadTests.applyKilled(after: 2, apply, environment: environment), "killed mid-upload")
        let journaled = try #require(ArtifactUploadTests.journaledParts(state))
        let before = try ArtifactUploadTests.uploadParts(proxy)
        let resumed = try DeployProcess.run(apply, environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("every byte checked"))
        #expect(try ArtifactUploadTests.uploadParts(proxy) - before == 6 - journaled, "only the missing parts were sent, from the bundle")
        let object = try ArtifactUploadTests.inspect(fixture)
        #expect(object["sha256"] as? String == (try ArtifactUploadTests.localDigest(fixture)), "the object is the bundled file, byte for byte")

        let imported = directory + "/imported"
        let importRun = try DeployProcess.run(["bundle", "import", bundle, "--pubkey", key + ".pub", "--to", imported], environment: [:])
        #expect(importRun.status == 0, "\(importRun.stderr)")
        let check = try DeployProcess.run(["check", "--live", "--stack", imported + "/Stacks/" + (fixture.stackPath as NSString).lastPathComponent,
                                           "--state", state], environment: environment)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains(" 0 failed (0 at or above low)"))

        // a bundle signed by someone else is refused before anything is touched
        let other = directory + "/other"
        _ = try DeployProcess.run(["bundle", "keygen", "--out", other], environment: [:])
        let refused = try DeployProcess.run(["apply", "--bundle", bundle, "--pubkey", other + ".pub", "--state", directory + "/none.json",
                                             "--auto-approve"], environment: environment)
        #expect(refused.status == 1 && refused.stderr.contains("the signature does not verify"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/none.json"))

        let destroy = try DeployProcess.run(["destroy", "--auto-approve", "--force", "--empty-buckets", "--stack",
                                             imported + "/Stacks/" + (fixture.stackPath as NSString).lastPathComponent, "--state", state],
                                            environment: endpoint.adminEnvironment)
        #expect(destroy.status == 0, "\(destroy.stderr)")
    }

    /// The state's record of the bundles applied to it, by signer.
    static func bundleRecords(_ statePath: String) throws -> [String: [String: Any]] {
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as? [String: Any]
        let records = state?["bundles"] as? [[String: Any]] ?? []
        return Dictionary(records.map { (($0["signer"] as? String) ?? "", $0) }) { first, _ in first }
    }

    @Test("the bundle applied is recorded; the same again or an older release is refused, untouched, unless --allow-downgrade")
    func rollbackRefused() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "br")
        defer { fixture.remove() }
        let directory = fixture.directory.path
        let key = directory + "/signing"
        #expect(try DeployProcess.run(["bundle", "keygen", "--out", key], environment: [:]).status == 0)
        // the same files, two releases: only the sequence (and the time) tell them apart
        func export(_ name: String, sequence: Int, epoch: Int) throws -> (path: String, verified: [String: Any]) {
            let path = directory + "/" + name
            let export = try DeployProcess.run(["bundle", "export", "--stack", fixture.stackPath, "--out", path, "--sign-key", key,
                                                "--sequence", String(sequence)], environment: ["SOURCE_DATE_EPOCH": String(epoch)])
            try #require(export.status == 0, "\(export.stderr)")
            let verified = try DeployProcess.run(["--output", "json", "bundle", "verify", path, "--pubkey", key + ".pub"], environment: [:])
            return (path, try verified.json())
        }
        let newer = try export("newer.bundle", sequence: 200, epoch: 1_764_547_200)
        let older = try export("older.bundle", sequence: 100, epoch: 1_764_547_100)
        let signer = try #require(newer.verified["signer"] as? String)
        let state = directory + "/site.state.json"
        func apply(_ bundle: String, _ extra: [String] = []) throws -> DeployProcess.Result {
            try DeployProcess.run(["apply", "--bundle", bundle, "--pubkey", key + ".pub", "--state", state, "--auto-approve"] + extra,
                                  environment: endpoint.adminEnvironment)
        }

        let first = try apply(newer.path)
        try #require(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("sequence 200, signed by \(signer) (the key given)"), "\(first.stderr)")
        let record = try #require(try Self.bundleRecords(state)[signer])
        #expect(record["sequence"] as? Int == 200)
        #expect(record["manifest_sha256"] as? String == newer.verified["manifest_sha256"] as? String)
        #expect(record["bundle_id"] as? String == newer.verified["bundle_id"] as? String)
        #expect(record["completed"] as? Bool == true)
        #expect(record["downgraded_from"] == nil)

        let recorded = try Data(contentsOf: URL(fileURLWithPath: state))
        for (bundle, phrase) in [(newer.path, "applying it again is refused as a replay"), (older.path, "an older or equal release is refused as a rollback")] {
            let refused = try apply(bundle)
            #expect(refused.status == 2, "\(refused.stderr)")
            #expect(refused.stderr.contains(phrase) && refused.stderr.contains("Nothing was changed"), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty, "no plan was made")
            #expect(try Data(contentsOf: URL(fileURLWithPath: state)) == recorded, "the state is untouched")
        }

        let downgrade = try apply(older.path, ["--allow-downgrade"])
        #expect(downgrade.status == 0, "\(downgrade.stderr)")
        #expect(downgrade.stderr.contains("warning: --allow-downgrade: applying bundle sequence 100 although this state records sequence 200"),
                "\(downgrade.stderr)")
        #expect(downgrade.stdout.contains("No changes"), "the same files: nothing to change, but the release is recorded")
        let downgraded = try #require(try Self.bundleRecords(state)[signer])
        #expect(downgraded["sequence"] as? Int == 100)
        #expect(downgraded["manifest_sha256"] as? String == older.verified["manifest_sha256"] as? String)
        #expect(downgraded["downgraded_from"] as? Int == 200)
        #expect(downgraded["completed"] as? Bool == true)

        let destroy = try DeployProcess.run(["destroy", "--auto-approve", "--force", "--empty-buckets", "--stack", fixture.stackPath,
                                             "--state", state], environment: endpoint.adminEnvironment)
        #expect(destroy.status == 0, "\(destroy.stderr)")
    }
}
