import Foundation
import Hashing
import InferenceEngine

/// `response_format`: free text, any JSON object (JSON mode), or documents of a JSON schema, the last two enforced
/// by constrained decoding.
public enum ResponseFormat: Sendable {
    case text
    case jsonObject
    case jsonSchema(name: String, grammar: JSONGrammar, sha256: String, strict: Bool)

    /// The grammar generation must follow, if any.
    public var grammar: JSONGrammar? {
        switch self {
        case .text: nil
        case .jsonObject: .anyObject
        case .jsonSchema(_, let grammar, _, _): grammar
        }
    }

    /// What the audit record keeps: the type, and for a schema its name, SHA-256 (of its compact, sorted text) and
    /// strictness, not the schema itself.
    var recorded: AuditValue {
        switch self {
        case .text: .object(["type": .string("text")])
        case .jsonObject: .object(["type": .string("json_object")])
        case .jsonSchema(let name, _, let sha256, let strict):
            .object(["type": .string("json_schema"), "name": .string(name), "schema_sha256": .string(sha256), "strict": .bool(strict)])
        }
    }

    static func parse(_ raw: Any) throws(APIError) -> ResponseFormat {
        guard let object = raw as? [String: Any], let type = object["type"] as? String else {
            throw .invalid("'response_format' must be an object with a 'type'", param: "response_format")
        }
        switch type {
        case "text": return .text
        case "json_object": return .jsonObject
        case "json_schema":
            guard let wrapper = object["json_schema"] as? [String: Any] else {
                throw .invalid("'response_format.json_schema' must be an object with 'name' and 'schema'", param: "response_format.json_schema")
            }
            for key in wrapper.keys.sorted() where !["name", "schema", "strict", "description"].contains(key) {
                throw .invalid("'response_format.json_schema.\(key)' is not a known field", param: "response_format.json_schema.\(key)")
            }
            guard let name = wrapper["name"] as? String, !name.isEmpty, name.count <= 64,
                  name.unicodeScalars.allSatisfy({ $0.isASCII && ($0 == "_" || $0 == "-" || CharacterSet.alphanumerics.contains($0)) }) else {
                throw .invalid("'response_format.json_schema.name' must be 1 to 64 letters, digits, '_' or '-'", param: "response_format.json_schema.name")
            }
            var strict = false
            if let flag = wrapper["strict"], !(flag is NSNull) {
                guard let number = flag as? NSNumber, CompletionParameters.Reader.isBool(number) else {
                    throw .invalid("'response_format.json_schema.strict' must be true or false", param: "response_format.json_schema.strict")
                }
                strict = number.boolValue
            }
            let schema: [String: Any]
            switch wrapper["schema"] {
            case nil, is NSNull: schema = [:]
            case let given as [String: Any]: schema = given
            default: throw .invalid("'response_format.json_schema.schema' must be a JSON schema object", param: "response_format.json_schema.schema")
            }
            // compiled here, on the request's connection thread: the scheduler only runs the grammar
            let grammar: JSONGrammar
            do {
                grammar = try JSONSchemaCompiler.compile(schema)
            } catch {
                let code = error.exceeded != nil ? "schema_too_large" : error.keyword == "schema" ? "invalid_schema" : "unsupported_schema_keyword"
                throw .invalid("response_format.json_schema.schema: \(error.description)", param: "response_format.json_schema.schema", code: code)
            }
            let text = (try? JSONSerialization.data(withJSONObject: schema, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return .jsonSchema(name: name, grammar: grammar, sha256: SHA256.hex(String(decoding: text, as: UTF8.self)), strict: strict)
        default:
            throw .invalid("'response_format.type' must be 'text', 'json_object' or 'json_schema' (got '\(type.prefix(40))')",
                           param: "response_format.type")
        }
    }
}
