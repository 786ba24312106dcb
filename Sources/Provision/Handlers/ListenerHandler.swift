import AWS
import Plan
import Stack

/// `aws.elbv2.listener`: where clients connect. TLS, ended at the load balancer with the stack's certificate and
/// a TLS 1.3/1.2 policy, and forwarded to the target group (which speaks TLS again to each node: the hop inside the
/// VPC is encrypted too).
struct ListenerHandler: ResourceHandler {
    let type = "aws.elbv2.listener"
    let actions = HandlerActions(
        create: ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:AddTags"],
        read: ["elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTags"],
        update: ["elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        delete: ["elasticloadbalancing:DeleteListener"])

    private func settings(_ resource: DesiredResource) throws -> [(String, String)] {
        let protocolName = try resource.require("protocol")
        var parameters = [("Port", String(try resource.requireInt("port"))), ("Protocol", protocolName),
                          ("DefaultActions.member.1.Type", "forward"),
                          ("DefaultActions.member.1.TargetGroupArn", try resource.require("target_group_arn"))]
        if protocolName == "TLS" {
            // the schema's consistency check has refused a TLS listener without one at plan time
            parameters += [("SslPolicy", try resource.require("ssl_policy")),
                           ("Certificates.member.1.CertificateArn", try resource.require("certificate_arn"))]
        }
        return parameters
    }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let elb = ELBv2Support(context)
        // CreateListener answers with the existing listener when called again with the same settings
        let answer = try await elb.call("CreateListener", [("LoadBalancerArn", try resource.require("load_balancer_arn"))]
            + (try settings(resource)) + QueryService.tags("Tags", resource.tags))
        guard let arn = QueryService.list(answer, "Listeners").first?.child("ListenerArn")?.text else {
            throw ProvisionError("CreateListener returned no ListenerArn")
        }
        try await context.recordID(arn)
        return ["id": .string(arn), "arn": .string(arn)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let elb = ELBv2Support(context)
        let arn = try recorded.requireID()
        if !changed.subtracting(["tags"]).isEmpty { try await elb.call("ModifyListener", [("ListenerArn", arn)] + (try settings(resource))) }
        if changed.contains("tags") { try await elb.syncTags(arn, resource, recorded: recorded) }
        return ["id": .string(arn), "arn": .string(arn)]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        do {
            try await ELBv2Support(context).call("DeleteListener", [("ListenerArn", try recorded.requireID())])
        } catch let error as AWSError where ELBv2Support.isGone(error) {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let elb = ELBv2Support(context)
        let answer: XMLNode
        do {
            answer = try await elb.call("DescribeListeners", [("LoadBalancerArn", try resource.require("load_balancer_arn"))])
        } catch let error as AWSError where ELBv2Support.isGone(error) {
            return nil
        }
        let port = String(try resource.requireInt("port"))
        guard let arn = QueryService.list(answer, "Listeners").first(where: { $0.child("Port")?.text == port })?.child("ListenerArn")?.text
        else { return nil }
        try await context.recordID(arn)
        return ["id": .string(arn), "arn": .string(arn)]
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let elb = ELBv2Support(context)
        return try await elb.read(resources, callsEach: 1) { arn in
            let answer = try await elb.call("DescribeListeners", QueryService.members("ListenerArns", [arn]))
            guard let listener = QueryService.list(answer, "Listeners").first else { return nil }
            let forward = QueryService.list(listener, "DefaultActions").first { $0.child("Type")?.text == "forward" }
            return [
                "arn": .string(arn), "load_balancer_arn": .string(listener.child("LoadBalancerArn")?.text ?? ""),
                "port": listener.child("Port").flatMap { Int($0.text) }.map(Value.int) ?? .null,
                "protocol": .string(listener.child("Protocol")?.text ?? ""),
                "ssl_policy": listener.child("SslPolicy").map { .string($0.text) } ?? .null,
                "certificate_arn": QueryService.list(listener, "Certificates").first?.child("CertificateArn").map { .string($0.text) } ?? .null,
                "target_group_arn": forward?.child("TargetGroupArn").map { .string($0.text) } ?? .null,
            ]
        }
    }
}
