import AWS
import Plan
import Stack

/// `aws.autoscaling.group`: the fleet. Its nodes come from a launch template version (or a mixed-instances policy
/// over several instance types), across the private subnets, admitted by the load balancer's health check. A new
/// launch template version rolls out as an instance refresh (`InstanceRefresh`); a terminating node is held by a
/// lifecycle hook for `drain_seconds` so its streams can finish.
struct AutoScalingGroupHandler: ResourceHandler {
    let type = "aws.autoscaling.group"
    static let drainHook = "drain-streams"
    let actions = HandlerActions(
        create: ["autoscaling:CreateAutoScalingGroup", "autoscaling:DescribeAutoScalingGroups", "autoscaling:PutLifecycleHook",
                 "autoscaling:PutWarmPool", "autoscaling:CreateOrUpdateTags", "elasticloadbalancing:DescribeTargetHealth",
                 "ec2:RunInstances", "ec2:CreateTags", "ec2:DescribeLaunchTemplateVersions", "iam:CreateServiceLinkedRole"],
        read: ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeLifecycleHooks", "autoscaling:DescribeWarmPool"],
        update: ["autoscaling:UpdateAutoScalingGroup", "autoscaling:AttachLoadBalancerTargetGroups", "autoscaling:DetachLoadBalancerTargetGroups",
                 "autoscaling:PutLifecycleHook", "autoscaling:DeleteLifecycleHook", "autoscaling:PutWarmPool", "autoscaling:DeleteWarmPool",
                 "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags", "autoscaling:StartInstanceRefresh",
                 "autoscaling:DescribeInstanceRefreshes", "autoscaling:CancelInstanceRefresh", "autoscaling:SetDesiredCapacity"],
        delete: ["autoscaling:DeleteAutoScalingGroup", "autoscaling:DescribeAutoScalingGroups"], passesRole: true)

    static func service(_ context: HandlerContext) -> QueryService { QueryService(client: context.client, service: .autoscaling) }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let name = try resource.require("name")
        var parameters = [("AutoScalingGroupName", name), ("MinSize", String(try resource.requireInt("min_size"))),
                          ("MaxSize", String(try resource.requireInt("max_size"))),
                          ("DesiredCapacity", String(try resource.requireInt("desired_capacity"))),
                          ("VPCZoneIdentifier", resource.strings("subnet_ids").joined(separator: ",")),
                          ("HealthCheckType", try resource.require("health_check_type")),
                          ("HealthCheckGracePeriod", String(try resource.requireInt("health_check_grace_period")))]
        parameters += try Self.launchTemplate(resource, version: try resource.require("launch_template_version"))
        parameters += QueryService.members("TargetGroupARNs", resource.strings("target_group_arns"))
        parameters += QueryService.members("TerminationPolicies", try resource.requireList("termination_policies").compactMap(\.stringValue))
        parameters += Self.tags(resource.tags, group: name)
        do {
            try await Self.service(context).call("CreateAutoScalingGroup", parameters)
        } catch let error as AWSError where error.code == "AlreadyExists" {
            // a create repeated after its answer was lost; anything else of that name is not ours to take
            guard try await Self.describe(name, context: context).map(Self.isOurs(resource)) == true else { throw error }
        }
        try await context.recordID(name)
        return try await completed(resource, name: name, context: context)
    }

    /// The rest of a create (or of one an interrupted run began): the drain hook, the warm pool, and the wait for
    /// `min_size` nodes healthy behind the load balancer.
    private func completed(_ resource: DesiredResource, name: String, context: HandlerContext) async throws -> [String: Value] {
        try await putHook(resource, name: name, context: context)
        try await putWarmPool(resource, name: name, context: context)
        try await FleetCapacity(context: context).waitForHealthy(group: name, count: try resource.requireInt("min_size"),
                                                                 targetGroups: resource.strings("target_group_arns"))
        return try await computed(name, context: context)
    }

    /// `LaunchTemplate.*`, or a `MixedInstancesPolicy` over `instance_types` when there are any.
    static func launchTemplate(_ resource: DesiredResource, version: String, prefix: String = "") throws -> [(String, String)] {
        let id = try resource.require("launch_template_id")
        let types = resource.strings("instance_types")
        guard !types.isEmpty else {
            return [("\(prefix)LaunchTemplate.LaunchTemplateId", id), ("\(prefix)LaunchTemplate.Version", version)]
        }
        let policy = "\(prefix)MixedInstancesPolicy.LaunchTemplate"
        return [("\(policy).LaunchTemplateSpecification.LaunchTemplateId", id), ("\(policy).LaunchTemplateSpecification.Version", version)]
            + types.enumerated().map { ("\(policy).Overrides.member.\($0.offset + 1).InstanceType", $0.element) }
    }

    /// The group's tags, given to every node it launches as well.
    static func tags(_ tags: [String: String], group: String) -> [(String, String)] {
        QueryService.tags("Tags", tags, extra: [("PropagateAtLaunch", "true"), ("ResourceId", group), ("ResourceType", "auto-scaling-group")])
    }

    static func describe(_ name: String, context: HandlerContext) async throws -> XMLNode? {
        let answer = try await service(context).call("DescribeAutoScalingGroups", QueryService.members("AutoScalingGroupNames", [name]))
        return QueryService.list(answer, "AutoScalingGroups").first { $0.child("AutoScalingGroupName")?.text == name }
    }

    private static func isOurs(_ resource: DesiredResource) -> (XMLNode) -> Bool {
        { group in QueryService.tagMap(QueryService.list(group, "Tags")).mapValue?[DeployTags.address] == .string(resource.address.description) }
    }

    private func computed(_ name: String, context: HandlerContext) async throws -> [String: Value] {
        guard let group = try await Self.describe(name, context: context) else { throw ProvisionError("Auto Scaling group \(name) not found") }
        return ["id": .string(name), "arn": .string(group.child("AutoScalingGroupARN")?.text ?? "")]
    }

    private func putHook(_ resource: DesiredResource, name: String, context: HandlerContext) async throws {
        let seconds = try resource.requireInt("drain_seconds")
        guard seconds > 0 else { return }
        // a terminating node waits here, out of the target group, for its streams; then it goes on terminating
        try await Self.service(context).call("PutLifecycleHook", [
            ("AutoScalingGroupName", name), ("LifecycleHookName", Self.drainHook),
            ("LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"), ("HeartbeatTimeout", String(max(30, seconds))),
            ("DefaultResult", "CONTINUE")])
    }

    private func putWarmPool(_ resource: DesiredResource, name: String, context: HandlerContext) async throws {
        guard let state = resource.string("warm_pool_state") else { return }
        try await Self.service(context).call("PutWarmPool", [("AutoScalingGroupName", name), ("PoolState", state),
                                                             ("MinSize", String(try resource.requireInt("warm_pool_min_size")))])
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let name = try recorded.requireID()
        let service = Self.service(context)
        // the plan names the version as changed whenever the launch template changes, tags included: only a version
        // other than the one the group runs is rolled out
        let current = recorded.attributes["launch_template_version"]?.stringValue
        let rollOut = try resource.require("launch_template_version") != current
        let sized: Set = ["min_size", "max_size", "desired_capacity", "subnet_ids", "health_check_type", "health_check_grace_period",
                          "termination_policies", "instance_types"]
        if !changed.isDisjoint(with: sized) {
            var parameters = [("AutoScalingGroupName", name), ("MinSize", String(try resource.requireInt("min_size"))),
                              ("MaxSize", String(try resource.requireInt("max_size"))),
                              ("VPCZoneIdentifier", resource.strings("subnet_ids").joined(separator: ",")),
                              ("HealthCheckType", try resource.require("health_check_type")),
                              ("HealthCheckGracePeriod", String(try resource.requireInt("health_check_grace_period")))]
            if changed.contains("desired_capacity") { parameters.append(("DesiredCapacity", String(try resource.requireInt("desired_capacity")))) }
            // the launch template version (and instance types) a refresh is about to roll out are the refresh's to set
            if !rollOut {
                parameters += try Self.launchTemplate(resource, version: try resource.require("launch_template_version"))
            }
            parameters += QueryService.members("TerminationPolicies", try resource.requireList("termination_policies").compactMap(\.stringValue))
            try await service.call("UpdateAutoScalingGroup", parameters)
        }
        if changed.contains("target_group_arns") {
            let before = Set(recorded.attributes["target_group_arns"]?.listValue?.compactMap(\.stringValue) ?? [])
            let after = Set(resource.strings("target_group_arns"))
            // attach first, so that the group is never out of every target group
            if !after.subtracting(before).isEmpty {
                try await service.call("AttachLoadBalancerTargetGroups",
                                       [("AutoScalingGroupName", name)] + QueryService.members("TargetGroupARNs", after.subtracting(before).sorted()))
            }
            if !before.subtracting(after).isEmpty {
                try await service.call("DetachLoadBalancerTargetGroups",
                                       [("AutoScalingGroupName", name)] + QueryService.members("TargetGroupARNs", before.subtracting(after).sorted()))
            }
        }
        if changed.contains("drain_seconds") {
            if try resource.requireInt("drain_seconds") > 0 {
                try await putHook(resource, name: name, context: context)
            } else {
                do {
                    try await service.call("DeleteLifecycleHook", [("AutoScalingGroupName", name), ("LifecycleHookName", Self.drainHook)])
                } catch let error as AWSError where error.code == "ValidationError" && error.message.contains("not found") {}
            }
        }
        if changed.contains("warm_pool_state") || changed.contains("warm_pool_min_size") {
            if resource.string("warm_pool_state") != nil {
                try await putWarmPool(resource, name: name, context: context)
            } else {
                try await service.call("DeleteWarmPool", [("AutoScalingGroupName", name), ("ForceDelete", "true")])
            }
        }
        if changed.contains("tags") {
            let removed = resource.removedTagKeys(since: recorded)
            if !removed.isEmpty {
                try await service.call("DeleteTags", Self.tags(Dictionary(uniqueKeysWithValues: removed.map { ($0, "") }), group: name))
            }
            try await service.call("CreateOrUpdateTags", Self.tags(resource.tags, group: name))
        }
        if rollOut { try await InstanceRefresh(context: context, group: name).rollOut(resource, from: current) }
        if rollOut || !changed.isDisjoint(with: ["min_size", "desired_capacity", "target_group_arns"]) {
            try await FleetCapacity(context: context).waitForHealthy(group: name, count: try resource.requireInt("min_size"),
                                                                     targetGroups: resource.strings("target_group_arns"))
        }
        return try await computed(name, context: context)
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let name = try recorded.requireID()
        do {
            // ForceDelete: the nodes go with the group, without waiting on their lifecycle hooks
            try await Self.service(context).call("DeleteAutoScalingGroup", [("AutoScalingGroupName", name), ("ForceDelete", "true")])
        } catch let error as AWSError where error.code == "ValidationError" && error.message.contains("not found") {
            return
        }
        try await waitUntil("Auto Scaling group \(name) to be deleted", timeout: 900, interval: 5) {
            try await Self.describe(name, context: context) == nil
        }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let name = try resource.require("name")
        guard let group = try await Self.describe(name, context: context), Self.isOurs(resource)(group) else { return nil }
        try await context.recordID(name)
        return try await completed(resource, name: name, context: context)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let names = resources.compactMap(\.id)
        guard !names.isEmpty else { return ReadResult(live: [:], apiCalls: 0) }
        let service = Self.service(context)
        let answer = try await service.call("DescribeAutoScalingGroups", QueryService.members("AutoScalingGroupNames", names))
        var calls = 1
        let groups = Dictionary(QueryService.list(answer, "AutoScalingGroups").compactMap { group in
            group.child("AutoScalingGroupName").map { ($0.text, group) }
        }) { first, _ in first }
        var live: [ResourceAddress: [String: Value]] = [:]
        for resource in resources {
            guard let name = resource.id, let group = groups[name] else { continue }
            // a group being deleted is gone for planning
            if group.child("Status")?.text == "Delete in progress" { continue }
            var attributes = Self.attributes(group)
            let hooks = try await service.call("DescribeLifecycleHooks", [("AutoScalingGroupName", name)])
            calls += 1
            let drain = QueryService.list(hooks, "LifecycleHooks").first { $0.child("LifecycleHookName")?.text == Self.drainHook }
            attributes["drain_seconds"] = .int(drain?.child("HeartbeatTimeout").flatMap { Int($0.text) } ?? 0)
            live[resource.address] = attributes
        }
        return ReadResult(live: live, apiCalls: calls)
    }

    /// A group's properties as DescribeAutoScalingGroups shows them (its desired capacity is scaling's, not read).
    static func attributes(_ group: XMLNode) -> [String: Value] {
        let mixed = group.child("MixedInstancesPolicy")?.child("LaunchTemplate")
        let template = mixed?.child("LaunchTemplateSpecification") ?? group.child("LaunchTemplate")
        let warm = group.child("WarmPoolConfiguration")
        return [
            "name": .string(group.child("AutoScalingGroupName")?.text ?? ""),
            "arn": .string(group.child("AutoScalingGroupARN")?.text ?? ""),
            "min_size": .int(Int(group.child("MinSize")?.text ?? "") ?? 0),
            "max_size": .int(Int(group.child("MaxSize")?.text ?? "") ?? 0),
            "subnet_ids": .list((group.child("VPCZoneIdentifier")?.text ?? "").split(separator: ",").map { .string(String($0)) }),
            "launch_template_id": template?.child("LaunchTemplateId").map { .string($0.text) } ?? .null,
            "launch_template_version": template?.child("Version").map { .string($0.text) } ?? .null,
            "instance_types": .list(QueryService.list(mixed, "Overrides").compactMap { $0.child("InstanceType").map { .string($0.text) } }),
            "health_check_type": .string(group.child("HealthCheckType")?.text ?? ""),
            "health_check_grace_period": .int(Int(group.child("HealthCheckGracePeriod")?.text ?? "") ?? 0),
            "target_group_arns": .list(QueryService.list(group, "TargetGroupARNs").map { .string($0.text) }),
            "termination_policies": .list(QueryService.list(group, "TerminationPolicies").map { .string($0.text) }),
            "warm_pool_state": warm?.child("PoolState").map { .string($0.text) } ?? .null,
            "warm_pool_min_size": .int(warm?.child("MinSize").flatMap { Int($0.text) } ?? 0),
            "tags": QueryService.tagMap(QueryService.list(group, "Tags")),
        ]
    }
}
