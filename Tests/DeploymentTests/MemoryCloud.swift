import AWS
import Deployment
import Foundation
import Plan
import Provision
import Stack
import Synchronization

/// An account held in memory: what the in-memory handlers create, read, update and delete, and every call they
/// were asked to make, so that a test can say that a gate stopped a run before anything was called.
final class MemoryCloud: Sendable {
    struct Resource: Sendable {
        var address: ResourceAddress
        var type: String
        var token: String
        var attributes: [String: Value]
    }

    private struct Contents {
        var resources: [String: Resource] = [:]
        var removed: [String: Resource] = [:]
        var calls: [String] = []
        var created = 0
        /// Addresses whose next create is made in the account but answered with a lost connection.
        var losesAnswer: Set<ResourceAddress> = []
        var contexts: [(force: Bool, emptyBuckets: Bool)] = []
    }

    private let contents = Mutex(Contents())

    /// Every call, as "create network.vpc", "read aws.ec2.vpc", "update ...", "delete ...", "find ...".
    var calls: [String] { contents.withLock { $0.calls } }
    /// The calls that change something.
    var changes: [String] { calls.filter { !$0.hasPrefix("read ") && !$0.hasPrefix("find ") } }
    var resources: [String: Resource] { contents.withLock { $0.resources } }
    /// The `force` and `emptyBuckets` of every handler context a delete saw.
    var deleteContexts: [(force: Bool, emptyBuckets: Bool)] { contents.withLock { $0.contexts } }

    func id(of address: ResourceAddress) -> String? { resources.first { $0.value.address == address }?.key }

    /// Removes a resource behind deploy's back (`restoreOutOfBand` puts it back).
    func removeOutOfBand(_ address: ResourceAddress) {
        contents.withLock { contents in
            for (id, resource) in contents.resources where resource.address == address {
                contents.removed[id] = resource
                contents.resources[id] = nil
            }
        }
    }

    /// Puts back what `removeOutOfBand` took away.
    func restoreOutOfBand() {
        contents.withLock { contents in
            contents.resources.merge(contents.removed) { current, _ in current }
            contents.removed = [:]
        }
    }

    /// The next create of `address` happens, but its answer is lost on the way back.
    func loseAnswer(_ address: ResourceAddress) { _ = contents.withLock { $0.losesAnswer.insert(address) } }

    fileprivate func record(_ call: String) { contents.withLock { $0.calls.append(call) } }

    fileprivate func create(_ desired: DesiredResource, token: String) throws -> (id: String, computed: [String: Value]) {
        try contents.withLock { contents in
            contents.calls.append("create \(desired.address)")
            contents.created += 1
            let id = "\(desired.type.split(separator: ".").last ?? "r")-\(contents.created)"
            var computed: [String: Value] = [:]
            for name in desired.schema.computed {
                computed[name] = switch name {
                case "id": .string(id)
                case "arn": .string("arn:aws:memory:eu-west-1:123456789012:\(desired.type)/\(id)")
                default: .string("\(name)-\(contents.created)")
                }
            }
            contents.resources[id] = Resource(address: desired.address, type: desired.type, token: token,
                                              attributes: desired.properties.merging(computed) { _, computed in computed })
            if contents.losesAnswer.remove(desired.address) != nil {
                throw AWSError(category: .transport, service: "memory", operation: "Create", code: "ConnectionReset", message: "connection reset")
            }
            return (id, computed)
        }
    }

    fileprivate func find(_ desired: DesiredResource, token: String) -> (id: String, computed: [String: Value])? {
        contents.withLock { contents in
            contents.calls.append("find \(desired.address)")
            guard let found = contents.resources.first(where: { $0.value.address == desired.address && $0.value.token == token }) else { return nil }
            return (found.key, found.value.attributes.filter { desired.schema.computed.contains($0.key) })
        }
    }

    fileprivate func update(_ desired: DesiredResource, id: String) -> [String: Value] {
        contents.withLock { contents in
            contents.calls.append("update \(desired.address)")
            contents.resources[id]?.attributes.merge(desired.properties) { _, new in new }
            return (contents.resources[id]?.attributes ?? [:]).filter { desired.schema.computed.contains($0.key) }
        }
    }

    fileprivate func delete(_ recorded: ResourceState, context: HandlerContext) {
        contents.withLock { contents in
            contents.calls.append("delete \(recorded.address)")
            contents.contexts.append((context.force, context.emptyBuckets))
            if let id = recorded.id { contents.resources[id] = nil }
        }
    }
}

/// One resource type's handler over a `MemoryCloud`.
struct MemoryHandler: ResourceHandler {
    let type: String
    let cloud: MemoryCloud
    var actions: HandlerActions { HandlerActions(create: [], read: [], update: [], delete: []) }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        // as the AWS handlers do, the handle deploy reads the resource back by is journaled the moment it exists
        let (id, computed) = try cloud.create(resource, token: token)
        try await context.recordID(id)
        return computed
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>, context: HandlerContext) async throws -> [String: Value] {
        guard let id = recorded.id else { throw ProvisionError("\(recorded.address) has no id") }
        return cloud.update(resource, id: id)
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws { cloud.delete(recorded, context: context) }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        guard let (id, computed) = cloud.find(resource, token: token) else { return nil }
        try await context.recordID(id)
        return computed
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        cloud.record("read \(type)")
        let held = cloud.resources
        var live: [ResourceAddress: [String: Value]] = [:]
        for resource in resources { if let id = resource.id, let found = held[id] { live[resource.address] = found.attributes } }
        return ReadResult(live: live, apiCalls: 1)
    }
}

extension HandlerRegistry {
    /// A memory handler for every type the AWS registry handles.
    static func memory(_ cloud: MemoryCloud) -> HandlerRegistry {
        HandlerRegistry(HandlerRegistry.standard.types.map { MemoryHandler(type: $0, cloud: cloud) })
    }
}

/// An account that answers STS without a network, counting how often it was asked.
final class FixedAccount: Account {
    let account: String
    private let asked = Mutex(0)

    init(_ account: String = "123456789012") {
        self.account = account
    }

    var identityCalls: Int { asked.withLock { $0 } }

    func client() throws -> AWSClient {
        AWSClient(configuration: ClientConfiguration(region: "eu-west-1"),
                  credentials: StaticCredentialProvider(Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "memory")))
    }

    func callerIdentity() async throws -> (account: String, arn: String) {
        asked.withLock { $0 += 1 }
        return (account, "arn:aws:iam::\(account):user/tester")
    }
}

/// Records what a run showed and asked; says yes unless told to decline.
final class RecordingObserver: DeploymentObserver {
    private struct Seen {
        var warnings: [String] = []
        var reviewed: [Plan] = []
        var questions: [String] = []
        var events: [ProgressEvent] = []
        var doomed: [ResourceAddress] = []
    }

    private let seen = Mutex(Seen())
    let declines: Bool

    init(declines: Bool = false) {
        self.declines = declines
    }

    var warnings: [String] { seen.withLock { $0.warnings } }
    var reviewed: [Plan] { seen.withLock { $0.reviewed } }
    var questions: [String] { seen.withLock { $0.questions } }
    var events: [ProgressEvent] { seen.withLock { $0.events } }
    var doomed: [ResourceAddress] { seen.withLock { $0.doomed } }

    func warning(_ message: String) { seen.withLock { $0.warnings.append(message) } }
    func review(_ plan: Plan, saved: Bool) throws { seen.withLock { $0.reviewed.append(plan) } }
    func reviewDestroy(_ resources: [ResourceState], stack: StackIdentity) { seen.withLock { $0.doomed = resources.map(\.address) } }

    func confirm(_ question: String) throws {
        seen.withLock { $0.questions.append(question) }
        if declines { throw NotConfirmed(description: "cancelled; nothing was changed") }
    }

    func starting() {}
    func progress(_ event: ProgressEvent) { seen.withLock { $0.events.append(event) } }
}
