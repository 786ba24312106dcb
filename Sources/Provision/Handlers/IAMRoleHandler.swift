import AWS
import Plan
import Stack

/// `aws.iam.role`: a role with its trust policy, description, session length and managed policies.
struct IAMRoleHandler: ResourceHandler {
    let type = "aws.iam.role"
    let actions = HandlerActions(
        create: ["iam:CreateRole", "iam:GetRole", "iam:TagRole", "iam:AttachRolePolicy"],
        read: ["iam:ListRoles", "iam:ListAttachedRolePolicies", "iam:ListRoleTags"],
        update: ["iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:AttachRolePolicy",
                 "iam:DetachRolePolicy"],
        delete: ["iam:DeleteRole", "iam:ListAttachedRolePolicies", "iam:DetachRolePolicy", "iam:ListRolePolicies",
                 "iam:DeleteRolePolicy", "iam:ListInstanceProfilesForRole", "iam:RemoveRoleFromInstanceProfile"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let iam = IAMSupport(context)
        let name = try resource.require("name")
        var parameters = [("RoleName", name), ("Path", try resource.require("path")),
                          ("AssumeRolePolicyDocument", try resource.requirePolicyJSON("assume_role_policy")),
                          ("MaxSessionDuration", String(try resource.requireInt("max_session_duration")))]
        let description = try resource.requireString("description")
        if !description.isEmpty { parameters.append(("Description", description)) }
        let answer = try await iam.call("CreateRole", parameters + IAMSupport.tags(resource.tags))
        try await context.recordID(name)
        for policy in resource.strings("managed_policy_arns") {
            try await iam.call("AttachRolePolicy", [("RoleName", name), ("PolicyArn", policy)])
        }
        return computed(answer.child("Role"), name: name)
    }

    private func computed(_ role: XMLNode?, name: String) -> [String: Value] {
        ["arn": .string(role?.child("Arn")?.text ?? ""), "id": .string(role?.child("RoleId")?.text ?? name)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let iam = IAMSupport(context)
        let name = try recorded.requireID()
        if changed.contains("description") || changed.contains("max_session_duration") {
            try await iam.call("UpdateRole", [("RoleName", name), ("Description", try resource.requireString("description")),
                                              ("MaxSessionDuration", String(try resource.requireInt("max_session_duration")))])
        }
        if changed.contains("assume_role_policy") {
            try await iam.call("UpdateAssumeRolePolicy", [("RoleName", name), ("PolicyDocument", try resource.requirePolicyJSON("assume_role_policy"))])
        }
        if changed.contains("managed_policy_arns") {
            let before = Set(recorded.attributes["managed_policy_arns"]?.listValue?.compactMap(\.stringValue) ?? [])
            let after = Set(resource.strings("managed_policy_arns"))
            for policy in after.subtracting(before).sorted() { try await iam.call("AttachRolePolicy", [("RoleName", name), ("PolicyArn", policy)]) }
            for policy in before.subtracting(after).sorted() { try await iam.call("DetachRolePolicy", [("RoleName", name), ("PolicyArn", policy)]) }
        }
        if changed.contains("tags") {
            try await iam.syncTags("Role", nameParameter: "RoleName", name: name, from: recorded.attributes["tags"], to: resource.tags)
        }
        return ["arn": recorded.attributes["arn"] ?? .null, "id": recorded.attributes["id"] ?? .string(name)]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let iam = IAMSupport(context)
        let name = try recorded.requireID()
        do {
            let attached = try await iam.call("ListAttachedRolePolicies", [("RoleName", name)])
            for policy in attached.child("AttachedPolicies")?.children("member") ?? [] {
                if let arn = policy.child("PolicyArn")?.text { try await iam.call("DetachRolePolicy", [("RoleName", name), ("PolicyArn", arn)]) }
            }
            try await iam.call("DeleteRole", [("RoleName", name)])
        } catch let error as AWSError where error.isNotFound {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let name = try resource.require("name")
        do {
            let answer = try await IAMSupport(context).call("GetRole", [("RoleName", name)])
            try await context.recordID(name)
            return computed(answer.child("Role"), name: name)
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let iam = IAMSupport(context)
        var (roles, calls) = try await iam.listAll("ListRoles", list: "Roles", name: "RoleName")
        var live: [ResourceAddress: [String: Value]] = [:]
        for resource in resources {
            guard let name = resource.id, let role = roles[name] else { continue }
            let attached = try await iam.call("ListAttachedRolePolicies", [("RoleName", name)])
            calls += 1
            let arns = (attached.child("AttachedPolicies")?.children("member") ?? []).compactMap { $0.child("PolicyArn")?.text }
            live[resource.address] = ["name": .string(name), "path": .string(role.child("Path")?.text ?? "/"),
                                      "assume_role_policy": IAMSupport.policy(role.child("AssumeRolePolicyDocument")?.text),
                                      "arn": .string(role.child("Arn")?.text ?? ""), "managed_policy_arns": .list(arns.sorted().map(Value.string))]
        }
        return ReadResult(live: live, apiCalls: calls)
    }
}
