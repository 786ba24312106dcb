import Stack

/// One attribute's change: before and after, or unknown until apply; sensitive values are never carried.
public struct AttributeChange: Sendable, Equatable {
    public var name: String
    /// nil when the attribute was not set before, or is sensitive.
    public var before: Value?
    /// nil when removed, or sensitive; `.unknown` when only apply will tell.
    public var after: Value?
    public var sensitive: Bool
    public var forcesReplacement: Bool

    public init(name: String, before: Value?, after: Value?, sensitive: Bool = false, forcesReplacement: Bool = false) {
        self.name = name
        self.before = sensitive ? nil : before
        self.after = sensitive ? (after == .unknown ? .unknown : nil) : after
        self.sensitive = sensitive
        self.forcesReplacement = forcesReplacement
    }
}

/// What the plan does to one resource.
public struct PlannedAction: Sendable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case create, update, replace, delete, noop = "no-op"
    }

    public var address: ResourceAddress
    public var type: String
    public var kind: Kind
    /// Why, when it is not obvious from the changes: tainted, pending intent, deleted outside deploy, no longer declared.
    public var reason: String?
    /// The properties whose change forces a replacement.
    public var replacedBecause: [String]
    /// For create and update: every attribute that will be set or changed.
    public var changes: [AttributeChange]
    public var protected: Bool
    public var dependencies: [ResourceAddress]
}

/// A change made outside deploy since the last apply.
public struct Drift: Sendable {
    public enum Kind: String, Sendable, Codable { case changed, deleted }
    public var address: ResourceAddress
    public var type: String
    public var kind: Kind
    public var changes: [AttributeChange]
}

/// The whole plan: actions phase by phase, drift found by refresh, and the stack's outputs as far as known.
public struct Plan: Sendable {
    public var stack: StackIdentity
    public var stackDigest: String
    /// The state the plan was made against: nil for a first apply.
    public var lineage: String?
    public var serial: Int?
    public var actions: [PlannedAction]
    public var drift: [Drift]
    public var refresh: RefreshSummary
    public var outputs: [String: Value]
    public var sensitiveOutputs: Set<String>

    /// What the refresh did.
    public struct RefreshSummary: Sendable {
        public var performed: Bool
        public var resources: Int
        public var apiCalls: Int
        public var unreadTypes: [String]

        public init(performed: Bool, resources: Int = 0, apiCalls: Int = 0, unreadTypes: [String] = []) {
            self.performed = performed
            self.resources = resources
            self.apiCalls = apiCalls
            self.unreadTypes = unreadTypes
        }
    }

    public func count(_ kind: PlannedAction.Kind) -> Int { actions.filter { $0.kind == kind }.count }

    /// Whether applying would change anything.
    public var hasChanges: Bool { actions.contains { $0.kind != .noop } }

    /// `N to add, N to change, N to replace, N to destroy.`
    public var summary: String {
        "\(count(.create)) to add, \(count(.update)) to change, \(count(.replace)) to replace, \(count(.delete)) to destroy."
    }

    /// Actions of one phase, in apply order (deletes last, dependants first).
    public func actions(in phase: Phase) -> [PlannedAction] {
        actions.filter { $0.address.phase == phase.rawValue }
    }
}
