/// A parsed `${...}` expression, or a whole property value (lists, objects and strings with interpolations).
public indirect enum Expression: Sendable {
    /// One step after a name: `.attribute`, `[index]` or `[*]`.
    public enum Step: Sendable {
        case attribute(String)
        case index(Expression)
        case splat
    }

    public enum UnaryOperator: String, Sendable { case negate = "-", not = "!" }

    public enum BinaryOperator: String, Sendable {
        case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case and = "&&", or = "||"
    }

    /// A piece of an interpolated string.
    public enum TemplatePart: Sendable {
        case text(String)
        case interpolation(Expression)
    }

    case literal(Value)
    case variable(String)
    case access(Expression, Step)
    case call(String, [Expression])
    case unary(UnaryOperator, Expression)
    case binary(BinaryOperator, Expression, Expression)
    case conditional(Expression, Expression, Expression)
    case list([Expression])
    case object([(String, Expression)])
    case template([TemplatePart])
    /// Marks where a sub-expression came from, so evaluation errors point at the right line.
    case located(Expression, SourceLocation)

    /// A name followed by steps (`subnet[0].id`), when this expression is one.
    public var traversal: (root: String, steps: [Step])? {
        switch self {
        case .variable(let name): return (name, [])
        case .access(let base, let step):
            guard let (root, steps) = base.traversal else { return nil }
            return (root, steps + [step])
        case .located(let inner, _): return inner.traversal
        default: return nil
        }
    }

    /// Every traversal in the expression, outermost first, with the location of the nearest enclosing property.
    public func traversals(at location: SourceLocation? = nil) -> [(root: String, steps: [Step], location: SourceLocation?)] {
        if let (root, steps) = traversal {
            var found = [(root: root, steps: steps, location: location)]
            for case .index(let index) in steps { found += index.traversals(at: location) }
            return found
        }
        switch self {
        case .literal, .variable: return []
        case .access(let base, let step):
            var found = base.traversals(at: location)
            if case .index(let index) = step { found += index.traversals(at: location) }
            return found
        case .call(_, let arguments): return arguments.flatMap { $0.traversals(at: location) }
        case .unary(_, let operand): return operand.traversals(at: location)
        case .binary(_, let left, let right): return left.traversals(at: location) + right.traversals(at: location)
        case .conditional(let test, let then, let otherwise):
            return test.traversals(at: location) + then.traversals(at: location) + otherwise.traversals(at: location)
        case .list(let items): return items.flatMap { $0.traversals(at: location) }
        case .object(let members): return members.flatMap { $0.1.traversals(at: location) }
        case .template(let parts):
            return parts.flatMap { part -> [(root: String, steps: [Step], location: SourceLocation?)] in
                if case .interpolation(let inner) = part { return inner.traversals(at: location) }
                return []
            }
        case .located(let inner, let innerLocation): return inner.traversals(at: innerLocation)
        }
    }

    /// Every function called in the expression, with its location.
    public func calls(at location: SourceLocation? = nil) -> [(name: String, location: SourceLocation?)] {
        switch self {
        case .literal, .variable: return []
        case .access(let base, let step):
            if case .index(let index) = step { return base.calls(at: location) + index.calls(at: location) }
            return base.calls(at: location)
        case .call(let name, let arguments): return [(name, location)] + arguments.flatMap { $0.calls(at: location) }
        case .unary(_, let operand): return operand.calls(at: location)
        case .binary(_, let left, let right): return left.calls(at: location) + right.calls(at: location)
        case .conditional(let a, let b, let c): return a.calls(at: location) + b.calls(at: location) + c.calls(at: location)
        case .list(let items): return items.flatMap { $0.calls(at: location) }
        case .object(let members): return members.flatMap { $0.1.calls(at: location) }
        case .template(let parts):
            return parts.flatMap { part -> [(name: String, location: SourceLocation?)] in
                if case .interpolation(let inner) = part { return inner.calls(at: location) }
                return []
            }
        case .located(let inner, let innerLocation): return inner.calls(at: innerLocation)
        }
    }
}
