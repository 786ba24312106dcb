import Foundation
import Testing

/// `deploy apply --bundle` against the local endpoint: the stack and its artifacts come from a signed bundle,
/// verified first; a model upload killed part-way resumes from the same archive; the imported bundle's stack then
/// passes the live check.
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
}
