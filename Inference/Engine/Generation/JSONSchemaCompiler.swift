import Foundation

/// Compiles a JSON schema (as `JSONSerialization` decodes it) into a `JSONGrammar` whose documents all validate
/// against it. What it supports: `type` (one or a list), object `properties`, `required`, `additionalProperties`
/// (false, true, absent or a schema), array `items`, `minItems`, `maxItems`, string `minLength`, `maxLength`,
/// `enum`, `const`, `anyOf`, `oneOf` (when its choices cannot overlap), `$ref` to `#`, `#/$defs/...` or
/// `#/definitions/...`, and the annotations (`title`, `description`, ...). Any other keyword is an error naming it:
/// a schema is never silently loosened. A schema beyond one of the `JSONSchemaLimits` is an error naming the limit,
/// found before the work it bounds is done.
///
/// Choices are flattened once compiled: an `anyOf` lists the rules it may come to through nested choices and
/// references, never another `anyOf`, and the literals among them are one sorted table, so the matcher follows a
/// bounded number of branches a byte whatever the nesting.
public struct JSONSchemaCompiler {
    /// Why a schema was refused: the keyword (or the schema's path) and what is wrong; `exceeded` names the limit
    /// when it is one of the `JSONSchemaLimits`.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var keyword: String
        public var path: String
        public var message: String
        public var exceeded: JSONSchemaLimits.Limit?
        public var description: String { "\(path.isEmpty ? "the schema" : path): \(message)" }
    }

    static let annotations: Set<String> = ["title", "description", "$schema", "$id", "$comment", "examples", "default", "deprecated",
                                           "readOnly", "writeOnly", "$defs", "definitions", "strict"]
    static let handled: Set<String> = ["type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
                                       "minLength", "maxLength", "enum", "const", "anyOf", "oneOf", "$ref"]

    private let document: [String: Any]
    let limits: JSONSchemaLimits
    var rules: [JSONGrammar.Rule] = []
    private var references: [String: Int] = [:]
    private var depth = 0
    /// Object properties so far (with `rules`, the grammar's nodes).
    private var properties = 0
    private var literalValues = 0
    /// Each `oneOf`'s choices and path, checked once every rule is compiled (a reference may still be a placeholder
    /// while its own schema compiles).
    private var oneOfs: [(choices: [Int], path: String)] = []

    /// Compiles `schema`, a JSON object, within `limits`.
    public static func compile(_ schema: [String: Any], limits: JSONSchemaLimits = .standard) throws(Failure) -> JSONGrammar {
        let size = (try? JSONSerialization.data(withJSONObject: schema, options: [.withoutEscapingSlashes]).count) ?? Int.max
        guard size <= limits.schemaBytes else {
            throw Failure(keyword: "schema", path: "#", message: "the schema's \(size) bytes (written compactly) exceed the limit of \(limits.schemaBytes) (limit '\(JSONSchemaLimits.Limit.schemaBytes.rawValue)')",
                          exceeded: .schemaBytes)
        }
        var compiler = JSONSchemaCompiler(document: schema, limits: limits)
        let root = try compiler.rule(schema, path: "#")
        for oneOf in compiler.oneOfs { try compiler.checkDisjoint(oneOf.choices, path: oneOf.path) }
        try compiler.flattenChoices()
        let grammar = JSONGrammar(rules: compiler.rules, root: root)
        guard grammar.finite[root] else {
            throw Failure(keyword: "schema", path: "#", message: "no finite document satisfies the schema")
        }
        return grammar
    }

    private init(document: [String: Any], limits: JSONSchemaLimits) {
        self.document = document
        self.limits = limits
    }

    mutating func add(_ rule: JSONGrammar.Rule) -> Int {
        rules.append(rule)
        return rules.count - 1
    }

    func fail(_ keyword: String, _ path: String, _ message: String) -> Failure {
        Failure(keyword: keyword, path: path, message: message)
    }

    /// A refusal for going beyond `limit`.
    func exceeded(_ limit: JSONSchemaLimits.Limit, _ keyword: String, _ path: String, _ what: String) -> Failure {
        Failure(keyword: keyword, path: path, message: "\(what) exceeds the limit of \(limits[limit]) (limit '\(limit.rawValue)')", exceeded: limit)
    }

    private func checkNodes(_ path: String, adding: Int = 0) throws(Failure) {
        guard rules.count + properties + adding <= limits.nodes else {
            throw exceeded(.nodes, "schema", path, "the schema's compiled rules and object properties (\(rules.count + properties + adding) so far)")
        }
    }

    private mutating func rule(_ value: Any, path: String) throws(Failure) -> Int {
        depth += 1
        defer { depth -= 1 }
        guard depth <= limits.depth else { throw exceeded(.depth, "schema", path, "the schema's nesting (\(depth) levels)") }
        try checkNodes(path)
        if let flag = value as? NSNumber, String(cString: flag.objCType) == "c" {
            return flag.boolValue ? try anyValue() : add(.never)
        }
        guard let schema = value as? [String: Any] else { throw fail("schema", path, "a schema must be an object or a boolean") }
        for key in schema.keys.sorted() where !Self.annotations.contains(key) && !Self.handled.contains(key) {
            throw fail(key, path, "the keyword '\(key)' is not supported")
        }
        let constraints = Set(schema.keys).subtracting(Self.annotations)
        if let reference = schema["$ref"] {
            guard constraints == ["$ref"] else {
                throw fail("$ref", path, "'$ref' beside other constraints (\(constraints.subtracting(["$ref"]).sorted().joined(separator: ", "))) is not supported")
            }
            guard let target = reference as? String else { throw fail("$ref", path, "'$ref' must be a string") }
            return try resolve(target, path: path)
        }
        for keyword in ["anyOf", "oneOf"] {
            guard let raw = schema[keyword] else { continue }
            guard constraints == [keyword] else {
                throw fail(keyword, path, "'\(keyword)' beside other constraints (\(constraints.subtracting([keyword]).sorted().joined(separator: ", "))) is not supported")
            }
            guard let list = raw as? [Any], !list.isEmpty else { throw fail(keyword, path, "'\(keyword)' must be a non-empty list of schemas") }
            guard list.count <= limits.alternatives else {
                throw exceeded(.alternatives, keyword, path, "'\(keyword)' with \(list.count) schemas")
            }
            var choices: [Int] = []
            for (index, item) in list.enumerated() { choices.append(try rule(item, path: "\(path)/\(keyword)/\(index)")) }
            if keyword == "oneOf" { oneOfs.append((choices, path)) }
            return add(.anyOf(choices))
        }
        return try typed(schema, constraints: constraints, path: path)
    }

    private mutating func anyValue() throws(Failure) -> Int {
        // a fresh copy of JSON mode's rules, renumbered after ours
        let any = JSONGrammar.anyObject
        let offset = rules.count
        for rule in any.rules {
            switch rule {
            case .object(var object):
                object.additional = object.additional.map { $0 + offset }
                rules.append(.object(object))
            case .array(let item, let minimum, let maximum): rules.append(.array(item: item + offset, minimum: minimum, maximum: maximum))
            case .anyOf(let choices): rules.append(.anyOf(choices.map { $0 + offset }))
            default: rules.append(rule)
            }
        }
        return offset + 1
    }

    private mutating func resolve(_ target: String, path: String) throws(Failure) -> Int {
        if let known = references[target] { return known }
        var node: Any = document
        if target != "#" {
            let prefixes = ["#/$defs/", "#/definitions/"]
            guard let prefix = prefixes.first(where: { target.hasPrefix($0) }) else {
                throw fail("$ref", path, "'$ref' must point into '#/$defs/' or '#/definitions/' (got '\(target)')")
            }
            let container = String(prefix.dropFirst(2).dropLast())
            let name = String(target.dropFirst(prefix.count)).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let definitions = document[container] as? [String: Any], let found = definitions[name] else {
                throw fail("$ref", path, "'$ref' points to '\(target)', which the schema does not define")
            }
            node = found
        }
        // a placeholder first, so that a schema referring to itself finds its own index
        let index = add(.never)
        references[target] = index
        let compiled = try rule(node, path: target)
        rules[index] = .anyOf([compiled])
        return index
    }

    private mutating func typed(_ schema: [String: Any], constraints: Set<String>, path: String) throws(Failure) -> Int {
        var types: [String]
        switch schema["type"] {
        case nil:
            // no type: the kind the other keywords describe (a subset of what the schema allows, so still valid)
            if constraints.isDisjoint(with: ["properties", "required", "additionalProperties", "items", "minItems", "maxItems",
                                             "minLength", "maxLength"]) {
                types = ["object", "array", "string", "number", "boolean", "null"]
            } else if !constraints.isDisjoint(with: ["properties", "required", "additionalProperties"]) {
                types = ["object"]
            } else if !constraints.isDisjoint(with: ["items", "minItems", "maxItems"]) {
                types = ["array"]
            } else {
                types = ["string"]
            }
        case let name as String: types = [name]
        case let names as [String] where !names.isEmpty: types = Array(Set(names)).sorted()
        default: throw fail("type", path, "'type' must be a type name or a non-empty list of them")
        }
        let known = ["object", "array", "string", "number", "integer", "boolean", "null"]
        for type in types where !known.contains(type) { throw fail("type", path, "unknown type '\(type)'") }

        if schema["enum"] != nil || schema["const"] != nil {
            var values: [Any] = []
            if let raw = schema["enum"] {
                guard let list = raw as? [Any] else { throw fail("enum", path, "'enum' must be a list") }
                values = list
            }
            literalValues += values.count + (schema["const"] == nil ? 0 : 1)
            guard literalValues <= limits.enumValues else {
                throw exceeded(.enumValues, schema["enum"] != nil ? "enum" : "const", path, "the schema's 'enum' and 'const' values (\(literalValues) so far)")
            }
            if let constant = schema["const"] {
                values = schema["enum"] == nil ? [constant] : values.filter { Self.same($0, constant) }
            }
            var texts: [[UInt8]] = []
            var known = Set<[UInt8]>()
            for value in values where types.contains(where: { Self.kind(value, is: $0) }) {
                let text = try Self.text(value, path: path)
                if known.insert(text).inserted { texts.append(text) }
            }
            guard !texts.isEmpty else { throw fail(schema["enum"] != nil ? "enum" : "const", path, "no value of 'enum'/'const' has the schema's type") }
            return add(.literals(texts))
        }
        var choices: [Int] = []
        for type in types {
            switch type {
            case "object": choices.append(try object(schema, path: path))
            case "array": choices.append(try array(schema, path: path))
            case "string":
                let minimum = try count(schema, "minLength", path: path) ?? 0
                let maximum = try count(schema, "maxLength", path: path)
                choices.append(add(.string(minimum: minimum, maximum: maximum)))
            case "number": choices.append(add(.number))
            case "integer": choices.append(add(.integer))
            case "boolean": choices.append(add(.literals([Array("true".utf8), Array("false".utf8)])))
            default: choices.append(add(.literals([Array("null".utf8)])))
            }
        }
        return choices.count == 1 ? choices[0] : add(.anyOf(choices))
    }

    private mutating func object(_ schema: [String: Any], path: String) throws(Failure) -> Int {
        var properties: [JSONGrammar.ObjectRule.Property] = []
        if let raw = schema["properties"] {
            guard let declared = raw as? [String: Any] else { throw fail("properties", path, "'properties' must be an object") }
            try checkNodes(path, adding: declared.count)
            // the schema's own order is lost by JSONSerialization; sorted keeps the grammar deterministic
            for name in declared.keys.sorted() {
                let rule = try rule(declared[name] as Any, path: "\(path)/properties/\(name)")
                properties.append(.init(name: name, key: try Self.text(name, path: path), rule: rule))
            }
        }
        var required = Set<Int>()
        if let raw = schema["required"] {
            guard let names = raw as? [String] else { throw fail("required", path, "'required' must be a list of names") }
            try checkNodes(path, adding: properties.count + names.count)
            var index = [String: Int]()
            for (place, property) in properties.enumerated() { index[property.name] = place }
            for name in names {
                if let found = index[name] {
                    required.insert(found)
                } else {
                    // required but not declared: it takes the additional properties' rule, declared here as its own
                    properties.append(.init(name: name, key: try Self.text(name, path: path), rule: -1))
                    index[name] = properties.count - 1
                    required.insert(properties.count - 1)
                }
            }
        }
        var additional: Int?
        switch schema["additionalProperties"] {
        case nil: additional = try anyValue()
        case let flag as NSNumber where String(cString: flag.objCType) == "c": additional = flag.boolValue ? try anyValue() : nil
        case let other?: additional = try rule(other, path: "\(path)/additionalProperties")
        }
        for index in properties.indices where properties[index].rule == -1 {
            guard let additional else {
                throw fail("required", path, "'\(properties[index].name)' is required but not in 'properties', and 'additionalProperties' is false")
            }
            properties[index].rule = additional
        }
        self.properties += properties.count
        try checkNodes(path)
        return add(.object(.init(properties: properties, required: required, additional: additional)))
    }

    private mutating func array(_ schema: [String: Any], path: String) throws(Failure) -> Int {
        let item: Int
        switch schema["items"] {
        case nil: item = try anyValue()
        case is [Any]:
            throw fail("items", path, "'items' as a list (tuple validation) is not supported")
        case let other?: item = try rule(other, path: "\(path)/items")
        }
        let minimum = try count(schema, "minItems", path: path) ?? 0
        let maximum = try count(schema, "maxItems", path: path)
        if let maximum, maximum < minimum { throw fail("maxItems", path, "'maxItems' is below 'minItems'") }
        return add(.array(item: item, minimum: minimum, maximum: maximum))
    }

    private func count(_ schema: [String: Any], _ keyword: String, path: String) throws(Failure) -> Int? {
        guard let raw = schema[keyword] else { return nil }
        guard let number = raw as? NSNumber, String(cString: number.objCType) != "c", number.doubleValue >= 0,
              number.doubleValue <= 1_000_000, number.doubleValue.rounded() == number.doubleValue else {
            throw fail(keyword, path, "'\(keyword)' must be a whole number from 0 to 1000000")
        }
        return number.intValue
    }

    /// Whether a decoded JSON value is of a schema type.
    static func kind(_ value: Any, is type: String) -> Bool {
        switch value {
        case is NSNull: return type == "null"
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { return type == "boolean" }
            if type == "number" { return true }
            return type == "integer" && number.doubleValue.rounded() == number.doubleValue
        case is String: return type == "string"
        case is [Any]: return type == "array"
        case is [String: Any]: return type == "object"
        default: return false
        }
    }

    static func same(_ a: Any, _ b: Any) -> Bool {
        guard let ta = try? text(a, path: ""), let tb = try? text(b, path: "") else { return false }
        return ta == tb
    }

    /// A value's compact JSON text (sorted keys, slashes unescaped).
    static func text(_ value: Any, path: String) throws(Failure) -> [UInt8] {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]) else {
            throw Failure(keyword: "enum", path: path, message: "a value cannot be written as JSON")
        }
        return Array(data)
    }
}
