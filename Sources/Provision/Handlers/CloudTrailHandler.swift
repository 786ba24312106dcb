import AWS
import Plan
import Stack

/// `aws.cloudtrail.trail`: every API call in the account recorded to the audit bucket, encrypted with the stack's key,
/// with log file validation; logging is started after create.
struct CloudTrailHandler: ResourceHandler {
    let type = "aws.cloudtrail.trail"
    let actions = HandlerActions(
        create: ["cloudtrail:CreateTrail", "cloudtrail:StartLogging", "cloudtrail:AddTags", "cloudtrail:GetTrail",
                 "cloudtrail:PutEventSelectors"],
        read: ["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:ListTags", "cloudtrail:GetEventSelectors"],
        update: ["cloudtrail:UpdateTrail", "cloudtrail:StartLogging", "cloudtrail:StopLogging", "cloudtrail:AddTags",
                 "cloudtrail:RemoveTags", "cloudtrail:PutEventSelectors"],
        delete: ["cloudtrail:DeleteTrail"])

    private func cloudtrail(_ context: HandlerContext) -> JSONService { JSONService(client: context.client, service: .cloudtrail) }

    private func settings(_ resource: DesiredResource) throws -> [String: JSONValue] {
        var input: [String: JSONValue] = ["Name": .string(try resource.require("name")),
                                          "S3BucketName": .string(try resource.require("s3_bucket_name")),
                                          "IsMultiRegionTrail": .bool(try resource.requireBool("is_multi_region_trail")),
                                          "IncludeGlobalServiceEvents": .bool(try resource.requireBool("include_global_service_events")),
                                          "EnableLogFileValidation": .bool(try resource.requireBool("enable_log_file_validation"))]
        // on an update, an empty value takes a prefix or key away (a left-out one would keep it)
        input["S3KeyPrefix"] = Self.orEmpty(resource.string("s3_key_prefix"))
        input["KmsKeyId"] = Self.orEmpty(resource.string("kms_key_id"))
        return input
    }

    private static func orEmpty(_ text: String?) -> JSONValue {
        .string(text ?? "")
    }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        var input = try settings(resource).filter { $0.value != .string("") }
        input["TagsList"] = JSONService.tagList(resource.tags)
        let answer = try await cloudtrail(context).call("CreateTrail", input)
        let name = try resource.require("name")
        try await context.recordID(name)
        // a new trail records every management event
        if try resource.requireString("management_events") != "All" { try await putSelectors(resource, name: name, context: context) }
        if try resource.requireBool("enable_logging") { try await cloudtrail(context).call("StartLogging", ["Name": .string(name)]) }
        return ["id": .string(name), "arn": .string(answer["TrailARN"]?.stringValue ?? "")]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let name = try recorded.requireID()
        let service = cloudtrail(context)
        let arn = recorded.attributes["arn"]?.stringValue ?? ""
        if !changed.subtracting(["tags", "enable_logging"]).isEmpty { try await service.call("UpdateTrail", try settings(resource)) }
        if changed.contains("management_events") { try await putSelectors(resource, name: name, context: context) }
        if changed.contains("enable_logging") {
            try await service.call(try resource.requireBool("enable_logging") ? "StartLogging" : "StopLogging", ["Name": .string(name)])
        }
        if changed.contains("tags") {
            let removed = resource.removedTagKeys(since: recorded)
            if !removed.isEmpty {
                try await service.call("RemoveTags", ["ResourceId": .string(arn), "TagsList": .array(removed.map { ["Key": .string($0)] })])
            }
            try await service.call("AddTags", ["ResourceId": .string(arn), "TagsList": JSONService.tagList(resource.tags)])
        }
        return ["id": .string(name), "arn": .string(arn)]
    }

    /// One basic event selector with the management events wanted, replacing any other selectors (advanced ones too).
    private func putSelectors(_ resource: DesiredResource, name: String, context: HandlerContext) async throws {
        let events = try resource.requireString("management_events")
        let selector: JSONValue = ["ReadWriteType": .string(events == "None" ? "All" : events), "IncludeManagementEvents": .bool(events != "None")]
        try await cloudtrail(context).call("PutEventSelectors", ["TrailName": .string(name), "EventSelectors": .array([selector])])
    }

    /// Which management events the selectors record: All, ReadOnly, WriteOnly or None; `advanced` for advanced
    /// selectors, which deploy does not write (so they are drift).
    static func managementEvents(_ answer: JSONValue) -> String {
        if !(answer["AdvancedEventSelectors"]?.arrayValue ?? []).isEmpty { return "advanced" }
        // a trail without event selectors records every management event (CloudTrail's default)
        guard let selectors = answer["EventSelectors"]?.arrayValue, !selectors.isEmpty else { return "All" }
        let kinds = Set(selectors.filter { $0["IncludeManagementEvents"]?.boolValue != false }
            .map { $0["ReadWriteType"]?.stringValue ?? "All" })
        if kinds.contains("All") || kinds.isSuperset(of: ["ReadOnly", "WriteOnly"]) { return "All" }
        return kinds.first ?? "None"
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        do {
            try await cloudtrail(context).call("DeleteTrail", ["Name": .string(try recorded.requireID())])
        } catch let error as AWSError where error.isNotFound {}
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        let name = try resource.require("name")
        let trails = try await cloudtrail(context).call("DescribeTrails", ["trailNameList": [.string(name)]])["trailList"]?.arrayValue ?? []
        guard let trail = trails.first(where: { $0["Name"]?.stringValue == name }) else { return nil }
        try await context.recordID(name)
        if try resource.requireBool("enable_logging") { try await cloudtrail(context).call("StartLogging", ["Name": .string(name)]) }
        return ["id": .string(name), "arn": .string(trail["TrailARN"]?.stringValue ?? "")]
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        let service = cloudtrail(context)
        let names = resources.compactMap(\.id)
        let trails = try await service.call("DescribeTrails", ["trailNameList": .array(names.map(JSONValue.string))])["trailList"]?.arrayValue ?? []
        var calls = 1
        var live: [ResourceAddress: [String: Value]] = [:]
        for resource in resources {
            guard let trail = trails.first(where: { $0["Name"]?.stringValue == resource.id }), let name = resource.id else { continue }
            let status = try await service.call("GetTrailStatus", ["Name": .string(name)])
            calls += 1
            var attributes: [String: Value] = [
                "name": .string(name), "arn": .string(trail["TrailARN"]?.stringValue ?? ""),
                "s3_bucket_name": .string(trail["S3BucketName"]?.stringValue ?? ""),
                "is_multi_region_trail": .bool(trail["IsMultiRegionTrail"]?.boolValue ?? false),
                "include_global_service_events": .bool(trail["IncludeGlobalServiceEvents"]?.boolValue ?? false),
                "enable_log_file_validation": .bool(trail["LogFileValidationEnabled"]?.boolValue ?? false),
                "enable_logging": .bool(status["IsLogging"]?.boolValue ?? false)]
            // no key is no encryption, never the state's memory of one
            attributes["kms_key_id"] = trail["KmsKeyId"]?.stringValue.flatMap { $0.isEmpty ? nil : Value.string($0) } ?? .null
            attributes["s3_key_prefix"] = trail["S3KeyPrefix"]?.stringValue.flatMap { $0.isEmpty ? nil : Value.string($0) } ?? .null
            let arn = trail["TrailARN"]?.stringValue ?? ""
            let tags = try await service.call("ListTags", ["ResourceIdList": .array([.string(arn)])])
            calls += 1
            let list = tags["ResourceTagList"]?.arrayValue.first { $0["ResourceId"]?.stringValue == arn }?["TagsList"]
            attributes["tags"] = JSONService.tags(list)
            let selectors = try await service.call("GetEventSelectors", ["TrailName": .string(name)])
            calls += 1
            attributes["management_events"] = .string(Self.managementEvents(selectors))
            live[resource.address] = attributes
        }
        return ReadResult(live: live, apiCalls: calls)
    }
}
