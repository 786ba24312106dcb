import Bundling
import DeployTestSupport
import Foundation
import Plan
import Stack
import Testing
@testable import DeployCLI

/// `apply --bundle` against a state that records a bundle: a replay, an older or an equal release from the same
/// signer is refused with exit 2 before anything is read through, locked or called, and the state file is left as
/// it was. What the rule lets through goes on to the next step (here: finding no credentials, as no AWS is needed
/// to refuse). The apply itself, against the local endpoint, is in IntegrationTests/BundleApplyTests.
@Suite("bundle rollback refused offline")
struct BundleRollbackTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// Which bundle is applied: the recorded one, or one exported with this sequence.
        var bundle: Bundle
        var recordCompleted = true
        var allowDowngrade = false
        var otherSigner = false
        /// nil: let through (it then stops for want of credentials).
        var refusal: String?
        var testDescription: String { name }

        enum Bundle: Sendable { case recorded, sequence(Int64) }
    }

    static let cases: [Case] = [
        Case(name: "the same bundle again: a replay", bundle: .recorded, refusal: "applying it again is refused as a replay"),
        Case(name: "an older release", bundle: .sequence(50),
             refusal: "bundle sequence 50 (bundle id "),
        Case(name: "another bundle with the same sequence", bundle: .sequence(100),
             refusal: "is not newer than sequence 100"),
        Case(name: "a newer release", bundle: .sequence(101)),
        Case(name: "the same bundle, its apply unfinished", bundle: .recorded, recordCompleted: false),
        Case(name: "an older release with --allow-downgrade", bundle: .sequence(50), allowDowngrade: true),
        Case(name: "the same bundle with --allow-downgrade", bundle: .recorded, allowDowngrade: true),
        Case(name: "an older release from another signer", bundle: .sequence(50), otherSigner: true),
    ]

    @Test("apply --bundle refuses what is not newer than the signer's last, and leaves the state as it was", arguments: cases)
    func rollback(_ test: Case) async throws {
        let fixture = try await BundleFixture()
        defer { fixture.remove() }
        let recorded = try await fixture.export("recorded.bundle", sequence: 100)
        let key = try BundleKeys.publicKey(fixture.key + ".pub")
        let opened = try BundleReader.open(recorded, key: key)
        let stack = try StackFile.load(ShippedStack.path())
        var state = State(stack: stack.name, account: stack.account, region: stack.region)
        let release = BundleRelease(bundleID: opened.manifest.bundleID, manifestSHA256: opened.manifestSHA256, sequence: 100,
                                    signer: key.fingerprint)
        state.recordBundleStarted(release, admission: .first)
        if test.recordCompleted { state.recordBundleCompleted(release) }
        state.serial = 1
        let store = StateStore(path: fixture.directory + "/state.json")
        try store.write(state)
        let before = try Data(contentsOf: URL(fileURLWithPath: store.path))

        var signing = fixture.key
        if test.otherSigner { signing = try await fixture.otherKey("other") }
        let bundle = switch test.bundle {
        case .recorded: recorded
        // another export than the recorded one, even where the sequence is the same
        case .sequence(let sequence): try await fixture.export("applied.bundle", sequence: sequence, key: signing, epoch: 1_764_547_201)
        }
        let (code, output) = await CommandLineTests().run(["apply", "--bundle", bundle, "--pubkey", signing + ".pub", "--state", store.path,
                                                           "--auto-approve"] + (test.allowDowngrade ? ["--allow-downgrade"] : []))
        #expect(code == 2, "\(output.stderr)")
        if let refusal = test.refusal {
            #expect(output.stderr.contains(refusal), "\(output.stderr)")
            #expect(output.stderr.contains("Nothing was changed") && output.stderr.contains("--allow-downgrade"), "\(output.stderr)")
            #expect(!output.stderr.contains("every byte checked"), "refused on the signed manifest, before the archive was read through")
        } else {
            #expect(output.stderr.contains("every byte checked"), "\(output.stderr)")
            #expect(output.stderr.contains("no AWS credentials found"), "let through, it stops only for want of credentials: \(output.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == before, "the state is untouched")
    }

    @Test("--allow-downgrade needs --bundle")
    func allowDowngradeNeedsBundle() async {
        let (code, output) = await CommandLineTests().run(["apply", "--stack", ShippedStack.path(), "--allow-downgrade"])
        #expect(code == 2)
        #expect(output.stderr.hasPrefix("error: --allow-downgrade concerns a bundle's release sequence: it needs --bundle"), "\(output.stderr)")
    }
}
