/// Turns JSON5 property values into expressions: strings are scanned for `${...}`; a string that is exactly one
/// interpolation keeps the value's type (a number stays a number, a list a list); `$${` writes a literal `${`.
public enum ExpressionParser {
    /// The expression for a whole JSON5 value.
    public static func compile(_ node: JSON5Node) throws(StackError) -> Expression {
        switch node.kind {
        case .string(let text):
            return .located(try template(text, at: node.location), node.location)
        case .array(let items):
            var compiled: [Expression] = []
            for item in items { compiled.append(try compile(item)) }
            return .list(compiled)
        case .object(let members):
            var compiled: [(String, Expression)] = []
            for member in members { compiled.append((member.key, try compile(member.value))) }
            return .object(compiled)
        default:
            return .literal(Value(node))
        }
    }

    /// Parses a string that may contain interpolations.
    static func template(_ text: String, at location: SourceLocation) throws(StackError) -> Expression {
        let characters = Array(text)
        var parts: [Expression.TemplatePart] = []
        var literal = ""
        var index = 0
        while index < characters.count {
            if characters[index] == "$", index + 2 < characters.count, characters[index + 1] == "$", characters[index + 2] == "{" {
                literal += "${"
                index += 3
                continue
            }
            guard characters[index] == "$", index + 1 < characters.count, characters[index + 1] == "{" else {
                literal.append(characters[index])
                index += 1
                continue
            }
            let start = index + 2
            guard let end = closingBrace(characters, from: start) else {
                throw StackError("'${' is never closed", at: shifted(location, by: index))
            }
            if !literal.isEmpty {
                parts.append(.text(literal))
                literal = ""
            }
            var parser = Parser(characters: Array(characters[start..<end]), location: shifted(location, by: start))
            parts.append(.interpolation(try parser.parseAll()))
            index = end + 1
        }
        if !literal.isEmpty { parts.append(.text(literal)) }
        if parts.isEmpty { return .literal(.string("")) }
        if parts.count == 1, case .text(let text) = parts[0] { return .literal(.string(text)) }
        if parts.count == 1, case .interpolation(let expression) = parts[0] { return expression }
        return .template(parts)
    }

    /// The index of the `}` closing an interpolation, skipping braces inside quoted strings.
    private static func closingBrace(_ characters: [Character], from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var index = start
        while index < characters.count {
            let character = characters[index]
            if inString {
                if character == "\\" { index += 1 } else if character == "\"" { inString = false }
            } else if character == "\"" {
                inString = true
            } else if character == "{" {
                depth += 1
            } else if character == "}" {
                if depth == 0 { return index }
                depth -= 1
            }
            index += 1
        }
        return nil
    }

    /// The location `offset` characters into a string literal (past its opening quote).
    static func shifted(_ location: SourceLocation, by offset: Int) -> SourceLocation {
        SourceLocation(file: location.file, line: location.line, column: location.column + 1 + offset)
    }
}

/// A precedence-climbing parser for the expression language inside `${...}`.
private struct Parser {
    let characters: [Character]
    let location: SourceLocation
    var index = 0

    init(characters: [Character], location: SourceLocation) {
        self.characters = characters
        self.location = SourceLocation(file: location.file, line: location.line, column: location.column - 1)
    }

    mutating func parseAll() throws(StackError) -> Expression {
        skipSpace()
        guard index < characters.count else { throw error("empty expression '${}'") }
        let expression = try conditional()
        skipSpace()
        guard index >= characters.count else { throw error("unexpected '\(characters[index])' in expression") }
        return expression
    }

    private func error(_ message: String) -> StackError {
        StackError(message, at: ExpressionParser.shifted(location, by: index))
    }

    private mutating func skipSpace() {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
    }

    private mutating func consume(_ token: String) -> Bool {
        skipSpace()
        let tokenCharacters = Array(token)
        guard index + tokenCharacters.count <= characters.count,
              Array(characters[index..<(index + tokenCharacters.count)]) == tokenCharacters else { return false }
        index += tokenCharacters.count
        return true
    }

    private mutating func expect(_ token: String) throws(StackError) {
        guard consume(token) else {
            let found = index < characters.count ? "'\(characters[index])'" : "the end of the expression"
            throw error("expected '\(token)', found \(found)")
        }
    }

    private mutating func conditional() throws(StackError) -> Expression {
        let test = try binary(precedence: 0)
        guard consume("?") else { return test }
        let then = try conditional()
        try expect(":")
        return .conditional(test, then, try conditional())
    }

    private static let levels: [[Expression.BinaryOperator]] = [
        [.or], [.and], [.equal, .notEqual], [.lessOrEqual, .greaterOrEqual, .less, .greater],
        [.add, .subtract], [.multiply, .divide, .remainder],
    ]

    private mutating func binary(precedence: Int) throws(StackError) -> Expression {
        guard precedence < Self.levels.count else { return try unary() }
        var left = try binary(precedence: precedence + 1)
        outer: while true {
            for candidate in Self.levels[precedence] {
                let saved = index
                guard consume(candidate.rawValue) else { continue }
                // `<` must not swallow `<=`, and `!` comparisons must not be read as `!=` prefixes
                if candidate == .less || candidate == .greater, index < characters.count, characters[index] == "=" {
                    index = saved
                    continue
                }
                left = .binary(candidate, left, try binary(precedence: precedence + 1))
                continue outer
            }
            return left
        }
    }

    private mutating func unary() throws(StackError) -> Expression {
        if consume("!") { return .unary(.not, try unary()) }
        if consume("-") { return .unary(.negate, try unary()) }
        return try postfix(try primary())
    }

    private mutating func postfix(_ base: Expression) throws(StackError) -> Expression {
        var expression = base
        while true {
            if consume(".") {
                skipSpace()
                let name = identifier()
                if name.isEmpty, index < characters.count, characters[index] == "*" {
                    throw error("use name[*].attribute to collect an attribute from every instance")
                }
                guard !name.isEmpty else { throw error("expected an attribute name after '.'") }
                expression = .access(expression, .attribute(name))
            } else if consume("[") {
                if consume("*") {
                    try expect("]")
                    expression = .access(expression, .splat)
                } else {
                    let index = try conditional()
                    try expect("]")
                    expression = .access(expression, .index(index))
                }
            } else {
                return expression
            }
        }
    }

    private mutating func primary() throws(StackError) -> Expression {
        skipSpace()
        guard index < characters.count else { throw error("expected a value, found the end of the expression") }
        let character = characters[index]
        if character == "(" {
            index += 1
            let inner = try conditional()
            try expect(")")
            return inner
        }
        if character == "[" {
            index += 1
            var items: [Expression] = []
            if consume("]") { return .list(items) }
            repeat {
                if consume("]") { return .list(items) }
                items.append(try conditional())
            } while consume(",")
            try expect("]")
            return .list(items)
        }
        if character == "\"" { return .literal(.string(try string())) }
        if character.isNumber { return .literal(try number()) }
        let name = identifier()
        guard !name.isEmpty else { throw error("unexpected '\(character)' in expression") }
        switch name {
        case "true": return .literal(.bool(true))
        case "false": return .literal(.bool(false))
        case "null": return .literal(.null)
        default: break
        }
        if consume("(") {
            var arguments: [Expression] = []
            if consume(")") { return .call(name, arguments) }
            repeat { arguments.append(try conditional()) } while consume(",")
            try expect(")")
            return .call(name, arguments)
        }
        return .variable(name)
    }

    private mutating func identifier() -> String {
        let start = index
        while index < characters.count,
              characters[index].isLetter || characters[index] == "_" || (index > start && characters[index].isNumber) {
            index += 1
        }
        return String(characters[start..<index])
    }

    private mutating func number() throws(StackError) -> Value {
        let start = index
        while index < characters.count, characters[index].isNumber || characters[index] == "." { index += 1 }
        let text = String(characters[start..<index])
        if let value = Int(text) { return .int(value) }
        if let value = Double(text) { return .double(value) }
        index = start
        throw error("invalid number '\(text)'")
    }

    private mutating func string() throws(StackError) -> String {
        index += 1
        var out = ""
        while index < characters.count {
            let character = characters[index]
            index += 1
            if character == "\"" { return out }
            if character == "\\", index < characters.count {
                let escaped = characters[index]
                index += 1
                switch escaped {
                case "n": out += "\n"
                case "t": out += "\t"
                default: out.append(escaped)
                }
            } else {
                out.append(character)
            }
        }
        throw error("string is never closed")
    }
}
