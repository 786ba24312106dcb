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
               "elasticloadbalancing:DescribeTags"],
        update: ["elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
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
            guard let path = resource.string("health_check_path") else {
                throw ProvisionError("\(resource.address): an \(protocolName) health check needs health_check_path")
            }
            parameters += [("HealthCheckPath", path), ("Matcher.HttpCode", "200")]
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
        let answer: XMLNode
        do {
            answer = try await elb.call("DescribeTargetGroups", QueryService.members("Names", [try resource.require("name")]))
        } catch let error as AWSError where ELBv2Support.isGone(error) {
            return nil
        }
        guard let arn = QueryService.list(answer, "TargetGroups").first?.child("TargetGroupArn")?.text,
              try await elb.tags([arn]).tags[arn]?.mapValue?[DeployTags.address] == .string(resource.address.description) else { return nil }
        try await context.recordID(arn)
        try await setDelay(resource, arn: arn, elb: elb)
        return ["id": .string(arn), "arn": .string(arn)]
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let elb = ELBv2Support(context)
        var live: [ResourceAddress: [String: Value]] = [:]
        var calls = 0
        for resource in resources {
            guard let arn = resource.id else { continue }
            let group: XMLNode?
            do {
                group = QueryService.list(try await elb.call("DescribeTargetGroups", QueryService.members("TargetGroupArns", [arn])), "TargetGroups").first
            } catch let error as AWSError where ELBv2Support.isGone(error) {
                group = nil
            }
            calls += 1
            guard let group else { continue }
            let attributes = ELBv2Support.attributes(try await elb.call("DescribeTargetGroupAttributes", [("TargetGroupArn", arn)]))
            calls += 1
            func int(_ name: String) -> Value { group.child(name).flatMap { Int($0.text) }.map(Value.int) ?? .null }
            live[resource.address] = [
                "name": .string(group.child("TargetGroupName")?.text ?? ""), "arn": .string(arn),
                "protocol": .string(group.child("Protocol")?.text ?? ""), "port": int("Port"),
                "vpc_id": .string(group.child("VpcId")?.text ?? ""),
                "health_check_protocol": .string(group.child("HealthCheckProtocol")?.text ?? ""),
                "health_check_path": group.child("HealthCheckPath").map { .string($0.text) } ?? .null,
                "health_check_interval": int("HealthCheckIntervalSeconds"),
                "healthy_threshold": int("HealthyThresholdCount"), "unhealthy_threshold": int("UnhealthyThresholdCount"),
                "deregistration_delay": attributes["deregistration_delay.timeout_seconds"].flatMap { Int($0) }.map(Value.int) ?? .null,
            ]
        }
        let arns = live.values.compactMap { $0["arn"]?.stringValue }
        if !arns.isEmpty {
            let (tags, tagCalls) = try await elb.tags(arns)
            calls += tagCalls
            for (address, attributes) in live { live[address]?["tags"] = tags[attributes["arn"]?.stringValue ?? ""] ?? .map([:]) }
        }
        return ReadResult(live: live, apiCalls: calls)
    }
}
