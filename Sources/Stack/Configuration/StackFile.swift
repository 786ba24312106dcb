import Foundation
import TextSafety

/// A stack file (Stacks/*.json5): where to deploy, the parameters of each phase, tags, and what destroy must keep.
public struct StackFile: Sendable {
    /// A role to assume in the target account.
    public struct Role: Sendable {
        public var arn: String
        public var externalID: String?
    }

    public var file: String
    public var name: String
    public var account: String
    public var region: String
    public var role: Role?
    /// The templates directory named in the stack, relative to the stack file.
    public var templates: String?
    public var tags: [String: String]
    /// Where the stack's `tags` are written, for errors about the tags each resource ends up with.
    public var tagsLocation: SourceLocation?
    /// Addresses (`phase.name` or `phase.name[i]`) that destroy refuses without --force.
    public var protect: [(address: String, location: SourceLocation)]
    /// Parameter values given for each phase, as written.
    public var phaseParameters: [Phase: [JSON5Node.Member]]
    public var phaseLocations: [Phase: SourceLocation]
    /// Regions and instance types accepted beyond the built-in lists (`allow: { regions: [...], instance_types: [...] }`).
    public var allow: Allowances
    /// Where `allow.instance_types` is written, for errors that point at it.
    public var allowLocation: SourceLocation?
    /// The file's text, for the stack digest.
    public var text: String
    /// Compliance findings accepted until a date.
    public var suppressions: [Suppression] = []
    /// Where the state is shared (the `state` block); nil keeps it in a local file.
    public var state: RemoteStateSettings?

    static let keys = ["name", "description", "account", "region", "role", "templates", "tags", "protect", "phases", "allow", "suppress", "state"]

    /// Reads and checks a stack file.
    public static func load(_ path: String) throws(StackError) -> StackFile {
        try parse(try SourceFile.text(path, what: "stack file"), file: path)
    }

    /// Parses a stack file's text.
    public static func parse(_ text: String, file: String) throws(StackError) -> StackFile {
        let root = try JSON5Parser.parse(text, file: file)
        let fields = try ObjectFields(root, allowed: keys, context: "stack")
        let name = try fields.requiredString("name")
        let nameValid = (1...32).contains(name.count) && name.first?.isLetter == true
            && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
        guard nameValid else {
            throw StackError("stack name '\(SafeText.quoted(name))' must be 1 to 32 lower-case letters, digits and '-', starting with a letter",
                             at: fields["name"]?.location)
        }
        let account = try fields.requiredString("account")
        guard account.count == 12, account.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw StackError("account '\(SafeText.quoted(account))' must be a 12-digit AWS account id", at: fields["account"]?.location)
        }
        var allow = Allowances()
        if let allowNode = fields["allow"] {
            let allowFields = try ObjectFields(allowNode, allowed: ["regions", "instance_types"], context: "allow")
            allow.regions = Set(try allowFields.stringList("regions").map(\.0))
            allow.instanceTypes = Set(try allowFields.stringList("instance_types").map(\.0))
            for (region, location) in try allowFields.stringList("regions") where !Self.isRegionName(region) {
                throw StackError("allow.regions: '\(SafeText.quoted(region))' is not a region name like eu-west-1", at: location)
            }
        }
        let region = try fields.requiredString("region")
        guard Self.isRegionName(region) else {
            throw StackError("region '\(SafeText.quoted(region))' is not a region name like eu-west-1", at: fields["region"]?.location)
        }
        guard KnownRegions.all.contains(region) || allow.regions.contains(region) else {
            let message = Suggestion.message("region '\(SafeText.quoted(region))' does not exist", for: region, among: KnownRegions.all)
            throw StackError(message + " (a region newer than this release can be named in the stack's allow.regions)",
                             at: fields["region"]?.location)
        }
        var role: Role?
        if let roleNode = fields["role"] {
            let roleFields = try ObjectFields(roleNode, allowed: ["arn", "external_id"], context: "role")
            let arn = try roleFields.requiredString("arn")
            guard arn.hasPrefix("arn:"), arn.contains(":role/"), arn.split(separator: ":", omittingEmptySubsequences: false).count >= 6 else {
                throw StackError("role arn '\(SafeText.quoted(arn))' is not an IAM role ARN", at: roleFields["arn"]?.location)
            }
            role = Role(arn: arn, externalID: try roleFields.string("external_id"))
        }
        var tags: [String: String] = [:]
        let declaredTags = try fields.object("tags")
        if declaredTags.count > TagLimits.stackTags {
            // checked before any tag is looked at, so that a generated stack with thousands is refused at once
            throw StackError("tag '\(SafeText.quoted(declaredTags[TagLimits.stackTags].key))' is one too many: a stack may declare at most "
                             + "\(TagLimits.stackTags) tags (AWS allows \(TagLimits.perResource) on a resource, and deploy adds its own "
                             + "\(TagLimits.deployTags.joined(separator: ", "))); this one declares \(declaredTags.count)",
                             at: declaredTags[TagLimits.stackTags].keyLocation)
        }
        for member in declaredTags {
            guard case .string(let value) = member.value.kind else {
                throw StackError("tag '\(SafeText.quoted(member.key))' must be a string, found \(member.value.kindName)", at: member.value.location)
            }
            if let problem = TagLimits.problem(key: member.key, value: value) {
                throw StackError(problem.message, at: problem.inValue ? member.value.location : member.keyLocation)
            }
            tags[member.key] = value
        }
        var phaseParameters: [Phase: [JSON5Node.Member]] = [:]
        var phaseLocations: [Phase: SourceLocation] = [:]
        for member in try fields.object("phases") {
            guard let phase = Phase(rawValue: member.key) else {
                throw StackError(Suggestion.message("unknown phase '\(SafeText.quoted(member.key))'", for: member.key, among: Phase.allCases.map(\.rawValue)),
                                 at: member.keyLocation)
            }
            guard case .object(let parameters) = member.value.kind else {
                throw StackError("phase '\(SafeText.quoted(member.key))' must be an object of parameters, found \(member.value.kindName)",
                                 at: member.value.location)
            }
            phaseParameters[phase] = parameters
            phaseLocations[phase] = member.keyLocation
        }
        let state = try fields["state"].map { node throws(StackError) in try RemoteStateSettings.parse(node, stackRegion: region) }
        return StackFile(file: file, name: name, account: account, region: region, role: role,
                         templates: try fields.string("templates"), tags: tags, tagsLocation: fields["tags"]?.location,
                         protect: try fields.stringList("protect").map { (address: $0.0, location: $0.1) },
                         phaseParameters: phaseParameters, phaseLocations: phaseLocations, allow: allow,
                         allowLocation: fields["allow"]?.location, text: text, suppressions: try Suppression.parse(fields["suppress"]), state: state)
    }

    /// The ARN partition of the stack's region.
    public var partition: String {
        if region.hasPrefix("cn-") { return "aws-cn" }
        if region.hasPrefix("us-gov-") { return "aws-us-gov" }
        if region.hasPrefix("us-isob-") { return "aws-iso-b" }
        if region.hasPrefix("us-iso-") { return "aws-iso" }
        return "aws"
    }

    /// `xx-name-N`, and the longer partition forms such as `us-gov-west-1` and `us-iso-east-1`.
    static func isRegionName(_ region: String) -> Bool {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard (3...4).contains(parts.count), let last = parts.last, Int(last) != nil else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
    }
}
