import Stack

/// One resource as the rules see it: its address, type and attributes (from the plan, where values only apply can
/// tell are unknown; or from the account), and what it depends on.
public struct Subject: Sendable {
    public var address: String
    public var type: String
    public var attributes: [String: Value]
    public var dependencies: [String]
    /// The attributes read from the account just now (a live check); the others are as the state recorded them.
    public var observed: Set<String>
    /// Where the template declares the resource.
    public var location: SourceLocation?
    /// Judged as the account holds it (a live check): a rule that could read none of what it looks at fails.
    public var live: Bool
    /// What the stack declared (in a live check, as the state recorded it at the last apply), for the rules that
    /// compare the account with it.
    public var declared: [String: Value]

    public init(address: String, type: String, attributes: [String: Value], dependencies: [String] = [], observed: Set<String> = [],
                live: Bool = false, declared: [String: Value]? = nil) {
        self.address = address
        self.type = type
        self.attributes = attributes
        self.dependencies = dependencies
        self.observed = observed
        self.live = live
        self.declared = declared ?? attributes
    }

    public subscript(_ name: String) -> Value? { attributes[name] }

    public func string(_ name: String) -> String? { attributes[name]?.stringValue }
    public func bool(_ name: String) -> Bool? { attributes[name]?.boolValue }
    public func int(_ name: String) -> Int? { attributes[name]?.intValue }
    public func list(_ name: String) -> [Value] { attributes[name]?.listValue ?? [] }
}

/// Every resource of the stack, for the rules that look beyond one resource (is this the stack's own key, which
/// CIDRs the stack allows), and what the stack declares.
public struct Inventory: Sendable {
    public var subjects: [Subject]
    /// The CIDR blocks the network phase admits to the inference port.
    public var allowedCIDRs: [String]
    /// The port the inference node serves on.
    public var inferencePort: Int?
    /// The AWS services the node reaches through interface endpoints (kms, sts, logs, ...).
    public var requiredEndpoints: [String]
    /// The stack's own account: a trust of it is not a trust of another account.
    public var account: String?

    public init(subjects: [Subject], allowedCIDRs: [String] = [], inferencePort: Int? = nil, requiredEndpoints: [String] = [],
                account: String? = nil) {
        self.subjects = subjects
        self.account = account
        self.allowedCIDRs = allowedCIDRs
        self.inferencePort = inferencePort
        self.requiredEndpoints = requiredEndpoints
    }

    public func subjects(of type: String) -> [Subject] { subjects.filter { $0.type == type } }

    /// Whether `value`, read from `subject`, names one of the stack's own KMS keys: an id or ARN a key of the stack
    /// carries, or (in a plan, before the key exists) a value only apply can tell that comes from one.
    public func isStackKey(_ value: Value?, of subject: Subject) -> Bool {
        let keys = subjects(of: "aws.kms.key")
        switch value {
        case .unknown?:
            return keys.contains { subject.dependencies.contains($0.address) }
        case .string(let text)?:
            return keys.contains { key in
                let id = key.string("id")
                return key.string("arn") == text || id == text || id.map { text.hasSuffix(":key/" + $0) } == true
            }
        default:
            return false
        }
    }
}
