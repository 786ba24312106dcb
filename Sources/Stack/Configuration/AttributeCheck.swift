import TextSafety

/// Checks an evaluated property against its schema; unknown values pass until apply knows them.
enum AttributeCheck {
    static func check(_ value: Value, _ schema: AttributeSchema, name: String, type: String) throws(EvaluationFailure) {
        if value == .unknown || value == .null { return }
        func mismatch(_ expected: String) -> EvaluationFailure {
            EvaluationFailure("\(type) property '\(name)' must be \(expected), found \(value.typeName) \(value)")
        }
        switch schema.kind {
        case .string:
            guard case .string(let text) = value else { throw mismatch("a string") }
            try checkAllowed(text, schema, name: name)
            if let pattern = schema.pattern, text.wholeMatch(of: try! Regex(pattern.expression)) == nil {
                throw EvaluationFailure("\(type) property '\(name)' must be \(pattern.says), not '\(SafeText.quoted(text))'")
            }
        case .int:
            guard let number = value.intValue else { throw mismatch("an int") }
            try checkAllowed(String(number), schema, name: name)
            if let range = schema.range, !range.contains(number) {
                throw EvaluationFailure("\(type) property '\(name)' must be between \(range.lowerBound) and \(range.upperBound), not \(number)")
            }
        case .bool:
            guard case .bool = value else { throw mismatch("true or false") }
        case .cidr:
            guard case .string(let text) = value else { throw mismatch("a CIDR block") }
            _ = try CIDR(text)
        case .map:
            guard case .map = value else { throw mismatch("a map") }
        case .policy:
            switch value {
            case .map(let entries):
                guard entries["Statement"] != nil else {
                    throw EvaluationFailure("\(type) property '\(name)' is a policy document and needs a 'Statement'")
                }
            case .string: break
            default: throw mismatch("a policy document (an object)")
            }
        case .stringList, .cidrList, .objectList:
            guard case .list(let items) = value else { throw mismatch("a \(schema.kind.rawValue)") }
            for item in items where item != .unknown {
                switch schema.kind {
                case .stringList:
                    guard case .string = item else { throw mismatch("a list of strings") }
                case .cidrList:
                    guard case .string(let text) = item else { throw mismatch("a list of CIDR blocks") }
                    _ = try CIDR(text)
                default:
                    guard case .map = item else { throw mismatch("a list of objects") }
                }
            }
        }
    }

    private static func checkAllowed(_ text: String, _ schema: AttributeSchema, name: String) throws(EvaluationFailure) {
        guard let allowed = schema.allowed, !allowed.contains(text) else { return }
        throw EvaluationFailure(Suggestion.message("'\(name)' must be one of \(allowed.joined(separator: ", ")), not '\(SafeText.quoted(text))'",
                                                   for: text, among: allowed))
    }
}
