import AWS
import Plan
import Stack

/// `aws.elbv2.target_group`: the fleet's nodes on their serving port, admitted by a health check on `/health`
/// (which answers only once the model is loaded), and given `deregistration_delay` seconds to finish their streams
/// when they leave.
struct TargetGroupHandler: ResourceHandler {
    let type = "aws.elbv2.target_group"
    let actions = HandlerActions(
        create: ["elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
                 "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:AddTags"],
        read: ["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
               "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTargetHealth", "autoscaling:DescribeAutoScalingGroups"],
        update: ["elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeregisterTargets",
                 "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        delete: ["elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:DescribeTargetGroups"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let elb = ELBv2Support(context)
        // CreateTargetGroup answers with the existing group when called again with the same settings
        let answer = try await elb.call("CreateTargetGroup", [
            ("Name", try resource.require("name")), ("Protocol", try resource.require("protocol")),
            ("Port", String(try resource.requireInt("port"))), ("VpcId", try resource.require("vpc_id")), ("TargetType", "instance")]
            + (try healthCheck(resource)) + QueryService.tags("Tags", resource.tags))
        guard let arn = QueryService.list(answer, "TargetGroups").first?.child("TargetGroupArn")?.text else {
            throw ProvisionError("CreateTargetGroup returned no TargetGroupArn")
        }
        try await context.recordID(arn)
        try await setDelay(resource, arn: arn, elb: elb)
        return ["id": .string(arn), "arn": .string(arn)]
    }

    private func healthCheck(_ resource: DesiredResource) throws -> [(String, String)] {
        let protocolName = try resource.require("health_check_protocol")
        var parameters = [("HealthCheckProtocol", protocolName), ("HealthCheckPort", "traffic-port"), ("HealthCheckEnabled", "true"),
                          ("HealthCheckIntervalSeconds", String(try resource.requireInt("health_check_interval"))),
                          ("HealthyThresholdCount", String(try resource.requireInt("healthy_threshold"))),
                          ("UnhealthyThresholdCount", String(try resource.requireInt("unhealthy_threshold")))]
        if protocolName != "TCP" {
            // the schema's consistency check has refused an HTTP(S) check without a path at plan time
            parameters += [("HealthCheckPath", try resource.require("health_check_path")), ("Matcher.HttpCode", "200")]
        }
        return parameters
    }

    private func setDelay(_ resource: DesiredResource, arn: String, elb: ELBv2Support) async throws {
        try await elb.call("ModifyTargetGroupAttributes", [("TargetGroupArn", arn)] + ELBv2Support.attributeParameters([
            ("deregistration_delay.timeout_seconds", String(try resource.requireInt("deregistration_delay")))]))
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let elb = ELBv2Support(context)
        let arn = try recorded.requireID()
        let health: Set = ["health_check_protocol", "health_check_path", "health_check_interval", "healthy_threshold", "unhealthy_threshold"]
        if !changed.isDisjoint(with: health) { try await elb.call("ModifyTargetGroup", [("TargetGroupArn", arn)] + (try healthCheck(resource))) }
        if changed.contains("deregistration_delay") { try await setDelay(resource, arn: arn, elb: elb) }
        if changed.contains("foreign_targets") {
            let foreign = recorded.attributes["foreign_targets"]?.listValue?.compactMap(\.stringValue) ?? []
            if !foreign.isEmpty {
                try await elb.call("DeregisterTargets", [("TargetGroupArn", arn)]
                    + foreign.enumerated().map { ("Targets.member.\($0.offset + 1).Id", $0.element) })
            }
        }
        if changed.contains("tags") { try await elb.syncTags(arn, resource, recorded: recorded) }
        return ["id": .string(arn), "arn": .string(arn)]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let arn = try recorded.requireID()
        // a listener being deleted may still hold the group for a moment
        try await waitUntil("target group \(arn) to be deletable", timeout: 300, interval: 5) {
            do {
                try await ELBv2Support(context).call("DeleteTargetGroup", [("TargetGroupArn", arn)])
                return true
            } catch let error as AWSError where ELBv2Support.isGone(error) {
                return true
            } catch let error as AWSError where error.code == "ResourceInUse" {
                return false
            }
        }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let elb = ELBv2Support(context)
        guard let arn = try await elb.owned("DescribeTargetGroups", list: "TargetGroups", arnField: "TargetGroupArn",
                                            name: try resource.require("name"), address: resource.address) else { return nil }
        try await context.recordID(arn)
        try await setDelay(resource, arn: arn, elb: elb)
        return ["id": .string(arn), "arn": .string(arn)]
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let elb = ELBv2Support(context)
        return try await elb.read(resources, callsEach: 2) { arn in
            let answer = try await elb.call("DescribeTargetGroups", QueryService.members("TargetGroupArns", [arn]))
            guard let group = QueryService.list(answer, "TargetGroups").first else { return nil }
            let attributes = ELBv2Support.attributes(try await elb.call("DescribeTargetGroupAttributes", [("TargetGroupArn", arn)]))
            func int(_ name: String) -> Value { group.child(name).flatMap { Int($0.text) }.map(Value.int) ?? .null }
            return [
                "name": .string(group.child("TargetGroupName")?.text ?? ""), "arn": .string(arn),
                "protocol": .string(group.child("Protocol")?.text ?? ""), "port": int("Port"),
                "vpc_id": .string(group.child("VpcId")?.text ?? ""),
                "health_check_protocol": .string(group.child("HealthCheckProtocol")?.text ?? ""),
                "health_check_path": group.child("HealthCheckPath").map { .string($0.text) } ?? .null,
                "health_check_interval": int("HealthCheckIntervalSeconds"),
                "healthy_threshold": int("HealthyThresholdCount"), "unhealthy_threshold": int("UnhealthyThresholdCount"),
                "deregistration_delay": attributes["deregistration_delay.timeout_seconds"].flatMap { Int($0) }.map(Value.int) ?? .null,
                "foreign_targets": .list(try await foreignTargets(arn, elb: elb, context: context).map(Value.string)),
            ]
        }
    }

    /// The targets of `arn`, not on their way out, that no Auto Scaling group serving it launched.
    private func foreignTargets(_ arn: String, elb: ELBv2Support, context: HandlerContext) async throws -> [String] {
        let health = try await elb.call("DescribeTargetHealth", [("TargetGroupArn", arn)])
        let registered = QueryService.list(health, "TargetHealthDescriptions").filter {
            $0.child("TargetHealth")?.child("State")?.text != "draining"
        }.compactMap { $0.child("Target")?.child("Id")?.text }
        guard !registered.isEmpty else { return [] }
        var launched: Set<String> = []
        var token: String?
        repeat {
            let page = try await AutoScalingGroupHandler.service(context).call("DescribeAutoScalingGroups", token.map { [("NextToken", $0)] } ?? [])
            for group in QueryService.list(page, "AutoScalingGroups")
            where QueryService.list(group, "TargetGroupARNs").contains(where: { $0.text == arn }) {
                launched.formUnion(QueryService.list(group, "Instances").compactMap { $0.child("InstanceId")?.text })
            }
            token = page.child("NextToken")?.text
            if token?.isEmpty == true { token = nil }
        } while token != nil
        return registered.filter { !launched.contains($0) }.sorted()
    }
}
