import Foundation
import Stack

/// What deploy recorded about one resource it manages.
public struct ResourceState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Exists and matches what was last applied.
        case created
        /// A create or update failed part-way; the next apply replaces it.
        case tainted
        /// A create was started but its result never recorded; the next apply finds it by token or tag.
        case pending
    }

    /// Recorded before a create, so that a run killed mid-call can find what it made.
    public struct Intent: Codable, Sendable, Equatable {
        public var token: String
        public var operation: String
        public var startedAt: String

        public init(token: String, operation: String, startedAt: String) {
            self.token = token
            self.operation = operation
            self.startedAt = startedAt
        }
    }

    public var address: ResourceAddress
    public var type: String
    /// The cloud's id for it (vpc-..., a bucket name, a key id); nil while pending.
    public var id: String?
    /// Properties as applied plus computed attributes (arn, id, ...).
    public var attributes: [String: Value]
    /// Attribute names never to show.
    public var sensitive: [String]
    public var dependencies: [ResourceAddress]
    public var status: Status
    public var intent: Intent?
    /// What a long create or update has done so far (an upload's id and its finished parts), so that a run killed
    /// part-way continues where it stopped; cleared when the resource is recorded as done.
    public var progress: Value?

    public init(address: ResourceAddress, type: String, id: String?, attributes: [String: Value], sensitive: [String] = [],
                dependencies: [ResourceAddress] = [], status: Status = .created, intent: Intent? = nil, progress: Value? = nil) {
        self.address = address
        self.type = type
        self.id = id
        self.attributes = attributes
        self.sensitive = sensitive
        self.dependencies = dependencies
        self.status = status
        self.intent = intent
        self.progress = progress
    }
}

/// One stack's recorded state. `lineage` names the state's history (it never changes); `serial` counts writes.
public struct State: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    public var version: Int
    public var lineage: String
    public var serial: Int
    public var stack: String
    public var account: String
    public var region: String
    public var resources: [ResourceState]
    public var outputs: [String: Value]
    /// The last bundle applied from each signer (`apply --bundle`), which an older or equal release from that signer
    /// may not follow (`admit`); nil in a state no bundle was ever applied to.
    public var bundles: [BundleRecord]?
    /// SHA-256 of the document without this field, checked on load.
    public var checksum: String?

    /// A new, empty state for a stack.
    public init(stack: String, account: String, region: String, lineage: String = UUID().uuidString.lowercased()) {
        self.version = Self.currentVersion
        self.lineage = lineage
        self.serial = 0
        self.stack = stack
        self.account = account
        self.region = region
        self.resources = []
        self.outputs = [:]
        self.checksum = nil
    }

    public func resource(_ address: ResourceAddress) -> ResourceState? {
        resources.first { $0.address == address }
    }

    /// Replaces or adds a resource, keeping resources sorted by address.
    public mutating func record(_ resource: ResourceState) {
        if let index = resources.firstIndex(where: { $0.address == resource.address }) {
            resources[index] = resource
        } else {
            resources.append(resource)
            resources.sort { $0.address < $1.address }
        }
    }

    public mutating func remove(_ address: ResourceAddress) {
        resources.removeAll { $0.address == address }
    }
}
