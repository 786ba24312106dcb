import AWS
import Stack

/// Every policy a role carries, read from the account: the managed ones attached to it and the inline ones put on
/// it, each with its document, so that what the role may do is judged on what it holds, not on what the stack says.
struct RolePolicies {
    /// Attached managed policies: ARN to the default version's document (null where it could not be found).
    var attached: [String: Value]
    /// Inline policies: name to document.
    var inline: [String: Value]

    /// The role's attributes: `managed_policy_arns` and `inline_policy_names` (what plans compare), and the
    /// documents under `attached_policies` and `inline_policies` (what the checks read).
    var attributes: [String: Value] {
        ["managed_policy_arns": .list(attached.keys.sorted().map(Value.string)),
         "inline_policy_names": .list(inline.keys.sorted().map(Value.string)),
         "attached_policies": .map(attached), "inline_policies": .map(inline)]
    }

    /// Reads `role`'s policies; with the number of calls it took.
    static func read(_ role: String, iam: IAMSupport) async throws -> (RolePolicies, Int) {
        let (arns, names, listCalls) = try await Self.names(role, iam: iam)
        var calls = listCalls
        var attached: [String: Value] = [:]
        for arn in arns { attached[arn] = try await document(of: arn, iam: iam, calls: &calls) }
        var inline: [String: Value] = [:]
        for name in names {
            calls += 1
            do {
                let answer = try await iam.call("GetRolePolicy", [("RoleName", role), ("PolicyName", name)])
                inline[name] = IAMSupport.policy(answer.child("PolicyDocument")?.text)
            } catch let error as AWSError where error.isNotFound {}  // deleted between the list and the get
        }
        return (RolePolicies(attached: attached, inline: inline), calls)
    }

    /// The managed policies attached to `role` (ARNs) and its inline policies (names), every page of each.
    static func names(_ role: String, iam: IAMSupport) async throws -> (attached: [String], inline: [String], calls: Int) {
        let (attached, attachedCalls) = try await iam.pages("ListAttachedRolePolicies", [("RoleName", role)], list: "AttachedPolicies")
        let (inline, inlineCalls) = try await iam.pages("ListRolePolicies", [("RoleName", role)], list: "PolicyNames")
        return (attached.compactMap { $0.child("PolicyArn")?.text }, inline.map(\.text), attachedCalls + inlineCalls)
    }

    /// A managed policy's default version's document; null when the policy or its version cannot be found.
    private static func document(of arn: String, iam: IAMSupport, calls: inout Int) async throws -> Value {
        do {
            calls += 1
            let policy = try await iam.call("GetPolicy", [("PolicyArn", arn)])
            guard let version = policy.child("Policy")?.child("DefaultVersionId")?.text else { return .null }
            calls += 1
            let answer = try await iam.call("GetPolicyVersion", [("PolicyArn", arn), ("VersionId", version)])
            return IAMSupport.policy(answer.child("PolicyVersion")?.child("Document")?.text)
        } catch let error as AWSError where error.isNotFound {
            return .null
        }
    }
}
