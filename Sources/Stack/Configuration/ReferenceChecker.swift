import TextSafety

/// Checks, before anything is evaluated, that every reference and function call in the templates names
/// something that exists and is visible from where it is used.
struct ReferenceChecker {
    let templates: [Template]

    private enum Use {
        case property(counted: Bool)
        case count
        case output
    }

    func check() throws(StackError) {
        for template in templates {
            for resource in template.resources {
                for property in resource.properties {
                    try check(property.expression, in: template, use: .property(counted: resource.count != nil), at: property.location)
                }
                if let count = resource.count {
                    try check(count, in: template, use: .count, at: resource.location)
                    for reference in count.traversals() where reference.root == resource.name {
                        throw StackError("the count of '\(resource.name)' cannot refer to the resource itself", at: reference.location)
                    }
                }
            }
            for output in template.outputs {
                try check(output.expression, in: template, use: .output, at: output.location)
            }
        }
    }

    private func check(_ expression: Expression, in template: Template, use: Use, at location: SourceLocation) throws(StackError) {
        for call in expression.calls(at: location) where !StandardLibrary.names.contains(call.name) {
            throw StackError(Suggestion.message("unknown function '\(SafeText.quoted(call.name))'", for: call.name, among: StandardLibrary.names),
                             at: call.location ?? location)
        }
        for reference in expression.traversals(at: location) {
            try check(reference.root, reference.steps, in: template, use: use, at: reference.location ?? location)
        }
    }

    private func check(_ root: String, _ steps: [Expression.Step], in template: Template, use: Use,
                       at location: SourceLocation) throws(StackError) {
        let firstName: String? = if case .attribute(let name) = steps.first { name } else { nil }
        switch root {
        case "param":
            let names = template.parameters.map(\.name)
            guard let name = firstName else { throw StackError("write param.<name>", at: location) }
            guard names.contains(name) else {
                throw StackError(Suggestion.message("the \(template.phase.rawValue) template declares no parameter '\(name)'",
                                                    for: name, among: names), at: location)
            }
        case "stack":
            let names = ["name", "account", "region", "partition", "tags"]
            guard let name = firstName, names.contains(name) else {
                throw StackError(Suggestion.message("unknown reference 'stack.\(firstName ?? "")'", for: firstName ?? "",
                                                    among: names) + " (stack has name, account, region, partition, tags)", at: location)
            }
        case "count":
            guard firstName == "index" else { throw StackError("'count' has only 'count.index'", at: location) }
            guard case .property(counted: true) = use else {
                throw StackError("count.index is only available in the properties of a resource with count", at: location)
            }
        default:
            if let phase = Phase(rawValue: root) {
                guard phase.order <= template.phase.order else {
                    throw StackError("'\(root)' is a later phase than '\(template.phase.rawValue)'; a phase can only refer to itself and earlier phases",
                                     at: location)
                }
                guard let target = templates.first(where: { $0.phase == phase }), let name = firstName else {
                    throw StackError("write \(root).<resource>.<attribute> or \(root).outputs.<name>", at: location)
                }
                if name == "outputs" {
                    guard phase.order < template.phase.order else {
                        throw StackError("the outputs of '\(root)' are only visible to later phases; refer to its resources directly",
                                         at: location)
                    }
                    let outputName: String? = if steps.count > 1, case .attribute(let output) = steps[1] { output } else { nil }
                    let names = target.outputs.map(\.name)
                    guard let outputName, names.contains(outputName) else {
                        throw StackError(Suggestion.message("phase '\(root)' has no output '\(SafeText.quoted(outputName ?? ""))'",
                                                            for: outputName ?? "", among: names), at: location)
                    }
                    return
                }
                try checkResource(name, Array(steps.dropFirst()), in: target, at: location)
            } else {
                try checkResource(root, steps, in: template, at: location)
            }
        }
    }

    private func checkResource(_ name: String, _ steps: [Expression.Step], in template: Template,
                               at location: SourceLocation) throws(StackError) {
        guard let resource = template.resources.first(where: { $0.name == name }) else {
            let candidates = template.resources.map(\.name) + ["param", "stack", "count"] + Phase.allCases.map(\.rawValue)
            throw StackError(Suggestion.message("unknown reference '\(name)': no resource '\(name)' in the \(template.phase.rawValue) template",
                                                for: name, among: candidates), at: location)
        }
        var rest = steps[...]
        if resource.count != nil {
            switch rest.first {
            case .index, .splat: rest.removeFirst()
            default:
                throw StackError("'\(name)' has count; use \(name)[count.index], \(name)[0] or \(name)[*]", at: location)
            }
        } else if case .index = rest.first {
            throw StackError("'\(name)' has no count; refer to it without an index", at: location)
        }
        guard case .attribute(let attribute) = rest.first else {
            throw StackError("refer to an attribute of '\(name)', such as \(name).\(resource.schema.computed.first ?? "id")", at: location)
        }
        let known = Array(resource.schema.attributes.keys) + resource.schema.computed + resource.schema.derived
        guard known.contains(attribute) else {
            throw StackError(Suggestion.message("\(resource.type) has no attribute '\(SafeText.quoted(attribute))'", for: attribute, among: known),
                             at: location)
        }
    }
}
