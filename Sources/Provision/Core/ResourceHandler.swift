import AWS
import Plan
import Stack
import Diagnostics

/// The IAM actions a handler calls, by operation: the source of `deploy permissions`.
public struct HandlerActions: Sendable {
    public var create: [String]
    public var read: [String]
    public var update: [String]
    public var delete: [String]
    /// Roles a create passes to a service (iam:PassRole), as property names holding role ARNs or profile names.
    public var passesRole: Bool

    public init(create: [String], read: [String], update: [String], delete: [String], passesRole: Bool = false) {
        self.create = create
        self.read = read
        self.update = update
        self.delete = delete
        self.passesRole = passesRole
    }

    public var all: [String] { create + read + update + delete }
}

/// What a handler works with: the client, the stack, and a way to journal an id the moment the cloud returns it.
public struct HandlerContext: Sendable {
    public var client: AWSClient
    public var stack: StackIdentity
    public var partition: String
    /// Records the cloud id of the resource being created, before the create has finished, so that a crash
    /// after this point leaves the id in the state rather than an orphan in the account.
    public var recordID: @Sendable (String) async throws -> Void
    /// Destroy may delete the objects of a bucket before the bucket (`--empty-buckets`).
    public var emptyBuckets: Bool
    /// Destroy may delete protected resources and lift a table's deletion protection (`--force`).
    public var force: Bool
    /// The objects (`bucket/key`) the same destroy deletes: they do not keep their bucket from being deleted.
    public var deletingObjects: Set<String> = []
    /// What an earlier, interrupted run recorded of this resource's progress (see `recordProgress`).
    public var progress: Value?
    /// Journals how far a long create or update has come, so that a run killed part-way can continue.
    public var recordProgress: @Sendable (Value?) async throws -> Void = { _ in }
    /// Tells whoever watches the run how far a long step has come (a line of progress, not journaled).
    public var reportProgress: @Sendable (String) -> Void = { _ in }

    public init(client: AWSClient, stack: StackIdentity, partition: String, emptyBuckets: Bool = false, force: Bool = false,
                recordID: @escaping @Sendable (String) async throws -> Void = { _ in }) {
        self.client = client
        self.stack = stack
        self.partition = partition
        self.emptyBuckets = emptyBuckets
        self.force = force
        self.recordID = recordID
    }

    /// This context with another `recordID`.
    public func recording(_ record: @escaping @Sendable (String) async throws -> Void) -> HandlerContext {
        var copy = self
        copy.recordID = record
        return copy
    }

    /// This context with progress lines going to `report`.
    public func reporting(_ report: @escaping @Sendable (String) -> Void) -> HandlerContext {
        var copy = self
        copy.reportProgress = report
        return copy
    }

    /// This context for a resource whose progress is journaled: `progress` as recorded, `record` to add to it.
    public func tracking(_ progress: Value?, _ record: @escaping @Sendable (Value?) async throws -> Void) -> HandlerContext {
        var copy = self
        copy.progress = progress
        copy.recordProgress = record
        return copy
    }
}

/// The only code that knows the API shape of one resource type: create, read (a whole type at once, by tag),
/// update in place, delete, and finding a resource a killed run created but never recorded.
public protocol ResourceHandler: Sendable {
    var type: String { get }
    var actions: HandlerActions { get }

    /// Creates the resource and waits until it is usable; returns its computed attributes (`id` among them).
    /// `token` is the idempotency token recorded in the state's intent before the call.
    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]

    /// Applies changed properties in place; returns the computed attributes afterwards.
    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value]

    /// Deletes the resource and waits until it is gone. A resource already gone is not an error.
    func delete(_ recorded: ResourceState, context: HandlerContext) async throws

    /// A resource created for `address` under `token` by an earlier, interrupted run: its computed attributes.
    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]?

    /// Reads every recorded resource of this type; one that is missing from the answer no longer exists.
    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult

    /// Why `delete` would refuse this resource under `context` (deletion protection without --force, objects in a
    /// bucket without --empty-buckets), or nil when it can go. Destroy asks every resource before deleting any.
    func deletionBlocker(_ recorded: ResourceState, context: HandlerContext) async throws -> String?
}

extension ResourceHandler {
    /// Most resources can always be deleted.
    public func deletionBlocker(_ recorded: ResourceState, context: HandlerContext) async throws -> String? { nil }
}

/// Destroy (or an apply that replaces or removes resources) found deletions it would have to refuse, before
/// deleting anything.
public struct DestroyRefused: Error, Sendable, CustomStringConvertible {
    public var blockers: [(address: ResourceAddress, reason: String)]
    /// The command refused: `destroy`, or `apply`.
    public var verb = "destroy"

    public init(blockers: [(address: ResourceAddress, reason: String)], verb: String = "destroy") {
        self.blockers = blockers
        self.verb = verb
    }

    public var description: String {
        "\(verb) would stop partway, so nothing was deleted:\n"
            + blockers.map { "  \($0.address): \($0.reason)" }.joined(separator: "\n")
    }
}

extension DestroyRefused: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
