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
        #expect(output.stdout.contains(" 0 failed (0 at or above low), 49 rules over "), "\(output.stdout)")
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
        #expect(output.stdout.contains("storage: 48 passed, 1 failed"), "\(output.stdout)")
        #expect(output.stdout.contains("FAIL MEDIUM   dynamodb-deletion-protection  storage.audit_table: deletion protection is off"), "\(output.stdout)")
        #expect(await run(["check", "--stack", stack, "--severity", "high"]).0 == 0, "a medium failure is under a high threshold")
        let (_, byControl) = await run(["check", "--stack", stack, "--framework", "fsbp"])
        #expect(byControl.stdout.contains("  FAIL DynamoDB.6     0 passed, 1 failed  (dynamodb-deletion-protection)"), "\(byControl.stdout)")
        #expect(byControl.stdout.contains("  PASS S3.8           3 passed, 0 failed  (s3-bucket-public-access-block)"))

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

    /// A scratch default stack without the audit table's deletion protection, and with `suppress` as given.
    func stack(suppress: String) throws -> (String, URL) {
        let (stack, directory) = try StackCommandTests().scratchStack()
        let text = try String(contentsOfFile: stack, encoding: .utf8)
        try text.replacingOccurrences(of: "audit_retention_days: 2557,", with: "audit_retention_days: 2557, table_deletion_protection: false,")
            .replacingOccurrences(of: "  phases: {", with: "  suppress: [\(suppress)],\n  phases: {")
            .write(toFile: stack, atomically: true, encoding: .utf8)
        return (stack, directory)
    }

    @Test("a suppression holds the finding back until it expires, then the finding fails again and says so")
    func suppressions() async throws {
        let holding = #"{ rule: "dynamodb-deletion-protection", address: "storage.audit_table", reason: "a dev stack, dropped nightly", expires: "2999-12-31" }"#
        let (stack, directory) = try self.stack(suppress: holding)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (code, output) = await run(["check", "--stack", stack])
        #expect(code == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("storage: 48 passed, 0 failed, 1 suppressed"), "\(output.stdout)")
        #expect(output.stdout.contains("SUPPRESSED dynamodb-deletion-protection  storage.audit_table: deletion protection is off (accepted until 2999-12-31: a dev stack, dropped nightly)"))

        let (expiredStack, expiredDirectory) = try self.stack(suppress: holding.replacingOccurrences(of: "2999-12-31", with: "2020-01-01"))
        defer { try? FileManager.default.removeItem(at: expiredDirectory) }
        let (expiredCode, expired) = await run(["check", "--stack", expiredStack])
        #expect(expiredCode == 1)
        #expect(expired.stdout.contains("storage.audit_table: deletion protection is off (its suppression expired on 2020-01-01)"), "\(expired.stdout)")
    }

    @Test("a suppression of an unknown rule or resource, or without reason or date, is a stack error", arguments: [
        (#"{ rule: "dynamodb-deletion-protectoin", address: "storage.audit_table", reason: "r", expires: "2999-12-31" }"#,
         "suppression of unknown rule 'dynamodb-deletion-protectoin'; did you mean 'dynamodb-deletion-protection'?"),
        (#"{ rule: "ec2-imdsv2", address: "inference.noed[0]", reason: "r", expires: "2999-12-31" }"#,
         "suppression of 'inference.noed[0]', which the stack does not declare; did you mean 'inference.node'?"),
        (#"{ rule: "ec2-imdsv2", address: "inference.node", reason: " ", expires: "2999-12-31" }"#, "a suppression needs a reason"),
        (#"{ rule: "ec2-imdsv2", address: "inference.node", reason: "r", expires: "2027-02-30" }"#, "must be a date like 2027-03-31"),
    ])
    func badSuppression(_ entry: String, _ message: String) async throws {
        let (stack, directory) = try self.stack(suppress: entry)
        defer { try? FileManager.default.removeItem(at: directory) }
        for command in ["check", "validate"] {
            let (code, output) = await run([command, "--stack", stack])
            #expect(code == 2)
            #expect(output.stderr.contains("private-inference.json5:") && output.stderr.contains(message), "\(output.stderr)")
        }
    }

    @Test("plan shows the compliance summary above the plan; apply refuses a critical failure before any call, unless --allow-findings")
    func planAndApply() async throws {
        let (stack, directory) = try StackCommandTests().scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, clean) = await run(["plan", "--stack", stack])
        #expect(clean.stdout.hasPrefix("Compliance on the plan: 96 passed, 0 failed.\n"), "\(clean.stdout.prefix(200))")

        let storage = directory.appendingPathComponent("Templates/storage.json5").path
        let text = try String(contentsOfFile: storage, encoding: .utf8)
        let audit = "block_public_access: true,\n        lifecycle_expiration_days: \"${param.audit_retention_days}\",\n        logging_target_bucket"
        let opened = text.replacingOccurrences(of: audit, with: audit.replacingOccurrences(of: "true", with: "false"))
        #expect(opened != text)
        try opened.write(toFile: storage, atomically: true, encoding: .utf8)

        let (_, planned) = await run(["plan", "--stack", stack])
        #expect(planned.stdout.contains("Compliance on the plan: 94 passed, 2 failed (deploy check for details):"), "\(planned.stdout.prefix(400))")
        #expect(planned.stdout.contains("  CRITICAL s3-bucket-public-access-block storage.audit_bucket: Block Public Access is not on for all four settings"))
        let (code, refused) = await run(["apply", "--stack", stack, "--auto-approve"])
        #expect(code == 1)
        #expect(refused.stderr.contains("the plan fails 2 critical compliance check(s); nothing was changed"), "\(refused.stderr)")
        #expect(refused.stderr.contains("cloudtrail-bucket-not-public storage.trail"))
        let (_, allowed) = await run(["apply", "--stack", stack, "--auto-approve", "--allow-findings"])
        #expect(!allowed.stderr.contains("compliance"), "past the findings, apply goes on to the account check: \(allowed.stderr)")
    }

    @Test("bad input is exit 2 with one clear error", arguments: [["check", "--stack", "/nonexistent.json5"],
                                                                 ["check", "--stack", "x.json5", "--severity", "urgent"],
                                                                 ["check", "--stack", "x.json5", "--plan", "--live"],
                                                                 ["check", "--stack", "x.json5", "--framework", "nist"],
                                                                 ["check", "--stack", ShippedStack.path(), "--state", "/nonexistent/state.json", "--live"]])
    func badInput(_ arguments: [String]) async throws {
        let (code, output) = await run(arguments)
        #expect(code == 2)
        #expect(output.stderr.hasPrefix("error: ") && output.stdout.isEmpty, "\(output.stderr)")
    }
}
