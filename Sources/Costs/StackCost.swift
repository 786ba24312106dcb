import Stack

/// The monthly cost of a stack's base infrastructure, item by item, from its declared resources and the catalog.
public enum StackCost {
    public struct Line: Sendable, Codable, Equatable {
        public var item: String
        public var quantity: String
        public var monthly: Double
    }

    /// Usage the resources' prices depend on but a stack cannot say.
    public struct Usage: Sendable {
        public var bucketGB: Double = 100
        public var tableGB: Double = 1
        public var flowLogGB: Double = 5

        public init() {}
    }

    public static func lines(_ expanded: ExpandedStack, catalog: PriceCatalog, usage: Usage = Usage(), hoursPerMonth: Double) -> [Line] {
        func count(_ type: String) -> Int { expanded.resources.filter { $0.type == type }.count }
        var lines: [Line] = []
        let interfaceAZs = expanded.resources
            .filter { $0.type == "aws.ec2.vpc_endpoint" && $0.properties["vpc_endpoint_type"]?.stringValue == "Interface" }
            .reduce(0) { $0 + ($1.properties["subnet_ids"]?.listValue?.count ?? 0) }
        if interfaceAZs > 0 {
            lines.append(Line(item: "interface endpoints", quantity: "\(interfaceAZs) endpoint-AZs x \(Int(hoursPerMonth)) h",
                              monthly: Double(interfaceAZs) * hoursPerMonth * catalog.infrastructurePrice("interface_endpoint_az_hour")))
        }
        if count("aws.kms.key") > 0 {
            lines.append(Line(item: "KMS keys", quantity: "\(count("aws.kms.key"))",
                              monthly: Double(count("aws.kms.key")) * catalog.infrastructurePrice("kms_key_month")))
        }
        if count("aws.cloudtrail.trail") > 0 {
            lines.append(Line(item: "CloudTrail trails", quantity: "\(count("aws.cloudtrail.trail"))",
                              monthly: Double(count("aws.cloudtrail.trail")) * catalog.infrastructurePrice("cloudtrail_trail_month")))
        }
        if count("aws.s3.bucket") > 0 {
            let gb = Double(count("aws.s3.bucket")) * usage.bucketGB
            lines.append(Line(item: "S3 storage", quantity: "\(count("aws.s3.bucket")) buckets x \(Int(usage.bucketGB)) GB",
                              monthly: gb * catalog.infrastructurePrice("s3_gb_month")))
        }
        if count("aws.dynamodb.table") > 0 {
            lines.append(Line(item: "DynamoDB storage", quantity: "\(count("aws.dynamodb.table")) tables x \(Int(usage.tableGB)) GB",
                              monthly: Double(count("aws.dynamodb.table")) * usage.tableGB * catalog.infrastructurePrice("dynamodb_gb_month")))
        }
        // a fleet's nodes each have the launch template's volume; its fewest nodes are counted, as its fewest instances are
        let fleetGB = fleets(expanded).reduce(0) { $0 + $1.minimum * ($1.template.properties["root_volume_size"]?.intValue ?? 8) }
        let volumeGB = fleetGB + expanded.resources.filter { $0.type == "aws.ec2.instance" }
            .reduce(0) { $0 + ($1.properties["root_volume_size"]?.intValue ?? 8) }
        if volumeGB > 0 {
            lines.append(Line(item: "EBS gp3 volumes", quantity: "\(volumeGB) GB",
                              monthly: Double(volumeGB) * catalog.infrastructurePrice("ebs_gp3_gb_month")))
        }
        if count("aws.elbv2.load_balancer") > 0 {
            // an hour of the balancer and of one load balancer capacity unit (new TLS connections, active flows and bytes,
            // whichever is highest: one is ample for an inference fleet's few long streams)
            let hourly = catalog.infrastructurePrice("nlb_hour") + catalog.infrastructurePrice("nlb_lcu_hour")
            lines.append(Line(item: "network load balancers", quantity: "\(count("aws.elbv2.load_balancer")) x \(Int(hoursPerMonth)) h, 1 LCU",
                              monthly: Double(count("aws.elbv2.load_balancer")) * hoursPerMonth * hourly))
        }
        if count("aws.ec2.flow_log") > 0 {
            lines.append(Line(item: "flow log ingestion", quantity: "\(count("aws.ec2.flow_log")) x \(Int(usage.flowLogGB)) GB",
                              monthly: Double(count("aws.ec2.flow_log")) * usage.flowLogGB * catalog.infrastructurePrice("logs_ingest_gb")))
        }
        return lines
    }

    /// The instance type and node count a stack declares for its inference nodes, if it has any: its single nodes, or
    /// its fleet's launch template type and the fewest nodes the fleet runs (`maximum`: the most it may run).
    public static func nodes(_ expanded: ExpandedStack) -> (type: String, count: Int, maximum: Int?)? {
        if let fleet = fleets(expanded).first, let type = fleet.types.first ?? fleet.template.properties["instance_type"]?.stringValue {
            return (type, max(1, fleet.minimum), fleet.maximum)
        }
        let nodes = expanded.resources.filter { $0.type == "aws.ec2.instance" }
        guard let type = nodes.first?.properties["instance_type"]?.stringValue else { return nil }
        return (type, nodes.count, nil)
    }

    /// Each Auto Scaling group with the launch template it names, and its size bounds.
    /// (`types`: a mixed-instances group's, first preferred; they replace the template's type.)
    static func fleets(_ expanded: ExpandedStack) -> [(template: DesiredResource, types: [String], minimum: Int, maximum: Int)] {
        let templates = expanded.resources.filter { $0.type == "aws.ec2.launch_template" }
        return expanded.resources.filter { $0.type == "aws.autoscaling.group" }.compactMap { group in
            // the group names its template by an id known only after apply: the plan ties them by dependency
            guard let template = templates.first(where: { group.dependencies.contains($0.address) }) ?? templates.first else { return nil }
            return (template, (group.properties["instance_types"]?.listValue ?? []).compactMap(\.stringValue),
                    group.properties["min_size"]?.intValue ?? 0, group.properties["max_size"]?.intValue ?? 0)
        }
    }
}
