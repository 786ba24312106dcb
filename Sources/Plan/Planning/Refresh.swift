import Stack

/// Reads the live attributes of recorded resources. Implementations (the resource handlers) read a whole type
/// at once, filtered by the stack's tag, so a refresh costs one call per type rather than one per resource.
public protocol ResourceReader: Sendable {
    /// The resource types this reader can read.
    var types: [String] { get }

    /// Reads every recorded resource of `type`. A resource missing from the answer no longer exists.
    func read(type: String, resources: [ResourceState], stack: StackIdentity) async throws -> ReadResult
}

/// Which stack a refresh is for: readers filter by its tag.
public struct StackIdentity: Sendable {
    public var name: String
    public var account: String
    public var region: String

    public init(name: String, account: String, region: String) {
        self.name = name
        self.account = account
        self.region = region
    }
}

/// What one reader found.
public struct ReadResult: Sendable {
    public var live: [ResourceAddress: [String: Value]]
    public var apiCalls: Int
    /// Resources that still exist but are on their way out (a key pending deletion), with what was read of them:
    /// gone for planning, still there for a compliance check.
    public var lingering: [ResourceAddress: [String: Value]]

    public init(live: [ResourceAddress: [String: Value]], apiCalls: Int, lingering: [ResourceAddress: [String: Value]] = [:]) {
        self.live = live
        self.apiCalls = apiCalls
        self.lingering = lingering
    }
}

/// The live view of a state: for each refreshed resource, its attributes or nil when it is gone.
public struct RefreshResult: Sendable {
    public var live: [ResourceAddress: [String: Value]?]
    public var apiCalls: Int
    /// Recorded types no reader could read, so their drift is not known.
    public var unreadTypes: [String]
    /// Resources gone for planning (nil in `live`) that still exist on their way out, with their attributes.
    public var lingering: [ResourceAddress: [String: Value]]

    public init(live: [ResourceAddress: [String: Value]?] = [:], apiCalls: Int = 0, unreadTypes: [String] = [],
                lingering: [ResourceAddress: [String: Value]] = [:]) {
        self.live = live
        self.apiCalls = apiCalls
        self.unreadTypes = unreadTypes
        self.lingering = lingering
    }
}

/// Refreshes a state through readers, one batched read per resource type.
public struct Refresher: Sendable {
    private let readers: [String: any ResourceReader]

    public init(readers: [any ResourceReader]) {
        var byType: [String: any ResourceReader] = [:]
        for reader in readers { for type in reader.types { byType[type] = reader } }
        self.readers = byType
    }

    /// Reads each recorded type with its reader, the types in parallel.
    public func refresh(_ state: State) async throws -> RefreshResult {
        var result = RefreshResult()
        let identity = StackIdentity(name: state.stack, account: state.account, region: state.region)
        let byType = Dictionary(grouping: state.resources.filter { $0.status != .pending }, by: \.type)
        let readable = byType.keys.sorted().filter { readers[$0] != nil }
        result.unreadTypes = byType.keys.sorted().filter { readers[$0] == nil }
        let reads = try await withThrowingTaskGroup(of: (String, ReadResult).self) { group in
            for type in readable {
                let reader = readers[type]!
                let resources = byType[type] ?? []
                group.addTask { (type, try await reader.read(type: type, resources: resources, stack: identity)) }
            }
            var reads: [String: ReadResult] = [:]
            for try await (type, read) in group { reads[type] = read }
            return reads
        }
        for type in readable {
            guard let read = reads[type] else { continue }
            result.apiCalls += read.apiCalls
            for resource in byType[type] ?? [] {
                result.live[resource.address] = read.live[resource.address]
                if read.live[resource.address] == nil, let lingering = read.lingering[resource.address] { result.lingering[resource.address] = lingering }
            }
        }
        return result
    }
}
