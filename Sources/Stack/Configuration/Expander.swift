import Foundation
import TextSafety

/// Evaluates a checked stack into desired resources, block by block in dependency order.
///
/// Attributes the cloud assigns (ids, ARNs) come from `computed`: the planner answers with the recorded values
/// for a resource it keeps, and unknown for one it creates or replaces, so that references to kept resources
/// stay known and do not ripple into false changes.
public struct Expander {
    public typealias ComputedAttributes = (DesiredResource) throws(StackError) -> [String: Value]

    private let configuration: StackConfiguration
    private var blocks: [String: ResourceInstances] = [:]
    private var outputs: [Phase: [String: PhaseOutput]] = [:]

    public init(_ configuration: StackConfiguration) {
        self.configuration = configuration
    }

    /// Every computed attribute unknown: what a first apply would see.
    public static func allUnknown(_ resource: DesiredResource) -> [String: Value] {
        Dictionary(uniqueKeysWithValues: resource.schema.computed.map { ($0, Value.unknown) })
    }

    /// Expands the whole stack, calling `computed` once per instance in apply order.
    public mutating func expand(computed: ComputedAttributes = Expander.allUnknown) throws(StackError) -> ExpandedStack {
        Expander.observer?.fullExpansion()
        let expanded = try evaluate(computed: computed, previous: nil)
        try NetworkValidation.check(expanded.resources)
        try InlinePolicyValidation.check(expanded.resources)
        return expanded
    }

    /// `previous` (an expansion of this same configuration) again with new computed attributes, evaluating only
    /// what they reach: a block is evaluated again when a resource it refers to has changed (its computed
    /// attributes, or its own properties evaluated again), and kept as it was otherwise; a kept artifact is never
    /// hashed again. Outputs are evaluated again. What apply does as each resource is created.
    public mutating func refine(_ previous: ExpandedStack, computed: ComputedAttributes) throws(StackError) -> ExpandedStack {
        try evaluate(computed: computed, previous: previous)
    }

    private mutating func evaluate(computed: ComputedAttributes, previous: ExpandedStack?) throws(StackError) -> ExpandedStack {
        var resources: [DesiredResource] = []
        var computedByAddress: [ResourceAddress: [String: Value]] = [:]
        var sensitiveOutputs: Set<String> = []
        let before = Dictionary((previous?.resources ?? []).map { ($0.address, $0) }) { first, _ in first }
        // resources whose computed attributes or properties differ from `previous`
        var changed: Set<ResourceAddress> = []
        var phaseIndex = 0
        let phases = Phase.allCases
        for block in configuration.orderedBlocks {
            while phases[phaseIndex] != block.phase {
                sensitiveOutputs.formUnion(try evaluateOutputs(phases[phaseIndex]))
                phaseIndex += 1
            }
            let kept = previous?.resources.filter { $0.address.phase == block.phase.rawValue && $0.address.name == block.name } ?? []
            let stale = previous == nil || kept.isEmpty || kept.contains { $0.dependencies.contains(where: changed.contains) }
            let instances = stale ? try expand(block, artifacts: kept) : kept
            var values: [[String: Value]] = []
            for instance in instances {
                var attributes = instance.properties
                let known = try computed(instance)
                for (name, value) in known { attributes[name] = value }
                values.append(attributes)
                computedByAddress[instance.address] = known
                if previous != nil, previous?.computed[instance.address] != known || before[instance.address]?.properties != instance.properties {
                    changed.insert(instance.address)
                }
            }
            blocks[block.blockAddress] = ResourceInstances(counted: block.count != nil, instances: values)
            resources += instances
        }
        while phaseIndex < phases.count {
            sensitiveOutputs.formUnion(try evaluateOutputs(phases[phaseIndex]))
            phaseIndex += 1
        }
        return ExpandedStack(resources: resources, outputs: outputs.mapValues { $0.mapValues(\.value) },
                             sensitiveOutputs: sensitiveOutputs, computed: computedByAddress)
    }

    private func evaluator(_ phase: Phase, countIndex: Int? = nil) -> Evaluator {
        let stack = configuration.stack
        let blocks = self.blocks
        let outputs = self.outputs
        return Evaluator(phase: phase.rawValue, parameters: configuration.parameters[phase] ?? [:],
                         sensitiveParameters: configuration.sensitiveParameters[phase] ?? [],
                         stack: ["name": .string(stack.name), "account": .string(stack.account),
                                 "region": .string(stack.region), "partition": .string(stack.partition), "tags": .map(stack.tags.mapValues(Value.string))],
                         countIndex: countIndex,
                         resources: { phase, name in blocks["\(phase).\(name)"] },
                         outputs: { phase, name in Phase(rawValue: phase).flatMap { outputs[$0]?[name] } })
    }

    /// The instances of `block`; `artifacts`, instances of it evaluated before, lend their hashed files.
    private func expand(_ block: ResourceDeclaration, artifacts earlier: [DesiredResource] = []) throws(StackError) -> [DesiredResource] {
        let hashed = Dictionary(earlier.compactMap { resource in resource.artifact.map { (resource.address, $0) } }) { first, _ in first }
        guard let countExpression = block.count else { return [try instance(block, index: nil, hashed: hashed)] }
        var counter = evaluator(block.phase)
        let value = try counter.evaluate(countExpression, at: block.location)
        guard let count = value.intValue else {
            let reason = value == .unknown ? "a value known only after apply" : "a \(value.typeName)"
            throw StackError("the count of '\(block.name)' must be a whole number known before apply, not \(reason)", at: block.location)
        }
        guard (0...1000).contains(count) else {
            throw StackError("the count of '\(block.name)' must be between 0 and 1000, not \(count)", at: block.location)
        }
        var instances: [DesiredResource] = []
        for index in 0..<count { instances.append(try instance(block, index: index, hashed: hashed)) }
        return instances
    }

    private func instance(_ block: ResourceDeclaration, index: Int?,
                          hashed: [ResourceAddress: LocalArtifact]) throws(StackError) -> DesiredResource {
        let address = ResourceAddress(phase: block.phase.rawValue, name: block.name, index: index)
        var evaluator = evaluator(block.phase, countIndex: index)
        var properties: [String: Value] = [:]
        var sensitive: Set<String> = []
        var locations: [String: SourceLocation] = [:]
        var dependencies: Set<ResourceAddress> = []
        for property in block.properties {
            evaluator.resetTracking()
            let value = try evaluator.evaluate(property.expression, at: property.location)
            guard let schema = block.schema.attributes[property.name] else { continue }
            if schema.fixed {
                throw StackError("\(address): '\(property.name)' is kept by deploy at \(schema.defaultValue.map { "\($0)" } ?? "none") and cannot be set",
                                 at: property.location)
            }
            do {
                try AttributeCheck.check(value, schema, name: property.name, type: block.type)
            } catch {
                throw StackError("\(address): \(error.message)", at: property.location)
            }
            properties[property.name] = value
            locations[property.name] = property.location
            dependencies.formUnion(evaluator.dependencies)
            if evaluator.usedSensitive || schema.sensitive { sensitive.insert(property.name) }
        }
        let artifact = try localArtifact(block, address: address, properties: properties, locations: locations, hashed: hashed[address])
        if let artifact {
            properties.merge(artifact.attributes) { _, derived in derived }
            if let name = properties["check"]?.stringValue, let check = block.schema.contentChecks[name] {
                let property = block.schema.localFile ?? block.schema.templateFile ?? ""
                let written = properties[property]?.stringValue ?? ""
                do {
                    try check(try artifact.contents(atMost: ContentCheck.maximumSize), artifact.offset == 0 ? artifact.path : written)
                } catch {
                    throw StackError("\(address): '\(written)' \(error.message)", at: locations[property] ?? block.location)
                }
            }
            if let inspect = block.schema.localFileAttributes {
                let property = block.schema.localFile ?? block.schema.templateFile ?? ""
                do {
                    properties.merge(try inspect(try artifact.contents(atMost: PEMBundle.maximumSize))) { _, derived in derived }
                } catch {
                    throw StackError("\(address): '\(properties[property]?.stringValue ?? "")' \(error.message)",
                                     at: locations[property] ?? block.location)
                }
            }
        }
        // a property left out (or null) is desired as its default, or as absent: what the account holds beyond it is
        // drift; and the schema's defaults are the only ones, so handlers count on every defaulted property being here
        for (name, schema) in block.schema.attributes where properties[name] == nil || properties[name] == .null {
            if !schema.awsDefaultWhenOmitted { properties[name] = schema.defaultValue ?? .null }
            if schema.sensitive { sensitive.insert(name) }
        }
        if let problem = block.schema.consistency?(properties) {
            throw StackError("\(address): \(problem.message)", at: locations[problem.property] ?? block.location)
        }
        if block.schema.taggable {
            properties["tags"] = .map(try tags(for: address, schema: block.schema, declared: properties["tags"],
                                               at: locations["tags"] ?? configuration.stack.tagsLocation ?? block.location))
        }
        for dependency in block.dependsOn {
            let target = dependency.name.contains(".") ? dependency.name : "\(block.phase.rawValue).\(dependency.name)"
            guard let instances = blocks[target], let phase = target.split(separator: ".").first,
                  let name = target.split(separator: ".").last else { continue }
            for position in instances.instances.indices {
                dependencies.insert(ResourceAddress(phase: String(phase), name: String(name), index: instances.counted ? position : nil))
            }
        }
        let protected = block.protected || configuration.stack.protect.contains {
            $0.address == address.description || $0.address == address.block
        }
        return DesiredResource(address: address, type: block.type, schema: block.schema, properties: properties,
                               sensitive: sensitive, dependencies: dependencies.sorted(), protected: protected,
                               propertyLocations: locations, location: block.location, artifact: artifact)
    }

    /// The local file a resource uploads, hashed: named beside the stack (`source`) or among the templates
    /// (`template_file`), exactly one of them.
    private func localArtifact(_ block: ResourceDeclaration, address: ResourceAddress, properties: [String: Value],
                               locations: [String: SourceLocation], hashed: LocalArtifact?) throws(StackError) -> LocalArtifact? {
        guard block.schema.localFile != nil || block.schema.templateFile != nil else { return nil }
        let named = [(block.schema.localFile, (configuration.stack.file as NSString).deletingLastPathComponent),
                     (block.schema.templateFile, configuration.templatesDirectory)]
            // a property evaluated to null is not set: a template can choose between the two
            .compactMap { property, base in property.flatMap { name in properties[name].flatMap { $0 == .null ? nil : (name, $0, base) } } }
        guard named.count == 1, let (property, value, base) = named.first else {
            let choices = [block.schema.localFile, block.schema.templateFile].compactMap { $0 }.joined(separator: " or ")
            throw StackError("\(address): set exactly one of \(choices)", at: block.location)
        }
        guard case .string(let relative) = value else {
            throw StackError("\(address): '\(property)' must be a file path known before apply", at: locations[property] ?? block.location)
        }
        let resolved = URL(fileURLWithPath: relative.hasPrefix("/") ? relative : (base as NSString).appendingPathComponent(relative))
            .standardizedFileURL.path
        let roots = configuration.artifactRoots
        let location = locations[property] ?? block.location
        let trees = "the stack's directory (\(SafeText.quoted(roots.stackDirectory))) and the templates (\(SafeText.quoted(roots.templatesDirectory)))"
        guard case .inside = roots.place(resolved) else {
            throw StackError("\(address): \(property) '\(SafeText.quoted(relative))' is outside \(trees); a stack uploads only files below them",
                             at: location)
        }
        if let bundled = configuration.bundledArtifacts[resolved] { return bundled }
        // evaluated again with what was created since: its file was hashed then, and is uploaded by that digest
        if let hashed, URL(fileURLWithPath: hashed.path).standardizedFileURL.path == resolved { return hashed }
        if case .linkedOutside(let target) = roots.locate(resolved) {
            throw StackError("\(address): \(property) '\(SafeText.quoted(relative))' is a symbolic link to \(SafeText.quoted(target)), outside "
                             + "\(trees); a stack uploads only files below them", at: location)
        }
        do {
            return try LocalArtifact.describe(relative, in: base, at: location, digest: configuration.hashesArtifacts)
        } catch {
            let beside = property == block.schema.localFile ? "the stack file" : "the templates"
            throw StackError("\(address): \(error.message) (\(property) is relative to \(beside))", at: error.location)
        }
    }

    /// The stack's tags, the template's and deploy's own, within what AWS takes: each key and value (a value known
    /// only after apply is checked by AWS itself), and how many there are on one resource.
    private func tags(for address: ResourceAddress, schema: ResourceSchema, declared: Value?,
                      at location: SourceLocation) throws(StackError) -> [String: Value] {
        var tags = configuration.stack.tags.mapValues(Value.string)
        if case .map(let own) = declared {
            for (key, value) in own.sorted(by: { $0.key < $1.key }) {
                switch value {
                case .string, .int, .double, .bool:
                    // a number or a flag is the text it interpolates as (`"${count.index}"` tags "0"), as AWS stores it
                    let text = value.interpolated
                    if let problem = TagLimits.problem(key: key, value: text) { throw StackError("\(address): \(problem.message)", at: location) }
                    tags[key] = .string(text)
                case .unknown, .null:  // null leaves the tag off, a stack tag of that name included
                    if let problem = TagLimits.problem(key: key, value: "") { throw StackError("\(address): \(problem.message)", at: location) }
                    tags[key] = value
                case .list, .map:
                    throw StackError("\(address): tag '\(SafeText.quoted(key))' must be a string, found \(value.typeName)", at: location)
                }
            }
        }
        tags[DeployTags.stack] = .string(configuration.stack.name)
        tags[DeployTags.address] = .string(address.description)
        tags[DeployTags.managedBy] = .string(DeployTags.managedByValue)
        let count = tags.values.count { $0 != .null }
        guard count <= schema.maxTags else {
            throw StackError("\(address): \(TagLimits.tooMany(count, limit: schema.maxTags, type: schema.type))", at: location)
        }
        return tags
    }

    private mutating func evaluateOutputs(_ phase: Phase) throws(StackError) -> Set<String> {
        guard let template = configuration.template(phase) else { return [] }
        var evaluator = evaluator(phase)
        var values: [String: PhaseOutput] = [:]
        var sensitive: Set<String> = []
        for output in template.outputs {
            evaluator.resetTracking()
            let value = try evaluator.evaluate(output.expression, at: output.location)
            values[output.name] = PhaseOutput(value: value, dependencies: evaluator.dependencies, sensitive: evaluator.usedSensitive)
            if evaluator.usedSensitive { sensitive.insert("\(phase.rawValue).\(output.name)") }
        }
        outputs[phase] = values
        return sensitive
    }
}
