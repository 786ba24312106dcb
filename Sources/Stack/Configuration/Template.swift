import Foundation
import TextSafety

/// One declared resource block of a template, before evaluation.
public struct ResourceDeclaration: Sendable {
    public var phase: Phase
    public var name: String
    public var type: String
    public var schema: ResourceSchema
    /// `count`, when the block declares several instances.
    public var count: Expression?
    /// Property name, expression and where the property was written, in file order.
    public var properties: [(name: String, expression: Expression, location: SourceLocation)]
    /// Extra ordering edges, by resource name.
    public var dependsOn: [(name: String, location: SourceLocation)]
    /// Refused by destroy unless forced.
    public var protected: Bool
    public var location: SourceLocation

    public var blockAddress: String { "\(phase.rawValue).\(name)" }

    static let keys = ["type", "count", "properties", "depends_on", "protect", "description"]
}

/// A phase template: typed parameters, resources and outputs.
public struct Template: Sendable {
    public var phase: Phase
    public var description: String
    public var file: String
    public var parameters: [ParameterDeclaration]
    public var resources: [ResourceDeclaration]
    public var outputs: [(name: String, expression: Expression, location: SourceLocation)]
    /// The file's bytes, for the stack digest.
    public var text: String

    static let keys = ["phase", "description", "parameters", "resources", "outputs"]
    static let reservedNames: Set<String> = Set(["param", "stack", "count", "outputs", "true", "false", "null"])
        .union(Phase.allCases.map(\.rawValue))

    /// Reads `Templates/<phase>.json5`.
    public static func load(phase: Phase, directory: String) throws(StackError) -> Template {
        let path = (directory as NSString).appendingPathComponent("\(phase.rawValue).json5")
        return try parse(try SourceFile.text(path, what: "\(phase.rawValue) template"), file: path, phase: phase)
    }

    /// Parses and checks a template's text.
    public static func parse(_ text: String, file: String, phase: Phase) throws(StackError) -> Template {
        let root = try JSON5Parser.parse(text, file: file)
        let fields = try ObjectFields(root, allowed: keys, context: "template")
        let declared = try fields.requiredString("phase")
        guard declared == phase.rawValue else {
            throw StackError("template declares phase '\(declared)' but is the \(phase.rawValue) template", at: fields["phase"]?.location)
        }
        var parameters: [ParameterDeclaration] = []
        for member in try fields.object("parameters") {
            try checkName(member.key, kind: "parameter", at: member.keyLocation)
            parameters.append(try ParameterDeclaration(name: member.key, node: member.value))
        }
        var resources: [ResourceDeclaration] = []
        for member in try fields.object("resources") {
            try checkName(member.key, kind: "resource", at: member.keyLocation)
            resources.append(try resource(member, phase: phase))
        }
        var outputs: [(name: String, expression: Expression, location: SourceLocation)] = []
        for member in try fields.object("outputs") {
            try checkName(member.key, kind: "output", at: member.keyLocation)
            outputs.append((member.key, try ExpressionParser.compile(member.value), member.value.location))
        }
        return Template(phase: phase, description: try fields.string("description") ?? "", file: file,
                        parameters: parameters, resources: resources, outputs: outputs, text: text)
    }

    private static func checkName(_ name: String, kind: String, at location: SourceLocation) throws(StackError) {
        let valid = name.first.map { $0.isLowercase && $0.isASCII } == true
            && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
        guard valid else {
            throw StackError("\(kind) name '\(name)' must be lower-case letters, digits and '_', starting with a letter", at: location)
        }
        guard kind == "parameter" || !reservedNames.contains(name) else {
            throw StackError("'\(name)' is reserved and cannot name a \(kind)", at: location)
        }
    }

    private static func resource(_ member: JSON5Node.Member, phase: Phase) throws(StackError) -> ResourceDeclaration {
        let fields = try ObjectFields(member.value, allowed: ResourceDeclaration.keys, context: "resource '\(SafeText.quoted(member.key))'")
        let type = try fields.requiredString("type")
        guard let schema = ResourceTypes.schema(for: type) else {
            throw StackError(Suggestion.message("unknown resource type '\(type)'", for: type, among: ResourceTypes.names),
                             at: fields["type"]?.location)
        }
        var properties: [(name: String, expression: Expression, location: SourceLocation)] = []
        for property in try fields.object("properties") {
            guard schema.attributes[property.key] != nil else {
                throw StackError(Suggestion.message("\(type) has no property '\(property.key)'", for: property.key,
                                                    among: schema.attributes.keys), at: property.keyLocation)
            }
            properties.append((property.key, try ExpressionParser.compile(property.value), property.value.location))
        }
        for (name, attribute) in schema.attributes.sorted(by: { $0.key < $1.key })
        where attribute.required && !properties.contains(where: { $0.name == name }) {
            throw StackError("resource '\(SafeText.quoted(member.key))' (\(type)) is missing the required property '\(name)'",
                             at: fields["properties"]?.location ?? member.keyLocation)
        }
        let dependsOn = try fields.stringList("depends_on").map { (name: $0.0, location: $0.1) }
        return ResourceDeclaration(phase: phase, name: member.key, type: type, schema: schema,
                                   count: try fields["count"].map { node throws(StackError) in try ExpressionParser.compile(node) },
                                   properties: properties, dependsOn: dependsOn,
                                   protected: try fields.bool("protect") ?? false, location: member.keyLocation)
    }
}
