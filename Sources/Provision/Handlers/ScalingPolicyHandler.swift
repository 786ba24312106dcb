import AWS
import Plan
import Stack

/// `aws.autoscaling.policy`: target tracking on a metric the nodes publish themselves (queue depth, tokens per
/// second), averaged over the group: Auto Scaling adds nodes while the average is above `target_value` and removes
/// them, unless `disable_scale_in`, while it is below. PutScalingPolicy creates and replaces alike.
struct ScalingPolicyHandler: ResourceHandler {
    let type = "aws.autoscaling.policy"
    let actions = HandlerActions(
        create: ["autoscaling:PutScalingPolicy", "autoscaling:DescribePolicies", "cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms"],
        read: ["autoscaling:DescribePolicies"],
        update: ["autoscaling:PutScalingPolicy", "autoscaling:DescribePolicies", "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"],
        delete: ["autoscaling:DeletePolicy", "cloudwatch:DeleteAlarms"])

    private func service(_ context: HandlerContext) -> QueryService { AutoScalingGroupHandler.service(context) }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        try await put(resource, context: context)
    }

    private func put(_ resource: DesiredResource, context: HandlerContext) async throws -> [String: Value] {
        let group = try resource.require("group_name")
        let metric = "TargetTrackingConfiguration.CustomizedMetricSpecification"
        let answer = try await service(context).call("PutScalingPolicy", [
            ("AutoScalingGroupName", group), ("PolicyName", try resource.require("name")), ("PolicyType", "TargetTrackingScaling"),
            ("EstimatedInstanceWarmup", String(try resource.requireInt("estimated_instance_warmup"))),
            ("\(metric).MetricName", try resource.require("metric_name")), ("\(metric).Namespace", try resource.require("metric_namespace")),
            ("\(metric).Statistic", try resource.require("statistic")),
            // every node publishes under its group's name, so the policy follows the group's average
            ("\(metric).Dimensions.member.1.Name", "AutoScalingGroupName"), ("\(metric).Dimensions.member.1.Value", group),
            ("TargetTrackingConfiguration.TargetValue", String(try resource.requireInt("target_value"))),
            ("TargetTrackingConfiguration.DisableScaleIn", String(try resource.requireBool("disable_scale_in")))])
        guard let arn = answer.child("PolicyARN")?.text else { throw ProvisionError("PutScalingPolicy returned no PolicyARN") }
        try await context.recordID(arn)
        return ["id": .string(arn), "arn": .string(arn)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        try await put(resource, context: context)
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        guard let group = recorded.attributes["group_name"]?.stringValue, let name = recorded.attributes["name"]?.stringValue else {
            throw ProvisionError("\(recorded.address) has no recorded group or name")
        }
        do {
            try await service(context).call("DeletePolicy", [("AutoScalingGroupName", group), ("PolicyName", name)])
        } catch let error as AWSError where error.code == "ValidationError" && error.message.lowercased().contains("not found") {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        // PutScalingPolicy replaces a policy of the same name: making it again adopts it
        nil
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        var live: [ResourceAddress: [String: Value]] = [:]
        var calls = 0
        let byGroup = Dictionary(grouping: resources) { $0.attributes["group_name"]?.stringValue ?? "" }
        for (group, members) in byGroup.sorted(by: { $0.key < $1.key }) where !group.isEmpty {
            let answer: XMLNode
            do {
                answer = try await service(context).call("DescribePolicies", [("AutoScalingGroupName", group)])
            } catch let error as AWSError where error.code == "ValidationError" {
                continue  // the group is gone, and its policies with it
            }
            calls += 1
            let policies = QueryService.list(answer, "ScalingPolicies")
            for resource in members {
                guard let policy = policies.first(where: { $0.child("PolicyARN")?.text == resource.id }) else { continue }
                live[resource.address] = Self.attributes(policy)
            }
        }
        return ReadResult(live: live, apiCalls: calls)
    }

    static func attributes(_ policy: XMLNode) -> [String: Value] {
        let tracking = policy.child("TargetTrackingConfiguration")
        let metric = tracking?.child("CustomizedMetricSpecification")
        return [
            "name": .string(policy.child("PolicyName")?.text ?? ""), "group_name": .string(policy.child("AutoScalingGroupName")?.text ?? ""),
            "arn": .string(policy.child("PolicyARN")?.text ?? ""),
            "metric_name": metric?.child("MetricName").map { .string($0.text) } ?? .null,
            "metric_namespace": metric?.child("Namespace").map { .string($0.text) } ?? .null,
            "statistic": metric?.child("Statistic").map { .string($0.text) } ?? .null,
            "target_value": tracking?.child("TargetValue").flatMap { Double($0.text) }.map { .int(Int($0.rounded())) } ?? .null,
            "disable_scale_in": .bool(tracking?.child("DisableScaleIn")?.text == "true"),
            "estimated_instance_warmup": policy.child("EstimatedInstanceWarmup").flatMap { Int($0.text) }.map(Value.int) ?? .null,
        ]
    }
}
