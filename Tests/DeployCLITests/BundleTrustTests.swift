import Bundling
import DeployTestSupport
import Foundation
import Hashing
import Plan
import Stack
import Testing
@testable import DeployCLI

/// What `bundle verify`, `inspect` and `import` show is what was checked: the signer is the fingerprint of the key
/// given, never the archive's claim; any text from the archive is escaped and cut; the SBOM is checked against the
/// manifest; the sequence is under the signature. All in process, on bundles forged entry by entry.
@Suite("what a bundle's checks show")
struct BundleTrustTests {
    /// An escape sequence that clears the screen and retitles the window, then a name of thousands of characters.
    static let hostile = "\u{1B}[2J\u{1B}]0;pwned\u{07}" + String(repeating: "A", count: 3_000)

    /// Nothing of `text` that could reach a terminal raw: no escape character, no run of the hostile name longer
    /// than the 200-character cut.
    static func isTame(_ text: String) -> Bool {
        !text.contains("\u{1B}") && !text.contains("\u{07}") && !text.contains(String(repeating: "A", count: 201))
    }

    static func forgedSignature(_ bytes: [UInt8], key: String) throws -> [UInt8] {
        try rewritingJSON(bytes, "key", key)
    }

    struct Shown: Sendable, CustomTestStringConvertible {
        var name: String
        /// The command, with BUNDLE, KEY (the signer's public key) and OTHER (another public key) to fill in.
        var arguments: [String]
        var code: Int32
        /// What the output must say.
        var says: [String]
        var testDescription: String { name }
    }

    static let forgedSignerCases: [Shown] = [
        Shown(name: "verify names the key given", arguments: ["bundle", "verify", "BUNDLE", "--pubkey", "KEY"], code: 0,
              says: ["signed by the key given, FINGERPRINT"]),
        Shown(name: "verify --output json names the key given", arguments: ["--output", "json", "bundle", "verify", "BUNDLE", "--pubkey", "KEY"],
              code: 0, says: ["\"signer\" : \"FINGERPRINT\""]),
        Shown(name: "import names the key given", arguments: ["bundle", "import", "BUNDLE", "--pubkey", "KEY", "--to", "TARGET"], code: 0,
              says: ["signed by the key given, FINGERPRINT"]),
        Shown(name: "inspect with the key names it", arguments: ["bundle", "inspect", "BUNDLE", "--pubkey", "KEY"], code: 0,
              says: ["signed by FINGERPRINT (checked with the key given)"]),
        Shown(name: "inspect without a key shows the claim escaped and cut", arguments: ["bundle", "inspect", "BUNDLE"], code: 0,
              says: ["not checked: the bundle claims to be signed by '\\u{1B}[2J\\u{1B}]0;pwned\\u{7}AAAA", "more bytes)'"]),
        Shown(name: "inspect --output json keeps the claim apart, escaped and cut", arguments: ["--output", "json", "bundle", "inspect", "BUNDLE"],
              code: 0, says: ["\"signature_verified\" : false", "\"claimed_signer\" : \"\\\\u{1B}[2J"]),
        Shown(name: "verify with another key quotes the claim escaped and cut", arguments: ["bundle", "verify", "BUNDLE", "--pubkey", "OTHER"],
              code: 1, says: ["not by the key given (", "the bundle claims '\\u{1B}[2J", "more bytes)' as its signer"]),
    ]

    @Test("a forged signer in manifest.sig is never shown as the signer, nor raw", arguments: forgedSignerCases)
    func forgedSigner(_ test: Shown) async throws {
        let fixture = try await BundleFixture()
        defer { fixture.remove() }
        let genuine = try await fixture.export("site.bundle", sequence: 100)
        let forged = try fixture.forge(genuine, "forged.bundle") { entries in
            try entries.replace(BundleManifest.signaturePath) { try Self.forgedSignature($0, key: Self.hostile) }
        }
        let other = try await fixture.otherKey("other")
        let fingerprint = try BundleKeys.publicKey(fixture.key + ".pub").fingerprint
        let arguments = test.arguments.map {
            ["BUNDLE": forged, "KEY": fixture.key + ".pub", "OTHER": other + ".pub", "TARGET": fixture.directory + "/imported"][$0] ?? $0
        }
        let (code, output) = await CommandLineTests().run(arguments)
        #expect(code == test.code, "\(output.stderr)")
        let all = output.stdout + "\n" + output.stderr
        for phrase in test.says {
            #expect(all.contains(phrase.replacingOccurrences(of: "FINGERPRINT", with: fingerprint)), "\(all)")
        }
        #expect(Self.isTame(all), "\(all)")
        if test.code == 0, test.arguments.contains("KEY") {
            #expect(!all.contains("pwned"), "the claim is not shown at all once a key has verified: \(all)")
        }
    }

    struct Forgery: Sendable, CustomTestStringConvertible {
        var name: String
        var change: @Sendable (inout [BundleFixture.Entry]) throws -> Void
        var inspectCode: Int32
        var verifyCode: Int32
        var says: String
        var testDescription: String { name }
    }

    static let forgeries: [Forgery] = [
        Forgery(name: "a 10 KB signer claim", change: { entries in
            try entries.replace(BundleManifest.signaturePath) { try forgedSignature($0, key: hostile + String(repeating: "B", count: 10_000)) }
        }, inspectCode: 1, verifyCode: 1, says: "manifest.sig is "),
        Forgery(name: "an extra entry with a hostile 10 KB name", change: { entries in
            entries.insertBeforeManifest(("Stacks/" + hostile + String(repeating: "C", count: 7_000), Array("x".utf8)))
        }, inspectCode: 1, verifyCode: 1, says: "extra: in the archive, not in the manifest"),
        Forgery(name: "a hostile stack name in the manifest", change: { entries in
            try entries.replace(BundleManifest.path) { try rewritingJSON($0, "stack", hostile) }
        }, inspectCode: 0, verifyCode: 1, says: "the manifest was changed after it was signed"),
        Forgery(name: "a hostile format in the manifest", change: { entries in
            try entries.replace(BundleManifest.path) { try rewritingJSON($0, "format", hostile) }
        }, inspectCode: 1, verifyCode: 1, says: "bundle format '\\u{1B}[2J"),
        Forgery(name: "a changed SBOM", change: { entries in
            entries.replace("sbom.cdx.json") { Array(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "deploy bundle", with: "deploy bundlE").utf8) }
        }, inspectCode: 1, verifyCode: 1, says: "sbom.cdx.json: SHA-256 differs from the manifest"),
        Forgery(name: "a raised sequence", change: { entries in
            try entries.replace(BundleManifest.path) { try rewritingJSON($0, "sequence", 999_999) }
        }, inspectCode: 0, verifyCode: 1, says: "the manifest was changed after it was signed"),
    ]

    @Test("a forged archive is refused or shown tame, never raw", arguments: forgeries)
    func forgedArchive(_ test: Forgery) async throws {
        let fixture = try await BundleFixture()
        defer { fixture.remove() }
        let forged = try fixture.forge(try await fixture.export("site.bundle", sequence: 100), "forged.bundle", test.change)
        let (inspectCode, inspected) = await CommandLineTests().run(["bundle", "inspect", forged])
        #expect(inspectCode == test.inspectCode, "\(inspected.stdout)\(inspected.stderr)")
        let (verifyCode, verified) = await CommandLineTests().run(["bundle", "verify", forged, "--pubkey", fixture.key + ".pub"])
        #expect(verifyCode == test.verifyCode, "\(verified.stderr)")
        let all = [inspected.stdout, inspected.stderr, verified.stdout, verified.stderr].joined(separator: "\n")
        #expect(all.contains(test.says), "\(all)")
        #expect(Self.isTame(all), "\(all)")
        #expect(all.split(separator: "\n").allSatisfy { $0.count < 1_000 }, "no line floods the terminal")
    }

    @Test("the sequence is under the signature; a bundle of the old format is named as such")
    func sequenceSigned() async throws {
        let fixture = try await BundleFixture()
        defer { fixture.remove() }
        let genuine = try await fixture.export("site.bundle", sequence: 41)
        let key = try BundleKeys.publicKey(fixture.key + ".pub")
        let bundle = try BundleReader.open(genuine, key: key)
        #expect(bundle.manifest.sequence == 41)
        #expect(bundle.signer == key.fingerprint)
        let manifest = try #require(try BundleFixture.entries(genuine).first { $0.path == BundleManifest.path }).data
        #expect(bundle.manifestSHA256 == SHA256.hex(manifest))
        #expect(String(decoding: manifest, as: UTF8.self).contains("\"sequence\" : 41"))

        // an old-format manifest, signed by the right key: refused by its format, not as a bad manifest
        let signing = try BundleKeys.privateKey(fixture.key)
        let old = try fixture.forge(genuine, "old.bundle") { entries in
            var oldManifest: [UInt8] = []
            try entries.replace(BundleManifest.path) { bytes in
                oldManifest = try rewritingJSON(bytes, "format", "deploy.bundle/1")
                return oldManifest
            }
            try entries.replace(BundleManifest.signaturePath) {
                try rewritingJSON($0, "signature", Data(signing.sign(oldManifest)).base64EncodedString())
            }
        }
        let (code, output) = await CommandLineTests().run(["bundle", "verify", old, "--pubkey", fixture.key + ".pub"])
        #expect(code == 1)
        #expect(output.stderr.contains("bundle format 'deploy.bundle/1', not deploy.bundle/2: export it again"), "\(output.stderr)")
    }

    @Test("--sequence takes a whole number every JSON reader holds", arguments: ["-1", "x", "9007199254740992", "1.5"])
    func badSequence(_ text: String) async {
        let (code, output) = await CommandLineTests().run(["bundle", "export", "--stack", "s.json5", "--out", "b", "--sequence", text])
        #expect(code == 2)
        #expect(output.stderr.hasPrefix("error: --sequence must be a whole number from 0 to 9007199254740991, not '\(text)'"), "\(output.stderr)")
    }
}
