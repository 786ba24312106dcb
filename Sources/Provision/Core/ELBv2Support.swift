import AWS
import Plan
import Stack

/// What the load balancer, target group and listener handlers share: the service, tags by ARN, and attributes.
struct ELBv2Support: Sendable {
    let service: QueryService

    init(_ context: HandlerContext) {
        service = QueryService(client: context.client, service: .elbv2)
    }

    @discardableResult
    func call(_ action: String, _ parameters: [(String, String)] = []) async throws -> XMLNode {
        try await service.call(action, parameters)
    }

    /// The tags of each ARN, twenty to a call (DescribeTags' limit).
    func tags(_ arns: [String]) async throws -> (tags: [String: Value], calls: Int) {
        var found: [String: Value] = [:]
        var calls = 0
        for start in stride(from: 0, to: arns.count, by: 20) {
            let answer = try await call("DescribeTags", QueryService.members("ResourceArns", Array(arns[start..<min(start + 20, arns.count)])))
            calls += 1
            for description in QueryService.list(answer, "TagDescriptions") {
                guard let arn = description.child("ResourceArn")?.text else { continue }
                found[arn] = QueryService.tagMap(QueryService.list(description, "Tags"))
            }
        }
        return (found, calls)
    }

    /// The live view of each recorded resource: `describe` reads one by its ARN (nil when it is gone, making
    /// `callsEach` calls), then one DescribeTags for every twenty found adds their tags.
    func read(_ resources: [ResourceState], callsEach: Int,
              _ describe: (String) async throws -> [String: Value]?) async throws -> ReadResult {
        var live: [ResourceAddress: [String: Value]] = [:]
        var calls = 0
        for resource in resources {
            guard let arn = resource.id else { continue }
            calls += callsEach
            do {
                guard let attributes = try await describe(arn) else { continue }
                live[resource.address] = attributes
            } catch let error as AWSError where Self.isGone(error) {
                continue
            }
        }
        let arns = live.values.compactMap { $0["arn"]?.stringValue }
        if !arns.isEmpty {
            let (tags, tagCalls) = try await self.tags(arns)
            calls += tagCalls
            for (address, attributes) in live { live[address]?["tags"] = tags[attributes["arn"]?.stringValue ?? ""] ?? .map([:]) }
        }
        return ReadResult(live: live, apiCalls: calls)
    }

    /// The ARN of what `action` (DescribeLoadBalancers, DescribeTargetGroups) finds by `name`, when it carries the
    /// address tag of `address`: what an interrupted create made, and nothing else of that name.
    func owned(_ action: String, list: String, arnField: String, name: String, address: ResourceAddress) async throws -> String? {
        let answer: XMLNode
        do {
            answer = try await call(action, QueryService.members("Names", [name]))
        } catch let error as AWSError where Self.isGone(error) {
            return nil
        }
        guard let arn = QueryService.list(answer, list).first?.child(arnField)?.text,
              try await tags([arn]).tags[arn]?.mapValue?[DeployTags.address] == .string(address.description) else { return nil }
        return arn
    }

    /// Brings an ARN's tags to `desired`.
    func syncTags(_ arn: String, _ resource: DesiredResource, recorded: ResourceState) async throws {
        let removed = resource.removedTagKeys(since: recorded)
        if !removed.isEmpty { try await call("RemoveTags", QueryService.members("ResourceArns", [arn]) + QueryService.members("TagKeys", removed)) }
        try await call("AddTags", QueryService.members("ResourceArns", [arn]) + QueryService.tags("Tags", resource.tags))
    }

    /// `Key`/`Value` attributes (of a load balancer or a target group), by key.
    static func attributes(_ answer: XMLNode) -> [String: String] {
        Dictionary(QueryService.list(answer, "Attributes").compactMap { member in
            member.child("Key").map { ($0.text, member.child("Value")?.text ?? "") }
        }) { first, _ in first }
    }

    /// `Attributes.member.N.Key` / `.Value`.
    static func attributeParameters(_ attributes: [(String, String)]) -> [(String, String)] {
        attributes.enumerated().flatMap { position, attribute in
            [("Attributes.member.\(position + 1).Key", attribute.0), ("Attributes.member.\(position + 1).Value", attribute.1)]
        }
    }

    /// Whether the error says the load balancer, target group or listener does not exist.
    static func isGone(_ error: AWSError) -> Bool {
        ["LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound"].contains(error.code)
    }
}
