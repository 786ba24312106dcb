import Foundation
import Testing
@testable import Bundling

/// The SBOM is one of the bytes a bundle lists digests of: the same inputs must give the same bytes, in the
/// CycloneDX shape deploy has always written (a change here changes every bundle's manifest).
@Suite("SBOM")
struct SBOMTests {
    static let files = [
        BundleManifest.File(path: "bin/deploy", role: "deploy", size: 3, sha256: String(repeating: "a", count: 64)),
        BundleManifest.File(path: "stack/Stacks/acme é/x.json5", role: "stack", size: 2, sha256: String(repeating: "b", count: 64)),
    ]

    @Test("writes the CycloneDX document byte for byte")
    func bytes() throws {
        let bytes = try SBOM.document(files: Self.files, sources: [:], tools: ["deploy": "0.1.0"], created: "2026-12-06T00:00:00Z",
                                      bundleID: String(repeating: "0123456789abcdef", count: 4))
        let expected = """
            {
              "bomFormat" : "CycloneDX",
              "components" : [
                {
                  "bom-ref" : "bin/deploy",
                  "hashes" : [
                    {
                      "alg" : "SHA-256",
                      "content" : "\(String(repeating: "a", count: 64))"
                    }
                  ],
                  "name" : "deploy",
                  "properties" : [
                    {
                      "name" : "deploy:role",
                      "value" : "deploy"
                    }
                  ],
                  "type" : "application",
                  "version" : "0.1.0"
                },
                {
                  "bom-ref" : "stack/Stacks/acme é/x.json5",
                  "hashes" : [
                    {
                      "alg" : "SHA-256",
                      "content" : "\(String(repeating: "b", count: 64))"
                    }
                  ],
                  "name" : "x.json5",
                  "properties" : [
                    {
                      "name" : "deploy:role",
                      "value" : "stack"
                    }
                  ],
                  "type" : "file"
                }
              ],
              "metadata" : {
                "component" : {
                  "name" : "deploy bundle",
                  "type" : "application",
                  "version" : "0123456789ab"
                },
                "timestamp" : "2026-12-06T00:00:00Z",
                "tools" : {
                  "components" : [
                    {
                      "name" : "deploy",
                      "type" : "application",
                      "version" : "0.1.0"
                    }
                  ]
                }
              },
              "serialNumber" : "urn:uuid:01234567-89ab-4def-8123-456789abcdef",
              "specVersion" : "1.5",
              "version" : 1
            }

            """
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        #expect(try JSONDecoder().decode(SBOMDocument.self, from: Data(bytes)).components.map(\.name) == ["deploy", "x.json5"])
    }
}
