import AWS
import Plan
import Stack

/// `aws.iam.role_policy`: an inline policy on a role. Its id is `role:name`.
struct IAMRolePolicyHandler: ResourceHandler {
    let type = "aws.iam.role_policy"
    let actions = HandlerActions(create: ["iam:PutRolePolicy"], read: ["iam:GetRolePolicy"], update: ["iam:PutRolePolicy"],
                                 delete: ["iam:DeleteRolePolicy"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let role = try resource.require("role"), name = try resource.require("name")
        try await IAMSupport(context).call("PutRolePolicy", [("RoleName", role), ("PolicyName", name),
                                                             ("PolicyDocument", try resource.requirePolicyJSON("policy"))])
        try await context.recordID("\(role):\(name)")
        return ["id": .string("\(role):\(name)")]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        try await create(resource, token: "", context: context)
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let parts = try recorded.requireID().split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ProvisionError("\(recorded.address): id '\(recorded.id ?? "")' is not role:name") }
        do {
            try await IAMSupport(context).call("DeleteRolePolicy", [("RoleName", parts[0]), ("PolicyName", parts[1])])
        } catch let error as AWSError where error.isNotFound {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        // PutRolePolicy is idempotent: putting it again is finding it
        try await create(resource, token: token, context: context)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        var live: [ResourceAddress: [String: Value]] = [:]
        var calls = 0
        for resource in resources {
            let parts = (resource.id ?? "").split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            calls += 1
            do {
                let answer = try await IAMSupport(context).call("GetRolePolicy", [("RoleName", parts[0]), ("PolicyName", parts[1])])
                live[resource.address] = ["role": .string(parts[0]), "name": .string(parts[1]),
                                          "policy": IAMSupport.policy(answer.child("PolicyDocument")?.text)]
            } catch let error as AWSError where error.isNotFound {}
        }
        return ReadResult(live: live, apiCalls: calls)
    }
}
