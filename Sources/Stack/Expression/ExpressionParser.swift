import TextSafety

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
///
/// Every sub-expression carries its height, and none may be taller than `maximumHeight`: evaluation, traversal and
/// even releasing an expression recurse once per level, so a hostile `((((...))))` or `1+1+...+1` must be refused
/// here, as a clear error, instead of overflowing the stack later.
private struct Parser {
    static let maximumHeight = 64

    let characters: [Character]
    let location: SourceLocation
    var index = 0
    /// How deep the parser itself has recursed, bounded so that parsing cannot overflow the stack either.
    private var nesting = 0

    /// An expression with the number of levels it spans.
    struct Node {
        var expression: Expression
        var height: Int
    }

    init(characters: [Character], location: SourceLocation) {
        self.characters = characters
        self.location = SourceLocation(file: location.file, line: location.line, column: location.column - 1)
    }

    mutating func parseAll() throws(StackError) -> Expression {
        skipSpace()
        guard index < characters.count else { throw error("empty expression '${}'") }
        let node = try conditional()
        skipSpace()
        guard index >= characters.count else { throw error("unexpected '\(SafeText.quoted(String(characters[index])))' in expression") }
        return node.expression
    }

    private func error(_ message: String) -> StackError {
        StackError(message, at: ExpressionParser.shifted(location, by: index))
    }

    private var tooDeep: StackError {
        error("expression nested more than \(Self.maximumHeight) levels deep")
    }

    /// A node over `children`, refused when it would be taller than the limit.
    private func node(_ expression: Expression, over children: [Node]) throws(StackError) -> Node {
        let height = (children.map(\.height).max() ?? 0) + 1
        guard height <= Self.maximumHeight else { throw tooDeep }
        return Node(expression: expression, height: height)
    }

    private static func leaf(_ expression: Expression) -> Node { Node(expression: expression, height: 1) }

    /// Enters one level of the parser's own recursion.
    private mutating func descend() throws(StackError) {
        nesting += 1
        guard nesting <= Self.maximumHeight else { throw tooDeep }
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
            let found = index < characters.count ? "'\(SafeText.quoted(String(characters[index])))'" : "the end of the expression"
            throw error("expected '\(token)', found \(found)")
        }
    }

    private mutating func conditional() throws(StackError) -> Node {
        try descend()
        defer { nesting -= 1 }
        let test = try binary(precedence: 0)
        guard consume("?") else { return test }
        let then = try conditional()
        try expect(":")
        let otherwise = try conditional()
        return try node(.conditional(test.expression, then.expression, otherwise.expression), over: [test, then, otherwise])
    }

    private static let levels: [[Expression.BinaryOperator]] = [
        [.or], [.and], [.equal, .notEqual], [.lessOrEqual, .greaterOrEqual, .less, .greater],
        [.add, .subtract], [.multiply, .divide, .remainder],
    ]

    private mutating func binary(precedence: Int) throws(StackError) -> Node {
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
                let right = try binary(precedence: precedence + 1)
                left = try node(.binary(candidate, left.expression, right.expression), over: [left, right])
                continue outer
            }
            return left
        }
    }

    private mutating func unary() throws(StackError) -> Node {
        try descend()
        defer { nesting -= 1 }
        if consume("!") {
            let operand = try unary()
            return try node(.unary(.not, operand.expression), over: [operand])
        }
        if consume("-") {
            let operand = try unary()
            return try node(.unary(.negate, operand.expression), over: [operand])
        }
        return try postfix(try primary())
    }

    private mutating func postfix(_ base: Node) throws(StackError) -> Node {
        var current = base
        while true {
            if consume(".") {
                skipSpace()
                let name = identifier()
                if name.isEmpty, index < characters.count, characters[index] == "*" {
                    throw error("use name[*].attribute to collect an attribute from every instance")
                }
                guard !name.isEmpty else { throw error("expected an attribute name after '.'") }
                current = try node(.access(current.expression, .attribute(name)), over: [current])
            } else if consume("[") {
                if consume("*") {
                    try expect("]")
                    current = try node(.access(current.expression, .splat), over: [current])
                } else {
                    let index = try conditional()
                    try expect("]")
                    current = try node(.access(current.expression, .index(index.expression)), over: [current, index])
                }
            } else {
                return current
            }
        }
    }

    private mutating func primary() throws(StackError) -> Node {
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
            var items: [Node] = []
            if !consume("]") {
                repeat {
                    if consume("]") { return try node(.list(items.map(\.expression)), over: items) }
                    items.append(try conditional())
                } while consume(",")
                try expect("]")
            }
            return try node(.list(items.map(\.expression)), over: items)
        }
        if character == "\"" { return Self.leaf(.literal(.string(try string()))) }
        if character.isNumber { return Self.leaf(.literal(try number())) }
        let name = identifier()
        guard !name.isEmpty else { throw error("unexpected '\(SafeText.quoted(String(character)))' in expression") }
        switch name {
        case "true": return Self.leaf(.literal(.bool(true)))
        case "false": return Self.leaf(.literal(.bool(false)))
        case "null": return Self.leaf(.literal(.null))
        default: break
        }
        if consume("(") {
            var arguments: [Node] = []
            if !consume(")") {
                repeat { arguments.append(try conditional()) } while consume(",")
                try expect(")")
            }
            return try node(.call(name, arguments.map(\.expression)), over: arguments)
        }
        return Self.leaf(.variable(name))
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
        throw error("invalid number '\(SafeText.quoted(text))'")
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
