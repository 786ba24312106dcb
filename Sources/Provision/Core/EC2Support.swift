import AWS
import Plan
import Stack

/// What every EC2 handler shares: calls, tag specifications, tag sync, and finds by deploy's tags.
struct EC2Support: Sendable {
    let ec2: EC2
    let context: HandlerContext

    init(_ context: HandlerContext) {
        ec2 = EC2(client: context.client)
        self.context = context
    }

    func call(_ action: String, _ parameters: [(String, String)] = []) async throws -> XMLNode {
        try await ec2.client.query(.ec2, action: action, parameters: parameters)
    }

    /// `Prefix.1=a&Prefix.2=b`
    static func list(_ prefix: String, _ values: [String]) -> [(String, String)] {
        values.enumerated().map { ("\(prefix).\($0.offset + 1)", $0.element) }
    }

    /// Tags applied atomically with the create, so a resource never exists untagged.
    static func tagSpecification(_ resourceType: String, _ tags: [String: String], index: Int = 1) -> [(String, String)] {
        var parameters = [("TagSpecification.\(index).ResourceType", resourceType)]
        for (position, key) in tags.keys.sorted().enumerated() {
            parameters.append(("TagSpecification.\(index).Tag.\(position + 1).Key", key))
            parameters.append(("TagSpecification.\(index).Tag.\(position + 1).Value", tags[key] ?? ""))
        }
        return parameters
    }

    static func filters(_ filters: [(String, [String])]) -> [(String, String)] {
        var parameters: [(String, String)] = []
        for (position, filter) in filters.enumerated() {
            parameters.append(("Filter.\(position + 1).Name", filter.0))
            parameters += list("Filter.\(position + 1).Value", filter.1)
        }
        return parameters
    }

    /// Brings an existing resource's tags to `desired`: CreateTags for all of them (the recorded tags may be stale
    /// when the plan found drift), DeleteTags for those recorded but no longer wanted.
    func syncTags(_ id: String, from recorded: Value?, to desired: [String: String]) async throws {
        let current = recorded?.mapValue?.compactMapValues(\.stringValue) ?? [:]
        let changed = desired
        if !changed.isEmpty {
            var parameters = [("ResourceId.1", id)]
            for (position, key) in changed.keys.sorted().enumerated() {
                parameters += [("Tag.\(position + 1).Key", key), ("Tag.\(position + 1).Value", changed[key] ?? "")]
            }
            _ = try await call("CreateTags", parameters)
        }
        let removed = current.keys.filter { desired[$0] == nil }.sorted()
        if !removed.isEmpty {
            _ = try await call("DeleteTags", [("ResourceId.1", id)] + removed.enumerated().map { ("Tag.\($0.offset + 1).Key", $0.element) })
        }
    }

    /// Items of a Describe action that carry this stack's tag and, when given, an address tag. The address is
    /// matched here rather than in a filter: filter values are patterns to some endpoints, and `[1]` is not literal there.
    func describeTagged(_ action: String, address: ResourceAddress? = nil,
                        items: (XMLNode) -> [XMLNode]) async throws -> (items: [XMLNode], calls: Int) {
        let (found, calls) = try await ec2.describeTagged(action, tagKey: DeployTags.stack, tagValue: context.stack.name, items: items)
        guard let address else { return (found, calls) }
        return (found.filter { EC2Attributes.tags($0).mapValue?[DeployTags.address] == .string(address.description) }, calls)
    }

    /// An ARN in this stack's partition, region and account.
    func arn(_ resource: String) -> Value {
        .string("arn:\(context.partition):ec2:\(context.stack.region):\(context.stack.account):\(resource)")
    }

    /// Runs the delete of `kind` `id`, treating "already gone" as done and retrying while dependants are still going away.
    func deleting(_ kind: EC2Deletable, _ id: String, _ body: () async throws -> Void) async throws {
        try await waitUntil("\(kind.noun) \(id) to be deletable", timeout: 600, interval: 5) {
            do {
                try await body()
                return true
            } catch let error as AWSError where error.isNotFound {
                return true
            } catch let error as AWSError where kind.stillInUse.contains(error.code) {
                return false
            }
        }
    }

    /// The live view of each recorded resource, read from one tagged Describe per type.
    func read(_ resources: [ResourceState], action: String, idName: String, items: (XMLNode) -> [XMLNode],
              convert: (XMLNode) -> [String: Value]?) async throws -> ReadResult {
        var (found, calls) = try await describeTagged(action, items: items)
        let byID = Dictionary(resources.compactMap { resource in resource.id.map { ($0, resource.address) } }) { first, _ in first }
        // a resource without our tag (imported, or its tag removed by hand) still exists: look once more, untagged,
        // before calling anything gone
        let tagged = Set(found.compactMap { $0.child(idName)?.text })
        if byID.keys.contains(where: { !tagged.contains($0) }) {
            let (all, more) = try await ec2.describeTagged(action, tagKey: nil, tagValue: "", items: items)
            found += all.filter { item in
                guard let id = item.child(idName)?.text else { return false }
                return !tagged.contains(id)
            }
            calls += more
        }
        var live: [ResourceAddress: [String: Value]] = [:]
        for item in found {
            guard let id = item.child(idName)?.text, let address = byID[id], var attributes = convert(item) else { continue }
            attributes["id"] = .string(id)
            attributes["tags"] = EC2Attributes.tags(item)
            live[address] = attributes
        }
        return ReadResult(live: live, apiCalls: calls)
    }

    /// The items of a Describe answer held in `setName`.
    static func set(_ setName: String) -> (XMLNode) -> [XMLNode] {
        { $0.child(setName)?.children("item") ?? [] }
    }
}
