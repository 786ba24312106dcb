import DeployTestSupport
import Foundation
import Hashing
import Testing
@testable import Stack

/// The guardrail policy a stack ships to its node is checked when the stack is planned: a policy the server would
/// refuse stops the plan, naming the policy file's own line and column and the stack's line that names it.
@Suite("guardrail policy in a stack")
struct GuardrailPolicyStackTests {
    /// Expands a scratch copy of the default stack whose storage phase names `policy` (written beside it); the error.
    func expand(policy: String?) throws -> (StackError?, DesiredResource?) {
        let (stack, directory) = try ShippedStack.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        if let policy {
            try policy.write(to: directory.appendingPathComponent("Stacks/guardrails.json5"), atomically: true, encoding: .utf8)
            var text = try String(contentsOfFile: stack, encoding: .utf8)
            text = text.replacingOccurrences(of: "audit_retention_days: 2557,", with: "audit_retention_days: 2557,\n      guardrail_policy_source: \"guardrails.json5\",")
            try text.write(toFile: stack, atomically: true, encoding: .utf8)
        }
        do {
            var expander = Expander(try StackConfiguration.load(stackPath: stack))
            let resources = try expander.expand()
            return (nil, resources.resources.first { $0.address.description == "storage.guardrail_policy" })
        } catch {
            return (error, nil)
        }
    }

    @Test func theTemplatesPolicyShipsByDefault() throws {
        let (error, resource) = try expand(policy: nil)
        #expect(error == nil)
        let shipped = try Data(contentsOf: ShippedStack.repository.appendingPathComponent("Templates/node/guardrails.json5"))
        #expect(resource?.artifact?.sha256 == SHA256.hex(shipped))
    }

    @Test func aStacksOwnPolicyIsShippedWhenValid() throws {
        let policy = "{ version: 1, default: { detectors: { email: 'block' } } }"
        let (error, resource) = try expand(policy: policy)
        #expect(error == nil)
        #expect(resource?.artifact?.sha256 == SHA256.hex(policy))
    }

    @Test func aPolicyTheServerWouldRefuseStopsThePlanAtItsLine() throws {
        let (error, _) = try expand(policy: "{\n  version: 1,\n  default: { detectors: { emial: 'mask' } },\n}\n")
        let message = error?.description ?? ""
        #expect(message.contains("storage.guardrail_policy: 'guardrails.json5' is not a guardrail policy inference-server accepts"), "\(message)")
        #expect(message.contains("guardrails.json5:3:27: unknown detector 'emial'; did you mean 'email'?"), "\(message)")
        #expect(error?.location?.file.hasSuffix("storage.json5") == true || error?.location?.file.hasSuffix("private-inference.json5") == true)
    }
}
