import AWS
import Plan
import Stack

/// `aws.iam.instance_profile`: the profile the node starts with, holding exactly one role.
struct IAMInstanceProfileHandler: ResourceHandler {
    let type = "aws.iam.instance_profile"
    let actions = HandlerActions(
        create: ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:GetInstanceProfile", "iam:TagInstanceProfile"],
        read: ["iam:ListInstanceProfiles", "iam:ListInstanceProfileTags"],
        update: ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile"],
        delete: ["iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let iam = IAMSupport(context)
        let name = try resource.require("name")
        let answer = try await iam.call("CreateInstanceProfile", [("InstanceProfileName", name), ("Path", try resource.require("path"))]
                                        + IAMSupport.tags(resource.tags))
        try await context.recordID(name)
        try await iam.call("AddRoleToInstanceProfile", [("InstanceProfileName", name), ("RoleName", try resource.require("role"))])
        let profile = answer.child("InstanceProfile")
        return ["arn": .string(profile?.child("Arn")?.text ?? ""), "id": .string(profile?.child("InstanceProfileId")?.text ?? name)]
    }

    private func roles(_ name: String, iam: IAMSupport) async throws -> (XMLNode?, [String]) {
        let profile = try await iam.call("GetInstanceProfile", [("InstanceProfileName", name)]).child("InstanceProfile")
        return (profile, profile?.child("Roles")?.children("member").compactMap { $0.child("RoleName")?.text } ?? [])
    }

    /// Takes every role out of the profile.
    private func removeRoles(_ name: String, iam: IAMSupport) async throws {
        for role in try await roles(name, iam: iam).1 {
            do {
                try await iam.call("RemoveRoleFromInstanceProfile", [("InstanceProfileName", name), ("RoleName", role)])
            } catch let error as AWSError where error.category != .service || error.httpStatus == 500 {
                // the call may have acted before its answer was lost, and a repeat of it then fails (IAM says
                // NoSuchEntity, moto 500): what counts is whether the role is still there
                guard try await roles(name, iam: iam).1.contains(role) else { continue }
                throw error
            }
        }
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let iam = IAMSupport(context)
        let name = try recorded.requireID()
        if changed.contains("role") {
            try await removeRoles(name, iam: iam)
            try await iam.call("AddRoleToInstanceProfile", [("InstanceProfileName", name), ("RoleName", try resource.require("role"))])
        }
        if changed.contains("tags") {
            try await iam.syncTags("InstanceProfile", nameParameter: "InstanceProfileName", name: name,
                                   from: recorded.attributes["tags"], to: resource.tags)
        }
        return ["arn": recorded.attributes["arn"] ?? .null, "id": recorded.attributes["id"] ?? .string(name)]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let iam = IAMSupport(context)
        let name = try recorded.requireID()
        do {
            try await removeRoles(name, iam: iam)
            try await iam.call("DeleteInstanceProfile", [("InstanceProfileName", name)])
        } catch let error as AWSError where error.isNotFound {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let iam = IAMSupport(context)
        let name = try resource.require("name")
        do {
            let (profile, current) = try await roles(name, iam: iam)
            try await context.recordID(name)
            if current.isEmpty { try await iam.call("AddRoleToInstanceProfile", [("InstanceProfileName", name), ("RoleName", try resource.require("role"))]) }
            return ["arn": .string(profile?.child("Arn")?.text ?? ""), "id": .string(profile?.child("InstanceProfileId")?.text ?? name)]
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let iam = IAMSupport(context)
        var (profiles, calls) = try await iam.listAll("ListInstanceProfiles", list: "InstanceProfiles", name: "InstanceProfileName")
        var live: [ResourceAddress: [String: Value]] = [:]
        for resource in resources {
            guard let name = resource.id, let profile = profiles[name] else { continue }
            let role = profile.child("Roles")?.child("member")?.child("RoleName")?.text
            let tags = try await iam.call("ListInstanceProfileTags", [("InstanceProfileName", name)])
            calls += 1
            live[resource.address] = ["name": .string(name), "path": .string(profile.child("Path")?.text ?? "/"),
                                      "role": role.map(Value.string) ?? .null, "arn": .string(profile.child("Arn")?.text ?? ""),
                                      "tags": IAMSupport.tagMap(tags.child("Tags"))]
        }
        return ReadResult(live: live, apiCalls: calls)
    }
}
