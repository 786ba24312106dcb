import AWS
import Plan
import Stack

/// `aws.elbv2.load_balancer`: the fleet's internal Network Load Balancer, in the private subnets, with cross-zone
/// balancing, deletion protection and access logs to the stack's log bucket as the template says.
struct LoadBalancerHandler: ResourceHandler {
    let type = "aws.elbv2.load_balancer"
    let actions = HandlerActions(
        create: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DescribeLoadBalancers",
                 "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:AddTags", "iam:CreateServiceLinkedRole"],
        read: ["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
               "elasticloadbalancing:DescribeTags"],
        update: ["elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:SetSecurityGroups",
                 "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        delete: ["elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes",
                 "elasticloadbalancing:DescribeLoadBalancers"])

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let elb = ELBv2Support(context)
        let name = try resource.require("name")
        // CreateLoadBalancer answers with the existing one when it is called again with the same settings
        let answer = try await elb.call("CreateLoadBalancer", [
            ("Name", name), ("Type", try resource.require("type")), ("Scheme", try resource.require("scheme")), ("IpAddressType", "ipv4")]
            + QueryService.members("Subnets", resource.strings("subnet_ids"))
            + QueryService.members("SecurityGroups", resource.strings("security_group_ids"))
            + QueryService.tags("Tags", resource.tags))
        guard let balancer = QueryService.list(answer, "LoadBalancers").first, let arn = balancer.child("LoadBalancerArn")?.text else {
            throw ProvisionError("CreateLoadBalancer returned no LoadBalancerArn")
        }
        try await context.recordID(arn)
        try await modify(resource, arn: arn, elb: elb)
        return try await active(arn, elb: elb)
    }

    /// The attributes the stack sets, all at once.
    private func modify(_ resource: DesiredResource, arn: String, elb: ELBv2Support) async throws {
        var attributes = [("load_balancing.cross_zone.enabled", String(try resource.requireBool("cross_zone"))),
                          ("deletion_protection.enabled", String(try resource.requireBool("deletion_protection")))]
        if let bucket = resource.string("access_logs_bucket") {
            attributes += [("access_logs.s3.enabled", "true"), ("access_logs.s3.bucket", bucket),
                           ("access_logs.s3.prefix", try resource.requireString("access_logs_prefix"))]
        } else {
            attributes.append(("access_logs.s3.enabled", "false"))
        }
        try await elb.call("ModifyLoadBalancerAttributes", [("LoadBalancerArn", arn)] + ELBv2Support.attributeParameters(attributes))
    }

    private func describe(_ arn: String, elb: ELBv2Support) async throws -> XMLNode? {
        do {
            return QueryService.list(try await elb.call("DescribeLoadBalancers", QueryService.members("LoadBalancerArns", [arn])), "LoadBalancers").first
        } catch let error as AWSError where ELBv2Support.isGone(error) {
            return nil
        }
    }

    /// Waits for the balancer to leave `provisioning`; its DNS name and zone.
    private func active(_ arn: String, elb: ELBv2Support) async throws -> [String: Value] {
        var found: XMLNode?
        try await waitUntil("load balancer \(arn) to be active", timeout: 900, interval: 10) {
            found = try await describe(arn, elb: elb)
            let state = found?.child("State")?.child("Code")?.text
            if state == "failed" { throw ProvisionError("load balancer \(arn) failed to provision") }
            return state == "active"
        }
        return ["id": .string(arn), "arn": .string(arn), "dns_name": .string(found?.child("DNSName")?.text ?? ""),
                "zone_id": .string(found?.child("CanonicalHostedZoneId")?.text ?? "")]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let elb = ELBv2Support(context)
        let arn = try recorded.requireID()
        if changed.contains("subnet_ids") {
            try await elb.call("SetSubnets", [("LoadBalancerArn", arn)] + QueryService.members("Subnets", resource.strings("subnet_ids")))
        }
        if changed.contains("security_group_ids") {
            try await elb.call("SetSecurityGroups", [("LoadBalancerArn", arn)]
                + QueryService.members("SecurityGroups", resource.strings("security_group_ids")))
        }
        if !changed.isDisjoint(with: ["cross_zone", "deletion_protection", "access_logs_bucket", "access_logs_prefix"]) {
            try await modify(resource, arn: arn, elb: elb)
        }
        if changed.contains("tags") { try await elb.syncTags(arn, resource, recorded: recorded) }
        return try await active(arn, elb: elb)
    }

    func deletionBlocker(_ recorded: ResourceState, context: HandlerContext) async throws -> String? {
        guard !context.force, let arn = recorded.id else { return nil }
        let attributes = try await ELBv2Support(context).call("DescribeLoadBalancerAttributes", [("LoadBalancerArn", arn)])
        return ELBv2Support.attributes(attributes)["deletion_protection.enabled"] == "true"
            ? "deletion protection is on: apply deletion_protection false first (destroy --force turns it off itself)" : nil
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let elb = ELBv2Support(context)
        let arn = try recorded.requireID()
        guard try await describe(arn, elb: elb) != nil else { return }
        if context.force {
            try await elb.call("ModifyLoadBalancerAttributes",
                               [("LoadBalancerArn", arn)] + ELBv2Support.attributeParameters([("deletion_protection.enabled", "false")]))
        }
        try await elb.call("DeleteLoadBalancer", [("LoadBalancerArn", arn)])
        try await waitUntil("load balancer \(arn) to be deleted", timeout: 600, interval: 5) { try await describe(arn, elb: elb) == nil }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let elb = ELBv2Support(context)
        guard let arn = try await elb.owned("DescribeLoadBalancers", list: "LoadBalancers", arnField: "LoadBalancerArn",
                                            name: try resource.require("name"), address: resource.address) else { return nil }
        try await context.recordID(arn)
        try await modify(resource, arn: arn, elb: elb)
        return try await active(arn, elb: elb)
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let elb = ELBv2Support(context)
        return try await elb.read(resources, callsEach: 2) { arn in
            guard let balancer = try await describe(arn, elb: elb) else { return nil }
            let attributes = ELBv2Support.attributes(try await elb.call("DescribeLoadBalancerAttributes", [("LoadBalancerArn", arn)]))
            let logging = attributes["access_logs.s3.enabled"] == "true"
            return [
                "name": .string(balancer.child("LoadBalancerName")?.text ?? ""), "arn": .string(arn),
                "type": .string(balancer.child("Type")?.text ?? ""), "scheme": .string(balancer.child("Scheme")?.text ?? ""),
                "subnet_ids": .list(QueryService.list(balancer, "AvailabilityZones").compactMap { $0.child("SubnetId").map { .string($0.text) } }),
                "security_group_ids": .list(QueryService.list(balancer, "SecurityGroups").map { .string($0.text) }),
                "dns_name": .string(balancer.child("DNSName")?.text ?? ""),
                "zone_id": .string(balancer.child("CanonicalHostedZoneId")?.text ?? ""),
                "cross_zone": .bool(attributes["load_balancing.cross_zone.enabled"] == "true"),
                "deletion_protection": .bool(attributes["deletion_protection.enabled"] == "true"),
                "access_logs_bucket": logging ? .string(attributes["access_logs.s3.bucket"] ?? "") : .null,
                "access_logs_prefix": .string(logging ? attributes["access_logs.s3.prefix"] ?? "" : ""),
            ]
        }
    }
}
