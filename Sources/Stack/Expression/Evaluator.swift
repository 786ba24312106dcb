import TextSafety

/// An error while evaluating an expression, before a location is attached to it.
public struct EvaluationFailure: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// The instances of one resource block as expressions see them: their properties and computed attributes.
public struct ResourceInstances: Sendable {
    /// Whether the block has `count`, so references must say which instance.
    public var counted: Bool
    public var instances: [[String: Value]]

    public init(counted: Bool, instances: [[String: Value]]) {
        self.counted = counted
        self.instances = instances
    }
}

/// An evaluated output of a phase, remembering what it came from so that readers depend on those resources.
public struct PhaseOutput: Sendable {
    public var value: Value
    public var dependencies: Set<ResourceAddress>
    public var sensitive: Bool

    public init(value: Value, dependencies: Set<ResourceAddress> = [], sensitive: Bool = false) {
        self.value = value
        self.dependencies = dependencies
        self.sensitive = sensitive
    }
}

/// Evaluates expressions in the scope of one phase (and, for counted resources, one index), recording which
/// resources were referenced and whether a sensitive parameter was used.
public struct Evaluator {
    /// The phase whose template is being evaluated; bare resource names refer to it.
    public var phase: String
    public var parameters: [String: Value]
    public var sensitiveParameters: Set<String>
    /// `stack.name`, `stack.account`, `stack.region`, `stack.tags`.
    public var stack: [String: Value]
    /// `count.index`, inside a counted resource.
    public var countIndex: Int?
    /// The instances of a resource block in a phase, or nil if there is no such block.
    public var resources: (_ phase: String, _ name: String) -> ResourceInstances?
    /// An output of an earlier phase with the resources it was computed from, or nil if there is none.
    public var outputs: (_ phase: String, _ name: String) -> PhaseOutput?

    /// Resource instances the evaluated expressions referred to.
    public private(set) var dependencies: Set<ResourceAddress> = []
    /// Whether a sensitive parameter flowed into the result.
    public private(set) var usedSensitive = false

    public init(phase: String, parameters: [String: Value], sensitiveParameters: Set<String> = [],
                stack: [String: Value], countIndex: Int? = nil,
                resources: @escaping (String, String) -> ResourceInstances?,
                outputs: @escaping (String, String) -> PhaseOutput?) {
        self.phase = phase
        self.parameters = parameters
        self.sensitiveParameters = sensitiveParameters
        self.stack = stack
        self.countIndex = countIndex
        self.resources = resources
        self.outputs = outputs
    }

    /// Forgets what earlier evaluations referenced.
    public mutating func resetTracking() {
        dependencies = []
        usedSensitive = false
    }

    /// Evaluates `expression`; errors carry the location of the innermost located part.
    public mutating func evaluate(_ expression: Expression, at location: SourceLocation? = nil) throws(StackError) -> Value {
        do {
            return try value(of: expression, at: location)
        } catch let failure as LocatedFailure {
            throw StackError(failure.message, at: failure.location)
        } catch {
            throw StackError("\(error)", at: location)
        }
    }

    private struct LocatedFailure: Error {
        var message: String
        var location: SourceLocation?
    }

    private mutating func value(of expression: Expression, at location: SourceLocation?) throws -> Value {
        do {
            return try valueUnlocated(expression, at: location)
        } catch let failure as EvaluationFailure {
            throw LocatedFailure(message: failure.message, location: location)
        }
    }

    private mutating func valueUnlocated(_ expression: Expression, at location: SourceLocation?) throws -> Value {
        switch expression {
        case .literal(let value):
            return value
        case .located(let inner, let innerLocation):
            return try value(of: inner, at: innerLocation)
        case .variable, .access:
            if let (root, steps) = expression.traversal { return try traverse(root: root, steps: steps, at: location) }
            guard case .access(let base, let step) = expression else { throw EvaluationFailure("invalid reference") }
            return try apply([step], to: try value(of: base, at: location), at: location)
        case .call(let name, let arguments):
            var values: [Value] = []
            for argument in arguments { values.append(try value(of: argument, at: location)) }
            return try StandardLibrary.call(name, values)
        case .unary(let op, let operand):
            return try Operators.unary(op, try value(of: operand, at: location))
        case .binary(let op, let left, let right):
            let lhs = try value(of: left, at: location)
            if op == .and, lhs == .bool(false) { return .bool(false) }
            if op == .or, lhs == .bool(true) { return .bool(true) }
            return try Operators.binary(op, lhs, try value(of: right, at: location))
        case .conditional(let test, let then, let otherwise):
            switch try value(of: test, at: location) {
            case .bool(true): return try value(of: then, at: location)
            case .bool(false): return try value(of: otherwise, at: location)
            case .unknown: return .unknown
            case let other: throw EvaluationFailure("a condition must be a bool, not \(other.typeName)")
            }
        case .list(let items):
            var values: [Value] = []
            for item in items { values.append(try value(of: item, at: location)) }
            return .list(values)
        case .object(let members):
            var entries: [String: Value] = [:]
            for (key, member) in members { entries[key] = try value(of: member, at: location) }
            return .map(entries)
        case .template(let parts):
            var text = ""
            for part in parts {
                switch part {
                case .text(let literal): text += literal
                case .interpolation(let inner):
                    let piece = try value(of: inner, at: location)
                    switch piece {
                    case .unknown: return .unknown
                    case .list, .map: throw EvaluationFailure("cannot insert a \(piece.typeName) into a string; use join() or format()")
                    case .null: throw EvaluationFailure("cannot insert null into a string")
                    default:
                        let inserted = piece.interpolated
                        try Limits.checkString(bytes: text.utf8.count + inserted.utf8.count, from: "string template")
                        text += inserted
                    }
                }
            }
            return .string(text)
        }
    }

    private mutating func traverse(root: String, steps: [Expression.Step], at location: SourceLocation?) throws -> Value {
        var rest = steps[...]
        switch root {
        case "param":
            let name = try attributeName(&rest, after: "param")
            guard let value = parameters[name] else {
                throw EvaluationFailure(Suggestion.message("unknown parameter 'param.\(name)'", for: name, among: parameters.keys))
            }
            if sensitiveParameters.contains(name) { usedSensitive = true }
            return try apply(Array(rest), to: value, at: location)
        case "stack":
            let name = try attributeName(&rest, after: "stack")
            guard let value = stack[name] else {
                throw EvaluationFailure(Suggestion.message("unknown attribute 'stack.\(name)'", for: name, among: stack.keys))
            }
            return try apply(Array(rest), to: value, at: location)
        case "count":
            let name = try attributeName(&rest, after: "count")
            guard name == "index" else { throw EvaluationFailure("'count' has only 'count.index'") }
            guard let countIndex else { throw EvaluationFailure("count.index is only available in a resource with count") }
            return try apply(Array(rest), to: .int(countIndex), at: location)
        default:
            if let phase = Phase(rawValue: root) {
                let name = try attributeName(&rest, after: root)
                if name == "outputs" {
                    let output = try attributeName(&rest, after: "\(root).outputs")
                    guard let found = outputs(phase.rawValue, output) else {
                        throw EvaluationFailure("phase '\(root)' has no output '\(SafeText.quoted(output))'")
                    }
                    dependencies.formUnion(found.dependencies)
                    if found.sensitive { usedSensitive = true }
                    return try apply(Array(rest), to: found.value, at: location)
                }
                return try resource(phase: phase.rawValue, name: name, steps: &rest, at: location)
            }
            return try resource(phase: phase, name: root, steps: &rest, at: location)
        }
    }

    private mutating func resource(phase: String, name: String, steps: inout ArraySlice<Expression.Step>,
                                   at location: SourceLocation?) throws -> Value {
        guard let block = resources(phase, name) else {
            throw EvaluationFailure("unknown resource '\(phase).\(name)'")
        }
        guard block.counted else {
            if case .index = steps.first {
                throw EvaluationFailure("'\(phase).\(name)' has no count; refer to it without an index")
            }
            dependencies.insert(ResourceAddress(phase: phase, name: name))
            return try apply(Array(steps), to: .map(block.instances.first ?? [:]), at: location)
        }
        switch steps.first {
        case .splat:
            steps.removeFirst()
            for index in block.instances.indices { dependencies.insert(ResourceAddress(phase: phase, name: name, index: index)) }
            let items = block.instances.map { Value.map($0) }
            return try apply([.splat] + Array(steps), to: .list(items), at: location)
        case .index(let indexExpression):
            steps.removeFirst()
            let indexValue = try value(of: indexExpression, at: location)
            guard let index = indexValue.intValue else {
                throw EvaluationFailure("an instance index must be a known int, not \(indexValue.typeName)")
            }
            guard block.instances.indices.contains(index) else {
                throw EvaluationFailure("'\(phase).\(name)[\(index)]' does not exist: count is \(block.instances.count)")
            }
            dependencies.insert(ResourceAddress(phase: phase, name: name, index: index))
            return try apply(Array(steps), to: .map(block.instances[index]), at: location)
        default:
            throw EvaluationFailure("'\(phase).\(name)' has count; use \(name)[count.index], \(name)[0] or \(name)[*]")
        }
    }

    private func attributeName(_ steps: inout ArraySlice<Expression.Step>, after prefix: String) throws -> String {
        guard case .attribute(let name) = steps.first else { throw EvaluationFailure("expected '\(prefix).<name>'") }
        steps.removeFirst()
        return name
    }

    /// Applies attribute, index and splat steps to a value; after a splat, the rest apply to every element.
    private mutating func apply(_ steps: [Expression.Step], to start: Value, at location: SourceLocation?) throws -> Value {
        var current = start
        for (position, step) in steps.enumerated() {
            if current == .unknown { return .unknown }
            switch step {
            case .splat:
                guard case .list(let items) = current else { throw EvaluationFailure("[*] needs a list, not \(current.typeName)") }
                let rest = Array(steps[(position + 1)...])
                var mapped: [Value] = []
                for item in items { mapped.append(try apply(rest, to: item, at: location)) }
                return .list(mapped)
            case .attribute(let name):
                guard case .map(let entries) = current else {
                    throw EvaluationFailure("cannot read attribute '\(name)' of a \(current.typeName)")
                }
                guard let next = entries[name] else {
                    throw EvaluationFailure(Suggestion.message("no attribute '\(name)'", for: name, among: entries.keys))
                }
                current = next
            case .index(let indexExpression):
                let index = try value(of: indexExpression, at: location)
                current = try StandardLibrary.subscript(current, index)
            }
        }
        return current
    }
}
