import AWS
import Plan
import Stack

/// `aws.iam.role`: a role with its trust policy, description, session length, managed policies and the names of
/// its inline policies. Read whole: every attached and inline policy's document comes back too (`attached_policies`,
/// `inline_policies`), for the checks that judge what the role may really do.
struct IAMRoleHandler: ResourceHandler {
    let type = "aws.iam.role"
    let actions = HandlerActions(
        create: ["iam:CreateRole", "iam:GetRole", "iam:TagRole", "iam:AttachRolePolicy"],
        read: ["iam:ListRoles", "iam:ListAttachedRolePolicies", "iam:ListRoleTags", "iam:ListRolePolicies", "iam:GetRolePolicy",
               "iam:GetPolicy", "iam:GetPolicyVersion"],
        update: ["iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:AttachRolePolicy",
                 "iam:DetachRolePolicy", "iam:DeleteRolePolicy"],
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
        if changed.contains("inline_policy_names") {
            // the stack's own inline policies are put by their aws.iam.role_policy resources; any other goes
            let before = Set(recorded.attributes["inline_policy_names"]?.listValue?.compactMap(\.stringValue) ?? [])
            for policy in before.subtracting(resource.strings("inline_policy_names")).sorted() {
                try await tolerating("NoSuchEntity") { try await iam.call("DeleteRolePolicy", [("RoleName", name), ("PolicyName", policy)]) }
            }
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
            // IAM deletes no role that still holds a policy: the stack's own inline ones are gone by now, anything left
            // (attached, or put on it outside deploy) goes with the role
            let (attached, inline, _) = try await RolePolicies.names(name, iam: iam)
            for arn in attached { try await iam.call("DetachRolePolicy", [("RoleName", name), ("PolicyArn", arn)]) }
            for policy in inline {
                try await tolerating("NoSuchEntity") { try await iam.call("DeleteRolePolicy", [("RoleName", name), ("PolicyName", policy)]) }
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
            let (policies, policyCalls) = try await RolePolicies.read(name, iam: iam)
            let tags = try await iam.call("ListRoleTags", [("RoleName", name)])
            calls += policyCalls + 1
            var attributes: [String: Value] = [
                "name": .string(name), "path": .string(role.child("Path")?.text ?? "/"),
                "assume_role_policy": IAMSupport.policy(role.child("AssumeRolePolicyDocument")?.text),
                "description": .string(role.child("Description")?.text ?? ""),
                "arn": .string(role.child("Arn")?.text ?? ""), "tags": IAMSupport.tagMap(tags.child("Tags")),
            ]
            if let seconds = role.child("MaxSessionDuration").flatMap({ Int($0.text) }) { attributes["max_session_duration"] = .int(seconds) }
            live[resource.address] = attributes.merging(policies.attributes) { _, policies in policies }
        }
        return ReadResult(live: live, apiCalls: calls)
    }
}
