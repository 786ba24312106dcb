import AWS
import Plan
import Stack

/// `aws.ec2.flow_log`: every connection in the VPC recorded to the log group. Immutable: changes replace it.
struct FlowLogHandler: ResourceHandler {
    let type = "aws.ec2.flow_log"
    let actions = HandlerActions(create: ["ec2:CreateFlowLogs", "ec2:CreateTags", "logs:CreateLogDelivery"],
                                 read: ["ec2:DescribeFlowLogs"], update: ["ec2:CreateTags", "ec2:DeleteTags"],
                                 delete: ["ec2:DeleteFlowLogs", "logs:DeleteLogDelivery"], passesRole: true)

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let ec2 = EC2Support(context)
        var parameters = [("ResourceId.1", try resource.require("resource_id")), ("ResourceType", try resource.require("resource_type")),
                          ("TrafficType", try resource.require("traffic_type")),
                          ("LogDestinationType", try resource.require("log_destination_type")),
                          ("LogDestination", try resource.require("log_destination")), ("ClientToken", token)]
        if let role = resource.string("deliver_logs_permission_arn") { parameters.append(("DeliverLogsPermissionArn", role)) }
        parameters.append(("MaxAggregationInterval", String(try resource.requireInt("max_aggregation_interval"))))
        let answer = try await ec2.call("CreateFlowLogs", parameters + EC2Support.tagSpecification("vpc-flow-log", resource.tags))
        if let failure = answer.child("unsuccessful")?.child("item")?.child("error")?.child("message")?.text {
            throw ProvisionError("CreateFlowLogs failed: \(failure)")
        }
        guard let id = answer.child("flowLogIdSet")?.child("item")?.text else { throw ProvisionError("CreateFlowLogs returned no id") }
        try await context.recordID(id)
        return ["id": .string(id)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let id = try recorded.requireID()
        if changed.contains("tags") { try await EC2Support(context).syncTags(id, from: recorded.attributes["tags"], to: resource.tags) }
        return ["id": .string(id)]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let ec2 = EC2Support(context)
        let id = try recorded.requireID()
        try await ec2.deleting(.flowLog, id) { _ = try await ec2.call("DeleteFlowLogs", [("FlowLogId.1", id)]) }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let (items, _) = try await EC2Support(context).describeTagged("DescribeFlowLogs", address: resource.address,
                                                                      items: EC2Support.set("flowLogSet"))
        return items.first?.child("flowLogId").map { ["id": .string($0.text)] }
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        try await EC2Support(context).read(resources, action: "DescribeFlowLogs", idName: "flowLogId",
                                           items: EC2Support.set("flowLogSet")) { item in
            let resource = item.child("resourceId")?.text ?? ""
            // DescribeFlowLogs does not say what kind of resource it watches; its id does
            let kind = [("vpc-", "VPC"), ("subnet-", "Subnet"), ("eni-", "NetworkInterface")].first { resource.hasPrefix($0.0) }?.1
            return EC2Attributes.compact(["resource_id": EC2Attributes.text(item, "resourceId"), "resource_type": kind.map(Value.string),
                                          "traffic_type": EC2Attributes.text(item, "trafficType"),
                                          "log_destination_type": EC2Attributes.text(item, "logDestinationType"),
                                          "log_destination": EC2Attributes.text(item, "logDestination"),
                                          "deliver_logs_permission_arn": EC2Attributes.text(item, "deliverLogsPermissionArn") ?? .null,
                                          "max_aggregation_interval": EC2Attributes.int(item, "maxAggregationInterval")])
        }
    }
}
