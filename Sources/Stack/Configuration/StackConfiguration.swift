import Foundation
import TextSafety

/// A stack file together with its four templates, parameters resolved and every static check passed:
/// references name declared things, counted resources are indexed, and the resource graph has no cycle.
public struct StackConfiguration: Sendable {
    public var stack: StackFile
    public var templates: [Template]
    /// Each phase's parameter values: the stack's, or the template's defaults.
    public var parameters: [Phase: [String: Value]]
    public var sensitiveParameters: [Phase: Set<String>]
    /// The resource blocks in an order that puts every block after those it refers to, phase by phase.
    public var orderedBlocks: [ResourceDeclaration]
    /// Block-level edges, keyed by `phase.name`.
    public var blockGraph: DependencyGraph<String>
    /// The templates directory used.
    public var templatesDirectory: String
    /// Files the stack names that are read from a verified bundle instead, by absolute path: the size and digest the
    /// signed manifest gives, the bytes at their offset in the archive.
    public var bundledArtifacts: [String: LocalArtifact] = [:]
    /// Whether expansion hashes the files the stack uploads (their digests are plan-time attributes). A bundle export,
    /// which only needs to know where they are and hashes them as it writes them, turns it off.
    public var hashesArtifacts = true
    /// Values that are accepted but worth a second look (a port open to the world), each where it was written.
    public var warnings: [(message: String, location: SourceLocation?)]

    /// Loads a stack and its templates. `templatesDirectory` overrides the stack's `templates` key; without either,
    /// `Templates` in the stack's directory, then beside it (`../Templates`), then `./Templates`, are tried.
    public static func load(stackPath: String, templatesDirectory: String? = nil) throws(StackError) -> StackConfiguration {
        let stack = try StackFile.load(stackPath)
        let directory = templatesDirectory ?? locateTemplates(for: stack)
        var templates: [Template] = []
        for phase in Phase.allCases { templates.append(try Template.load(phase: phase, directory: directory)) }
        return try StackConfiguration(stack: stack, templates: templates, templatesDirectory: directory)
    }

    static func locateTemplates(for stack: StackFile) -> String {
        let stackDirectory = (stack.file as NSString).deletingLastPathComponent
        if let named = stack.templates {
            return named.hasPrefix("/") ? named : (stackDirectory.isEmpty ? named : (stackDirectory as NSString).appendingPathComponent(named))
        }
        let base = stackDirectory.isEmpty ? "." : stackDirectory
        for candidate in ["Templates", "../Templates"] {
            let path = ((base as NSString).appendingPathComponent(candidate) as NSString).standardizingPath
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return path }
        }
        return "Templates"
    }

    /// Checks a parsed stack against parsed templates (one per phase, in phase order).
    public init(stack: StackFile, templates: [Template], templatesDirectory: String = "Templates") throws(StackError) {
        self.stack = stack
        self.templates = templates
        self.templatesDirectory = templatesDirectory
        parameters = [:]
        sensitiveParameters = [:]
        warnings = []
        for template in templates {
            let (values, sensitive) = try Self.resolveParameters(template, stack: stack)
            parameters[template.phase] = values
            sensitiveParameters[template.phase] = sensitive
            let given = Dictionary((stack.phaseParameters[template.phase] ?? []).map { ($0.key, $0.value.location) }) { first, _ in first }
            for parameter in template.parameters {
                for message in parameter.warnings(for: values[parameter.name] ?? .null) {
                    warnings.append(("\(template.phase.rawValue): \(message)", given[parameter.name] ?? parameter.location))
                }
            }
        }
        try ReferenceChecker(templates: templates).check()
        blockGraph = try Self.buildGraph(templates)
        let order = blockGraph.topologicalOrder()
        let blocks = Dictionary(uniqueKeysWithValues: templates.flatMap(\.resources).map { ($0.blockAddress, $0) })
        orderedBlocks = order.compactMap { blocks[$0] }
        try checkProtect()
    }

    private static func resolveParameters(_ template: Template, stack: StackFile) throws(StackError) -> ([String: Value], Set<String>) {
        let given = stack.phaseParameters[template.phase] ?? []
        let declared = Dictionary(uniqueKeysWithValues: template.parameters.map { ($0.name, $0) })
        var values: [String: Value] = [:]
        for member in given {
            guard let parameter = declared[member.key] else {
                throw StackError(Suggestion.message("the \(template.phase.rawValue) template has no parameter '\(SafeText.quoted(member.key))'",
                                                    for: member.key, among: declared.keys), at: member.keyLocation)
            }
            values[member.key] = try parameter.check(member.value, stack: ["name": stack.name, "account": stack.account, "region": stack.region])
        }
        for parameter in template.parameters where values[parameter.name] == nil {
            guard let value = parameter.defaultValue else {
                throw StackError("phase '\(template.phase.rawValue)' needs a value for parameter '\(parameter.name)' (\(parameter.type)), declared at \(parameter.location)",
                                 at: stack.phaseLocations[template.phase] ?? SourceLocation(file: stack.file, line: 1, column: 1))
            }
            values[parameter.name] = value
        }
        return (values, Set(template.parameters.filter(\.sensitive).map(\.name)))
    }

    private static func buildGraph(_ templates: [Template]) throws(StackError) -> DependencyGraph<String> {
        var graph = DependencyGraph<String>()
        var outputBlocks: [String: Set<String>] = [:]
        for template in templates {
            let phase = template.phase.rawValue
            for resource in template.resources { graph.add(resource.blockAddress) }
            for resource in template.resources {
                var expressions = resource.properties.map(\.expression)
                if let count = resource.count { expressions.append(count) }
                for expression in expressions {
                    for reference in expression.traversals() {
                        for block in Self.blocks(referencedBy: reference.root, reference.steps, phase: phase, outputs: outputBlocks) {
                            graph.add(resource.blockAddress, dependsOn: block)
                        }
                    }
                }
                for dependency in resource.dependsOn {
                    let target = dependency.name.contains(".") ? dependency.name : "\(phase).\(dependency.name)"
                    guard templates.contains(where: { $0.resources.contains { $0.blockAddress == target } }) else {
                        throw StackError("depends_on names '\(SafeText.quoted(dependency.name))', which is not a declared resource", at: dependency.location)
                    }
                    graph.add(resource.blockAddress, dependsOn: target)
                }
            }
            for output in template.outputs {
                let blocks = output.expression.traversals().flatMap {
                    Self.blocks(referencedBy: $0.root, $0.steps, phase: phase, outputs: outputBlocks)
                }
                outputBlocks["\(phase).\(output.name)"] = Set(blocks)
            }
        }
        if let cycle = graph.cycle() {
            let first = templates.flatMap(\.resources).first { $0.blockAddress == cycle[0] }
            throw StackError("dependency cycle: \(cycle.joined(separator: " -> "))", at: first?.location)
        }
        return graph
    }

    /// The resource blocks a reference reaches, directly or through an earlier phase's output.
    private static func blocks(referencedBy root: String, _ steps: [Expression.Step], phase: String,
                               outputs: [String: Set<String>]) -> [String] {
        switch root {
        case "param", "stack", "count": return []
        default:
            guard Phase(rawValue: root) != nil else { return ["\(phase).\(root)"] }
            guard case .attribute(let name) = steps.first else { return [] }
            if name == "outputs", steps.count > 1, case .attribute(let output) = steps[1] {
                return Array(outputs["\(root).\(output)"] ?? [])
            }
            return ["\(root).\(name)"]
        }
    }

    private func checkProtect() throws(StackError) {
        let blocks = Set(orderedBlocks.map(\.blockAddress))
        for entry in stack.protect {
            guard let address = ResourceAddress(entry.address), blocks.contains(address.block) else {
                throw StackError(Suggestion.message("protect names '\(SafeText.quoted(entry.address))', which is not a declared resource",
                                                    for: entry.address, among: blocks), at: entry.location)
            }
        }
    }

    /// The template of a phase.
    public func template(_ phase: Phase) -> Template? { templates.first { $0.phase == phase } }
}
