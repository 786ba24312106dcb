import Foundation

/// The resource types of an inference fleet: the launch template its nodes boot from, the Auto Scaling group and
/// its target-tracking policy, and the internal Network Load Balancer in front (target group, TLS listener, and the
/// certificate the listener presents).
enum FleetResourceTypes {
    /// A TLS policy that offers TLS 1.3 and 1.2 only, with forward-secret ciphers.
    static let modernTLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

    /// Elastic Load Balancing's rule for load balancer and target group names.
    static let balancerName = (expression: "[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?",
                               says: "1 to 32 letters, digits and hyphens, not starting or ending with a hyphen")

    /// A group's sizes in order: min <= desired <= max.
    static let groupSizes: @Sendable ([String: Value]) -> (property: String, message: String)? = { properties in
        guard let minimum = properties["min_size"]?.intValue, let maximum = properties["max_size"]?.intValue,
              let desired = properties["desired_capacity"]?.intValue else { return nil }
        if minimum > maximum { return ("min_size", "min_size \(minimum) is more than max_size \(maximum)") }
        if desired < minimum || desired > maximum {
            return ("desired_capacity", "desired_capacity \(desired) is outside min_size \(minimum) to max_size \(maximum)")
        }
        return nil
    }

    static func all(node: [String: AttributeSchema]) -> [ResourceSchema] {
        // what a node is launched with, as the instance type has it; a launch template changes all of it in place,
        // as a new version
        var launch = node.filter { $0.key != "subnet_id" }
        for name in launch.keys { launch[name]?.forcesReplacement = false }
        launch["name"] = .init(.string, required: true, replace: true,
                               pattern: (expression: "[A-Za-z0-9()./_-]{3,128}", says: "3 to 128 letters, digits and ( ) . / _ -"))
        return [
            ResourceSchema("aws.ec2.launch_template", computed: ["id", "arn", "default_version"], changedByUpdate: ["default_version"], launch),
            ResourceSchema("aws.autoscaling.group", computed: ["id", "arn"], consistency: groupSizes, [
                "name": .init(.string, required: true, replace: true),
                "min_size": .init(.int, required: true, range: 0...1000),
                "max_size": .init(.int, required: true, range: 1...1000),
                // the capacity a create starts with and a change in the stack sets; what scaling sets meanwhile is
                // the group's own business, not drift (it is not read back)
                "desired_capacity": .init(.int, required: true, range: 0...1000),
                "subnet_ids": .init(.stringList, required: true, unordered: true),
                "launch_template_id": .init(.string, required: true, replace: true),
                "launch_template_version": .init(.string, required: true),
                // more than one: a mixed-instances policy, tried in this order
                "instance_types": .init(.stringList, default: .list([])),
                "health_check_type": .init(.string, allowed: ["EC2", "ELB"], default: .string("ELB")),
                "health_check_grace_period": .init(.int, range: 0...7200, default: .int(300)),
                "target_group_arns": .init(.stringList, default: .list([]), unordered: true),
                "termination_policies": .init(.stringList, default: .list([.string("Default")])),
                // a terminating node waits this long (its lifecycle hook) so that its streams can finish; 0: no hook
                "drain_seconds": .init(.int, range: 0...7200, default: .int(0)),
                "warm_pool_state": .init(.string, allowed: ["Stopped", "Hibernated", "Running"]),
                "warm_pool_min_size": .init(.int, range: 0...1000, default: .int(0)),
                "refresh_min_healthy_percentage": .init(.int, range: 0...100, default: .int(90)),
                "refresh_instance_warmup": .init(.int, range: 0...7200, default: .int(300)),
            ]),
            ResourceSchema("aws.autoscaling.policy", taggable: false, computed: ["id", "arn"], [
                "name": .init(.string, required: true, replace: true),
                "group_name": .init(.string, required: true, replace: true),
                "metric_name": .init(.string, required: true),
                "metric_namespace": .init(.string, required: true),
                "statistic": .init(.string, allowed: ["Average", "Minimum", "Maximum", "Sum", "SampleCount"], default: .string("Average")),
                "target_value": .init(.int, required: true, range: 1...1_000_000),
                "disable_scale_in": .init(.bool, default: .bool(false)),
                "estimated_instance_warmup": .init(.int, range: 0...7200, default: .int(300)),
            ]),
            ResourceSchema("aws.elbv2.load_balancer", computed: ["id", "arn", "dns_name", "zone_id"], [
                "name": .init(.string, required: true, replace: true, pattern: balancerName),
                "type": .init(.string, replace: true, allowed: ["network"], default: .string("network")),
                "scheme": .init(.string, replace: true, allowed: ["internal", "internet-facing"], default: .string("internal")),
                // changed in place (SetSubnets, SetSecurityGroups): a replacement would give the fleet a new address
                "subnet_ids": .init(.stringList, required: true, unordered: true),
                "security_group_ids": .init(.stringList, default: .list([]), unordered: true),
                "cross_zone": .init(.bool, default: .bool(false)),
                "deletion_protection": .init(.bool, default: .bool(false)),
                "access_logs_bucket": .init(.string),
                "access_logs_prefix": .init(.string, default: .string("")),
            ]),
            ResourceSchema("aws.elbv2.target_group", computed: ["id", "arn"], consistency: { properties in
                let checked = properties["health_check_protocol"]?.stringValue ?? "TCP"
                return checked != "TCP" && properties["health_check_path"] == .null
                    ? ("health_check_path", "an \(checked) health check needs health_check_path") : nil
            }, [
                "name": .init(.string, required: true, replace: true, pattern: balancerName),
                "protocol": .init(.string, replace: true, allowed: ["TCP", "TLS"], default: .string("TCP")),
                "port": .init(.int, required: true, replace: true, range: 1...65535),
                "vpc_id": .init(.string, required: true, replace: true),
                "health_check_protocol": .init(.string, allowed: ["TCP", "HTTP", "HTTPS"], default: .string("TCP")),
                "health_check_path": .init(.string),
                "health_check_interval": .init(.int, range: 5...300, default: .int(30)),
                "healthy_threshold": .init(.int, range: 2...10, default: .int(5)),
                "unhealthy_threshold": .init(.int, range: 2...10, default: .int(2)),
                // how long a leaving target keeps its connections: as long as the longest stream
                "deregistration_delay": .init(.int, range: 0...3600, default: .int(300)),
                // targets registered by anything but an Auto Scaling group the target group serves (a machine
                // someone added to receive the fleet's prompts): none, and apply deregisters any found
                "foreign_targets": .init(.stringList, default: .list([]), unordered: true, fixed: true),
            ]),
            ResourceSchema("aws.elbv2.listener", computed: ["id", "arn"], consistency: { properties in
                properties["protocol"] == .string("TLS") && properties["certificate_arn"] == .null
                    ? ("certificate_arn", "a TLS listener needs certificate_arn") : nil
            }, [
                "load_balancer_arn": .init(.string, required: true, replace: true),
                "port": .init(.int, required: true, range: 1...65535),
                "protocol": .init(.string, allowed: ["TCP", "TLS"], default: .string("TLS")),
                "ssl_policy": .init(.string, default: .string(modernTLSPolicy)),
                "certificate_arn": .init(.string),
                "target_group_arn": .init(.string, required: true),
            ]),
            // a certificate imported into ACM from one PEM file holding the certificate, its chain and its private
            // key (the layout HAProxy reads too): the state keeps the file's digest, never its contents
            ResourceSchema("aws.acm.certificate", localFile: "source", computed: ["id", "arn", "domain_name", "not_after"],
                           localFileAttributes: { data throws(EvaluationFailure) in
                               ["certificate_sha256": .string(try PEMBundle(data).certificateDigest)]
                           }, [
                "source": .init(.string, required: true),
            ]),
        ]
    }
}
