/// One resource instance as the stack wants it: evaluated properties (unknown where only apply can tell).
public struct DesiredResource: Sendable {
    public var address: ResourceAddress
    public var type: String
    public var schema: ResourceSchema
    /// Every property in the schema that the template sets or that has a default, tags included.
    public var properties: [String: Value]
    /// Properties that must never be shown: sensitive in the schema or fed by a sensitive parameter.
    public var sensitive: Set<String>
    /// The instances this one refers to, sorted.
    public var dependencies: [ResourceAddress]
    public var protected: Bool
    /// Where each property was written, for errors found after evaluation.
    public var propertyLocations: [String: SourceLocation]
    public var location: SourceLocation
    /// The local file the resource uploads, resolved against the stack's directory, with its size and digest.
    public var artifact: LocalArtifact?
}

/// The result of evaluating a whole stack: every desired resource in apply order, and each phase's outputs.
public struct ExpandedStack: Sendable {
    public var resources: [DesiredResource]
    public var outputs: [Phase: [String: Value]]
    public var sensitiveOutputs: Set<String>
    /// The computed attributes each resource was expanded with (its ids and ARNs, or unknown): what `refine`
    /// compares to know which resources changed since.
    public var computed: [ResourceAddress: [String: Value]] = [:]

    public init(resources: [DesiredResource], outputs: [Phase: [String: Value]], sensitiveOutputs: Set<String>,
                computed: [ResourceAddress: [String: Value]] = [:]) {
        self.resources = resources
        self.outputs = outputs
        self.sensitiveOutputs = sensitiveOutputs
        self.computed = computed
    }
}

/// The tags deploy adds to every taggable resource, so it can find its own resources by tag.
public enum DeployTags {
    public static let stack = "deploy:stack"
    public static let address = "deploy:address"
    public static let managedBy = "managed-by"
    public static let managedByValue = "deploy"
}
