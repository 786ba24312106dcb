import DeployTestSupport
import Foundation
import Testing

/// `deploy check` on the plan: the default stack passes, a stack that breaks a rule fails with exit 1 and names
/// the rule, the severity threshold decides, JSON carries evidence and mappings, bad input is exit 2.
@Suite("deploy check")
struct CheckCommandTests {
    func run(_ arguments: [String]) async -> (Int32, CommandLineTests.Captured) { await CommandLineTests().run(arguments) }

    @Test("the default stack passes every rule on its plan, without credentials")
    func defaultPasses() async throws {
        let (code, output) = await run(["check", "--stack", ShippedStack.path()])
        #expect(code == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains(" 0 failed (0 at or above low), 38 rules over "), "\(output.stdout)")
    }

    @Test("a stack without deletion protection fails the rule, unless the threshold is above its severity")
    func failing() async throws {
        let (stack, directory) = try StackCommandTests().scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try String(contentsOfFile: stack, encoding: .utf8)
        try text.replacingOccurrences(of: "audit_retention_days: 2557,", with: "audit_retention_days: 2557, table_deletion_protection: false,")
            .write(toFile: stack, atomically: true, encoding: .utf8)

        let (code, output) = await run(["check", "--stack", stack])
        #expect(code == 1)
        #expect(output.stdout.contains("storage: 24 passed, 1 failed"), "\(output.stdout)")
        #expect(output.stdout.contains("FAIL MEDIUM   dynamodb-deletion-protection  storage.audit_table: deletion protection is off"), "\(output.stdout)")
        #expect(await run(["check", "--stack", stack, "--severity", "high"]).0 == 0, "a medium failure is under a high threshold")

        let (jsonCode, json) = await run(["check", "--stack", stack, "--format", "json"])
        #expect(jsonCode == 1)
        let documents = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(documents.count == 1, "no state: the plan alone")
        let document = try #require(documents.first)
        #expect(document["mode"] as? String == "plan")
        #expect(document["format"] as? String == "deploy.check/1" && document["account"] as? String == "123456789012")
        let findings = try #require(document["findings"] as? [[String: Any]])
        let failed = try #require(findings.first { $0["status"] as? String == "fail" })
        #expect(failed["rule"] as? String == "dynamodb-deletion-protection")
        #expect((failed["evidence"] as? [String: Any])?["deletion_protection"] as? Bool == false)
        #expect(failed["fsbp"] as? [String] == ["DynamoDB.6"] && failed["prowler"] as? [String] == ["dynamodb_table_deletion_protection_enabled"])
    }

    @Test("bad input is exit 2 with one clear error", arguments: [["check", "--stack", "/nonexistent.json5"],
                                                                 ["check", "--stack", "x.json5", "--severity", "urgent"],
                                                                 ["check", "--stack", "x.json5", "--plan", "--live"],
                                                                 ["check", "--stack", ShippedStack.path(), "--state", "/nonexistent/state.json", "--live"]])
    func badInput(_ arguments: [String]) async throws {
        let (code, output) = await run(arguments)
        #expect(code == 2)
        #expect(output.stderr.hasPrefix("error: ") && output.stdout.isEmpty, "\(output.stderr)")
    }
}
