import Foundation

/// What one property of a resource type accepts and how a change to it is applied.
public struct AttributeSchema: Sendable {
    public enum Kind: String, Sendable {
        case string, int, bool, cidr, map, policy
        case stringList = "list of strings"
        case cidrList = "list of CIDR blocks"
        /// A list of objects, such as security group rules.
        case objectList = "list of objects"
    }

    public var kind: Kind
    public var required = false
    /// Changing it cannot be done in place: the resource is replaced.
    public var forcesReplacement = false
    /// Never shown in plans or output.
    public var sensitive = false
    /// The only values accepted, when the API has a fixed set.
    public var allowed: [String]?
    public var range: ClosedRange<Int>?
    /// Used when the template leaves the property out, so a default never shows as a diff.
    public var defaultValue: Value?
    /// Lists whose order the API does not keep (ids, CIDRs): compared as sets.
    public var unordered = false
    /// Left out of a template, the property is whatever AWS sets (a KMS key always has a key policy), not "none":
    /// it is neither desired nor compared. Every other property left out is desired as its default, or as absent.
    public var awsDefaultWhenOmitted = false
    /// Owned by deploy, not set by templates: always desired as its default (no public ACL grants), so anything
    /// else found in the account is drift that apply removes.
    public var fixed = false
    /// Why, once the resource holds anything but the default, the property cannot go back to it (S3 Object Lock
    /// cannot be turned off): a plan that would is refused with this reason. Nil: it can.
    public var irreversible: String?
    /// A regular expression a string must match whole, with what it says in words (AWS's naming rules, so that a name
    /// AWS would refuse halfway through an apply is refused at plan time instead).
    public var pattern: (expression: String, says: String)?

    public init(_ kind: Kind, required: Bool = false, replace: Bool = false, sensitive: Bool = false,
                allowed: [String]? = nil, range: ClosedRange<Int>? = nil, default defaultValue: Value? = nil,
                unordered: Bool = false, awsDefaultWhenOmitted: Bool = false, fixed: Bool = false, irreversible: String? = nil,
                pattern: (expression: String, says: String)? = nil) {
        self.pattern = pattern
        self.kind = kind
        self.required = required
        self.forcesReplacement = replace
        self.sensitive = sensitive
        self.allowed = allowed
        self.range = range
        self.defaultValue = defaultValue
        self.unordered = unordered
        self.awsDefaultWhenOmitted = awsDefaultWhenOmitted
        self.fixed = fixed
        self.irreversible = irreversible
    }
}

/// A resource type: its properties, the attributes the cloud assigns, and whether it carries tags.
public struct ResourceSchema: Sendable {
    /// `aws.<service>.<kind>`, e.g. `aws.ec2.vpc`.
    public var type: String
    public var attributes: [String: AttributeSchema]
    /// Attributes known only after create (ids, ARNs), readable by other resources.
    public var computed: [String]
    /// Computed attributes that every change in place but of tags moves on (a launch template's latest version): a plan that
    /// updates the resource shows them as unknown, so that what refers to them is updated in the same apply.
    public var changedByUpdate: [String]
    /// What must hold between properties (a group's minimum at most its maximum), checked once they are evaluated;
    /// a value unknown until apply passes. The property to point at, and what is wrong.
    public var consistency: (@Sendable ([String: Value]) -> (property: String, message: String)?)?
    /// Attributes read from the local file's contents at plan time, beside its `sha256` and `size` (a certificate's
    /// digest); what it throws refuses the file, at the property naming it.
    public var localFileAttributes: (@Sendable (Data) throws(EvaluationFailure) -> [String: Value])?
    /// What a local file must be, by the name its `check` property gives (a guardrail policy): each reads the file's
    /// contents at plan time (named by its path) and throws what is wrong, so a bad file stops the plan.
    public var contentChecks: [String: @Sendable (Data, String) throws(EvaluationFailure) -> Void] = [:]
    /// Whether the resource takes tags (the stack's tags plus the deploy tags are added to it).
    public var taggable: Bool
    /// The most tags AWS takes on one resource of this type, deploy's own included.
    public var maxTags: Int
    /// The property naming a local file (relative to the stack file) whose size and SHA-256 become the attributes
    /// `size` and `sha256` at plan time, so that other resources can pin exactly what will be uploaded.
    public var localFile: String?
    /// The property naming such a file among the templates instead (the node's boot files ship with them).
    public var templateFile: String?

    /// Attributes derived from the local file before apply: known at plan time, set by no template.
    public var derived: [String] { localFile == nil ? [] : LocalArtifact.attributes }

    public init(_ type: String, taggable: Bool = true, maxTags: Int = TagLimits.perResource, localFile: String? = nil,
                templateFile: String? = nil, computed: [String], changedByUpdate: [String] = [],
                consistency: (@Sendable ([String: Value]) -> (property: String, message: String)?)? = nil,
                localFileAttributes: (@Sendable (Data) throws(EvaluationFailure) -> [String: Value])? = nil, _ attributes: [String: AttributeSchema]) {
        self.type = type
        self.taggable = taggable
        self.maxTags = taggable ? maxTags : 0
        self.localFile = localFile
        self.templateFile = templateFile
        self.computed = computed
        self.changedByUpdate = changedByUpdate
        self.consistency = consistency
        self.localFileAttributes = localFileAttributes
        var all = attributes
        if taggable { all["tags"] = AttributeSchema(.map) }
        self.attributes = all
    }
}
