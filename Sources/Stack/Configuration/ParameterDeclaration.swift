import Foundation
import TextSafety

/// A typed input of a template, with its default and constraints.
public struct ParameterDeclaration: Sendable {
    public indirect enum ParameterType: Sendable, Equatable, CustomStringConvertible {
        case string, int, bool, cidr, map
        /// A block of named, typed fields (`fields`), each checked as a parameter of its own; null when not given.
        case object
        case list(of: ParameterType?)

        init?(_ name: String, element: String?) {
            switch name {
            case "string": self = .string
            case "int": self = .int
            case "bool": self = .bool
            case "cidr": self = .cidr
            case "map": self = .map
            case "object": self = .object
            case "list":
                guard let element else { self = .list(of: nil); return }
                guard let inner = ParameterType(element, element: nil), inner != .map, inner != .object else { return nil }
                self = .list(of: inner)
            default: return nil
            }
        }

        static let names = ["string", "int", "bool", "cidr", "list", "map", "object"]

        public var description: String {
            switch self {
            case .string: "string"
            case .int: "int"
            case .bool: "bool"
            case .cidr: "cidr"
            case .map: "map"
            case .object: "object"
            case .list(let element): element.map { "list of \($0)" } ?? "list"
            }
        }
    }

    public var name: String
    public var type: ParameterType
    public var description: String
    public var defaultValue: Value?
    public var allowed: [Value]?
    public var minimum: Int?
    public var maximum: Int?
    /// A regular expression every string value (every element, for a list) must match entirely; `${stack.region}`,
    /// `${stack.name}` and `${stack.account}` in it stand for the stack's own values, matched literally.
    public var pattern: String?
    /// A list's elements must all differ.
    public var unique: Bool
    /// Values that are accepted with a warning (`warn: [{ value: "0.0.0.0/0", message: "..." }]`); a list warns when
    /// it contains one.
    public var warnings: [(value: Value, message: String)]
    /// Kept out of plans and output.
    public var sensitive: Bool
    /// An object's fields, in declaration order.
    public var fields: [ParameterDeclaration] = []
    public var location: SourceLocation

    static let keys = ["type", "of", "description", "default", "allowed", "min", "max", "pattern", "sensitive", "unique", "warn", "fields"]

    init(name: String, node: JSON5Node) throws(StackError) {
        let fields = try ObjectFields(node, allowed: Self.keys, context: "parameter '\(name)'")
        let typeName = try fields.requiredString("type")
        let element = try fields.string("of")
        guard let type = ParameterType(typeName, element: element) else {
            let location = fields.location(of: element != nil && ParameterType(typeName, element: nil) != nil ? "of" : "type")
            throw StackError(Suggestion.message("unknown parameter type '\(element.map { "\(typeName) of \($0)" } ?? typeName)'",
                                                for: typeName, among: ParameterType.names), at: location)
        }
        self.name = name
        self.type = type
        self.description = try fields.string("description") ?? ""
        self.minimum = try fields.int("min")
        self.maximum = try fields.int("max")
        self.sensitive = try fields.bool("sensitive") ?? false
        self.unique = try fields.bool("unique") ?? false
        self.location = node.location
        self.warnings = []
        if type == .object {
            guard let fieldsNode = fields["fields"], case .object(let members) = fieldsNode.kind, !members.isEmpty else {
                throw StackError("parameter '\(name)' of type object needs 'fields', an object of field declarations", at: node.location)
            }
            for member in members { self.fields.append(try ParameterDeclaration(name: "\(name).\(member.key)", node: member.value)) }
        } else if let fieldsNode = fields["fields"] {
            throw StackError("'fields' is for parameters of type object, not \(type)", at: fieldsNode.location)
        }
        if let warnNode = fields["warn"] {
            guard case .array(let items) = warnNode.kind else { throw StackError("'warn' must be a list", at: warnNode.location) }
            for item in items {
                let warning = try ObjectFields(item, allowed: ["value", "message"], context: "warning")
                guard let valueNode = warning["value"] else { throw StackError("a warning needs a 'value'", at: item.location) }
                warnings.append((Value(valueNode), try warning.requiredString("message")))
            }
        }
        if let pattern = try fields.string("pattern") {
            guard (try? NSRegularExpression(pattern: Self.substitute(pattern, stack: [:]))) != nil else {
                throw StackError("'\(SafeText.quoted(pattern))' is not a valid regular expression", at: fields["pattern"]?.location)
            }
            self.pattern = pattern
        }
        if let allowedNode = fields["allowed"] {
            guard case .array(let items) = allowedNode.kind, !items.isEmpty else {
                throw StackError("'allowed' must be a non-empty list", at: allowedNode.location)
            }
            var values: [Value] = []
            for item in items { values.append(try Self.check(item, as: type, name: name)) }
            self.allowed = values
        }
        if let defaultNode = fields["default"] {
            self.defaultValue = try check(defaultNode)
        }
    }

    /// The value given for this parameter, checked against its type and constraints; `stack` holds the stack's
    /// `name`, `account` and `region` for patterns that refer to them.
    public func check(_ node: JSON5Node, stack: [String: String] = [:]) throws(StackError) -> Value {
        if type == .object { return try checkObject(node, stack: stack) }
        let value = try Self.check(node, as: type, name: name)
        if let allowed, !allowed.contains(value) {
            throw StackError("parameter '\(name)' must be one of \(allowed.map(\.description).joined(separator: ", ")), not \(SafeText.quoted(value.description))",
                             at: node.location)
        }
        let strings: [String] = value.stringValue.map { [$0] } ?? (value.listValue ?? []).compactMap(\.stringValue)
        for text in strings where ControlCharacters.present(in: text) {
            throw StackError("parameter '\(name)': '\(SafeText.quoted(text))' holds a control character", at: node.location)
        }
        if let pattern {
            let resolved = Self.substitute(pattern, stack: stack)
            if let regex = try? NSRegularExpression(pattern: "^(?:\(resolved))$") {
                for text in strings where regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                    throw StackError("parameter '\(name)': '\(SafeText.quoted(text))' does not match the pattern \(resolved)", at: node.location)
                }
            }
        }
        if unique, case .list(let items) = value {
            var seen: Set<Value> = []
            for item in items where !seen.insert(item).inserted {
                throw StackError("parameter '\(name)' lists \(SafeText.quoted(item.description)) more than once", at: node.location)
            }
        }
        if let number = value.intValue, type == .int {
            if let minimum, number < minimum {
                throw StackError("parameter '\(name)' must be at least \(minimum), not \(number)", at: node.location)
            }
            if let maximum, number > maximum {
                throw StackError("parameter '\(name)' must be at most \(maximum), not \(number)", at: node.location)
            }
        }
        if case .list(let items) = value {
            if let minimum, items.count < minimum {
                throw StackError("parameter '\(name)' needs at least \(minimum) item\(minimum == 1 ? "" : "s"), has \(items.count)", at: node.location)
            }
            if let maximum, items.count > maximum {
                throw StackError("parameter '\(name)' takes at most \(maximum) item\(maximum == 1 ? "" : "s"), has \(items.count)", at: node.location)
            }
        }
        return value
    }

    /// An object: null (not given), or each field checked as its own parameter, unknown fields refused, and the
    /// fields left out given their defaults.
    private func checkObject(_ node: JSON5Node, stack: [String: String]) throws(StackError) -> Value {
        guard case .object(let members) = node.kind else {
            if case .null = node.kind { return .null }
            throw StackError("parameter '\(name)' must be an object, found \(node.kindName)", at: node.location)
        }
        let declared = Dictionary(uniqueKeysWithValues: fields.map { (String($0.name.dropFirst(name.count + 1)), $0) })
        var values: [String: Value] = [:]
        for member in members {
            guard let field = declared[member.key] else {
                throw StackError(Suggestion.message("parameter '\(name)' has no field '\(SafeText.quoted(member.key))'",
                                                    for: member.key, among: declared.keys), at: member.keyLocation)
            }
            values[member.key] = try field.check(member.value, stack: stack)
        }
        for (key, field) in declared where values[key] == nil {
            guard let value = field.defaultValue else {
                throw StackError("parameter '\(name)' needs a value for '\(key)' (\(field.type))", at: node.location)
            }
            values[key] = value
        }
        return .map(values)
    }

    /// The warnings `value` earns, as messages.
    public func warnings(for value: Value) -> [String] {
        warnings.filter { candidate in value == candidate.value || value.listValue?.contains(candidate.value) == true }
            .map { candidate in "parameter '\(name)' holds \(candidate.value): \(candidate.message)" }
    }

    /// `pattern` with `${stack.name}`, `${stack.account}` and `${stack.region}` replaced by the stack's values, each
    /// escaped so that it matches only itself.
    static func substitute(_ pattern: String, stack: [String: String]) -> String {
        var out = pattern
        for key in ["name", "account", "region"] {
            out = out.replacingOccurrences(of: "${stack.\(key)}", with: NSRegularExpression.escapedPattern(for: stack[key] ?? "x"))
        }
        return out
    }

    private static func check(_ node: JSON5Node, as type: ParameterType, name: String) throws(StackError) -> Value {
        func mismatch() -> StackError {
            StackError("parameter '\(name)' must be \(type.article) \(type), found \(node.kindName)", at: node.location)
        }
        switch (type, node.kind) {
        case (.string, .string), (.bool, .bool), (.int, .int):
            return Value(node)
        case (.cidr, .string(let text)):
            do { _ = try CIDR(text) } catch { throw StackError("parameter '\(name)': \(error.message)", at: node.location) }
            return Value(node)
        case (.map, .object):
            return Value(node)
        case (.list(let element), .array(let items)):
            var values: [Value] = []
            for item in items {
                values.append(element == nil ? Value(item) : try check(item, as: element!, name: name))
            }
            return .list(values)
        default:
            throw mismatch()
        }
    }
}

extension ParameterDeclaration.ParameterType {
    var article: String {
        switch self {
        case .int: "an"
        default: "a"
        }
    }
}
