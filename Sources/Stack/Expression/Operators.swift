/// Arithmetic, comparison and logic on values; unknown operands give unknown results.
enum Operators {
    static func unary(_ op: Expression.UnaryOperator, _ operand: Value) throws -> Value {
        if operand == .unknown { return .unknown }
        switch (op, operand) {
        case (.not, .bool(let value)): return .bool(!value)
        case (.negate, .int(let value)):
            let (negated, overflow) = Int(0).subtractingReportingOverflow(value)
            guard !overflow else { throw EvaluationFailure("integer overflow: -(\(value)) does not fit in 64 bits") }
            return .int(negated)
        case (.negate, .double(let value)): return .double(-value)
        default: throw EvaluationFailure("cannot apply '\(op.rawValue)' to \(operand.typeName)")
        }
    }

    static func binary(_ op: Expression.BinaryOperator, _ lhs: Value, _ rhs: Value) throws -> Value {
        if lhs == .unknown || rhs == .unknown { return .unknown }
        switch op {
        case .equal: return .bool(equal(lhs, rhs))
        case .notEqual: return .bool(!equal(lhs, rhs))
        case .and, .or:
            guard case .bool(let a) = lhs, case .bool(let b) = rhs else {
                throw EvaluationFailure("'\(op.rawValue)' needs bools, not \(lhs.typeName) and \(rhs.typeName)")
            }
            return .bool(op == .and ? a && b : a || b)
        default:
            break
        }
        if case .int(let a) = lhs, case .int(let b) = rhs { return try integer(op, a, b) }
        guard let a = number(lhs), let b = number(rhs) else {
            throw EvaluationFailure("'\(op.rawValue)' needs numbers, not \(lhs.typeName) and \(rhs.typeName)")
        }
        let result: Value
        switch op {
        case .add: result = .double(a + b)
        case .subtract: result = .double(a - b)
        case .multiply: result = .double(a * b)
        case .divide:
            guard b != 0 else { throw EvaluationFailure("division by zero") }
            result = .double(a / b)
        case .remainder:
            guard b != 0 else { throw EvaluationFailure("division by zero") }
            result = .double(a.truncatingRemainder(dividingBy: b))
        case .less: return .bool(a < b)
        case .lessOrEqual: return .bool(a <= b)
        case .greater: return .bool(a > b)
        case .greaterOrEqual: return .bool(a >= b)
        default: throw EvaluationFailure("unsupported operator '\(op.rawValue)'")
        }
        if case .double(let number) = result, !number.isFinite {
            throw EvaluationFailure("number overflow: \(lhs) \(op.rawValue) \(rhs) is not a finite number")
        }
        return result
    }

    private static func integer(_ op: Expression.BinaryOperator, _ a: Int, _ b: Int) throws -> Value {
        func checked(_ result: (Int, Bool)) throws -> Value {
            guard !result.1 else { throw EvaluationFailure("integer overflow: \(a) \(op.rawValue) \(b) does not fit in 64 bits") }
            return .int(result.0)
        }
        switch op {
        case .add: return try checked(a.addingReportingOverflow(b))
        case .subtract: return try checked(a.subtractingReportingOverflow(b))
        case .multiply: return try checked(a.multipliedReportingOverflow(by: b))
        case .divide:
            guard b != 0 else { throw EvaluationFailure("division by zero") }
            return try checked(a.dividedReportingOverflow(by: b))
        case .remainder:
            guard b != 0 else { throw EvaluationFailure("division by zero") }
            return try checked(a.remainderReportingOverflow(dividingBy: b))
        case .less: return .bool(a < b)
        case .lessOrEqual: return .bool(a <= b)
        case .greater: return .bool(a > b)
        case .greaterOrEqual: return .bool(a >= b)
        default: throw EvaluationFailure("unsupported operator '\(op.rawValue)'")
        }
    }

    static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// Equality where 2 and 2.0 are the same number.
    static func equal(_ lhs: Value, _ rhs: Value) -> Bool {
        if let a = number(lhs), let b = number(rhs) { return a == b }
        return lhs == rhs
    }
}
