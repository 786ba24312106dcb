import Foundation
import Testing
@testable import InferenceEngine

/// The JSON pushdown machine on data: documents accepted byte by byte, invalid ones refused at the first byte that
/// cannot belong, schemas compiled (or refused naming the keyword) and their documents checked.
@Suite("JSON grammar")
struct JSONGrammarTests {
    /// Feeds `text` a byte at a time; the index of the first byte refused, or nil when all were taken.
    static func firstRefused(_ text: [UInt8], _ grammar: JSONGrammar) -> (refused: Int?, canEnd: Bool) {
        var matcher = JSONMatcher(grammar)
        for (index, byte) in text.enumerated() where !matcher.advance(CollectionOfOne(byte)) { return (index, false) }
        return (nil, matcher.canEnd)
    }

    static let validObjects: [String] = [
        "{}", " {} ", "{\"a\":1}", "{ \"a\" : [ ] , \"b\" : { } }\n",
        "{\"a\":[1,2.5,-0.1e+5,0,-0,1E9,true,false,null,\"x\"]}",
        "{\"s\":\"tab\\t quote\\\" slash\\/ back\\\\ \\u00e9 \\uD7FF é 😀 中\"}",
        "{\"nested\":{\"deeper\":[[[{\"x\":[]}]]]}}",
        "{\"\":\"\"}",
    ]

    @Test("JSON mode takes valid objects byte by byte and can end after them", arguments: validObjects)
    func validObject(_ text: String) {
        let result = Self.firstRefused(Array(text.utf8), .anyObject)
        #expect(result.refused == nil)
        #expect(result.canEnd)
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil, "the case itself is valid JSON")
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var bytes: [UInt8]
        var at: Int
        var testDescription: String { String(decoding: bytes, as: UTF8.self).debugDescription + " at \(at)" }
        init(_ text: String, at: Int) { bytes = Array(text.utf8); self.at = at }
        init(bytes: [UInt8], at: Int) { self.bytes = bytes; self.at = at }
    }

    static let refusals: [Refusal] = [
        Refusal("[1]", at: 0), Refusal("1", at: 0), Refusal("\"x\"", at: 0),
        Refusal("{,}", at: 1), Refusal("{\"a\" 1}", at: 5), Refusal("{\"a\":01}", at: 6), Refusal("{\"a\":1,}", at: 7),
        Refusal("{\"a\":tru}", at: 8), Refusal("{\"a\":nul }", at: 8), Refusal("{\"a\":1.}", at: 7), Refusal("{\"a\":1e}", at: 7),
        Refusal("{\"a\":+1}", at: 5), Refusal("{\"a\":.5}", at: 5), Refusal("{\"a\":[1 2]}", at: 8), Refusal("{\"a\":[,]}", at: 6),
        Refusal("{\"a\":\"\\x\"}", at: 7), Refusal("{\"a\":\"\\u12g4\"}", at: 10), Refusal("{\"a\":\"\\ud800\"}", at: 9),
        Refusal("{\"a\":\"\\uDc00\"}", at: 9), Refusal("{\"a\":1}}", at: 7), Refusal("{\"a\":1} x", at: 8), Refusal("{'a':1}", at: 1),
        Refusal(bytes: Array("{\"a\":\"".utf8) + [0x01], at: 6),
        Refusal(bytes: Array("{\"a\":\"".utf8) + [0xC0, 0x80], at: 6),
        Refusal(bytes: Array("{\"a\":\"".utf8) + [0xE0, 0x80], at: 7),
        Refusal(bytes: Array("{\"a\":\"".utf8) + [0xED, 0xA0, 0x80], at: 7),
        Refusal(bytes: Array("{\"a\":\"".utf8) + [0xF4, 0x90], at: 7),
        Refusal(bytes: Array("{\"a\":\"".utf8) + [0xC3, 0x41], at: 7),
        Refusal(bytes: Array("{\"a\":\"".utf8) + [0x80], at: 6),
        Refusal("{\"a\":12345678901234567}", at: 21),
        Refusal("{" + String(repeating: " ", count: 25) + "}", at: 25),
        Refusal("{}" + String(repeating: "\n", count: 3), at: 4),
    ]

    @Test("JSON mode refuses invalid text at the first byte that cannot belong", arguments: refusals)
    func refusal(_ test: Refusal) {
        #expect(Self.firstRefused(test.bytes, .anyObject).refused == test.at)
    }

    @Test("a document cut short cannot end; a refused run of bytes leaves the machine as it was")
    func endingAndAtomicity() {
        var matcher = JSONMatcher(.anyObject)
        #expect(!matcher.canEnd)
        let took1 = matcher.advance(Array("{\"a\":".utf8))
        #expect(took1)
        #expect(!matcher.canEnd)
        let took2 = matcher.advance(Array("1}}".utf8))
        #expect(!took2, "the second } is refused")
        let took3 = matcher.advance(Array("1".utf8))
        #expect(took3, "and nothing of the refused run was taken")
        #expect(!matcher.canEnd)
        let took4 = matcher.advance(Array("}".utf8))
        #expect(took4)
        #expect(matcher.canEnd)
    }

    @Test("overlapping choices nested deep stay bounded and still accept")
    func overlappingChoices() throws {
        let grammar = try Self.schema(##"{"$ref":"#/$defs/v","$defs":{"v":{"anyOf":[{"type":"array","items":{"$ref":"#/$defs/v"}},{"type":"array","items":{"$ref":"#/$defs/v"},"maxItems":5}]}}}"##)
        let document = Array((String(repeating: "[", count: 40) + String(repeating: "]", count: 40)).utf8)
        let result = Self.firstRefused(document, grammar)
        #expect(result.refused == nil && result.canEnd)
    }

    // MARK: schemas

    static func schema(_ text: String) throws -> JSONGrammar {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        return try JSONSchemaCompiler.compile(object)
    }

    struct SchemaCase: Sendable, CustomTestStringConvertible {
        var schema: String
        var valid: [String]
        var invalid: [String]
        var testDescription: String { schema }
    }

    static let schemaCases: [SchemaCase] = [
        SchemaCase(schema: ##"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name"],"additionalProperties":false}"##,
                   valid: [##"{"name":"x"}"##, ##"{"age":3,"name":""}"##, ##"{ "name" : "a" , "age" : -7 }"##],
                   invalid: [##"{}"##, ##"{"age":3}"##, ##"{"name":"x","name":"y"}"##, ##"{"name":1}"##, ##"{"name":"x","other":1}"##,
                             ##"{"name":"x","age":1.5}"##, ##"{"name":"x","age":1e3}"##, ##"{"name":"x",}"##]),
        SchemaCase(schema: ##"{"type":"object","properties":{"a":{"type":"boolean"}}}"##,
                   valid: [##"{}"##, ##"{"a":true}"##, ##"{"b":[1,{"c":null}],"a":false}"##, ##"{"ab":1}"##],
                   invalid: [##"{"a":1}"##, ##"{"a":"true"}"##]),
        SchemaCase(schema: ##"{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":3}"##,
                   valid: ["[1,2]", "[1, 2.5, -3e2]"], invalid: ["[]", "[1]", "[1,2,3,4]", "[1,\"x\"]", "{}"]),
        SchemaCase(schema: ##"{"enum":["red","green",12,1,null,{"k":[1]}]}"##,
                   valid: [#""red""#, #""green""#, "12", "1", "null", ##"{"k":[1]}"##],
                   invalid: [#""blue""#, "2", "true", ##"{"k":[2]}"##, "123", #""re""#]),
        SchemaCase(schema: ##"{"type":"string","enum":["a","b",3]}"##, valid: [#""a""#, #""b""#], invalid: ["3", #""c""#]),
        SchemaCase(schema: ##"{"const":"only"}"##, valid: [#""only""#], invalid: [#""onl""#, #""only ""#]),
        SchemaCase(schema: ##"{"type":"string","minLength":2,"maxLength":3}"##,
                   valid: [#""ab""#, #""abc""#, #""é😀""#, #""\n\t""#], invalid: [#""a""#, #""abcd""#, #""""#]),
        SchemaCase(schema: ##"{"anyOf":[{"type":"integer"},{"type":"string"},{"type":"array","items":{"type":"null"}}]}"##,
                   valid: ["7", #""s""#, "[null,null]"], invalid: ["7.5", "true", "[1]"]),
        SchemaCase(schema: ##"{"type":["string","null"]}"##, valid: ["null", #""x""#], invalid: ["1"]),
        SchemaCase(schema: ##"{"oneOf":[{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},"required":["kind","x"],"additionalProperties":false},{"type":"object","properties":{"kind":{"const":"b"},"y":{"type":"string"}},"required":["kind","y"],"additionalProperties":false}]}"##,
                   valid: [##"{"kind":"a","x":1}"##, ##"{"y":"q","kind":"b"}"##],
                   invalid: [##"{"kind":"a","y":"q"}"##, ##"{"kind":"c","x":1}"##]),
        SchemaCase(schema: ##"{"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["value"],"additionalProperties":false}}}"##,
                   valid: [##"{"value":1}"##, ##"{"value":1,"children":[{"value":2,"children":[]},{"children":[{"value":4}],"value":3}]}"##],
                   invalid: [##"{"value":1,"children":[{}]}"##, ##"{"children":[]}"##]),
        SchemaCase(schema: ##"{"type":"object","properties":{"p":{"$ref":"#/definitions/point"}},"required":["p"],"additionalProperties":false,"definitions":{"point":{"type":"array","items":{"type":"number"},"minItems":2,"maxItems":2}}}"##,
                   valid: [##"{"p":[1,2]}"##], invalid: [##"{"p":[1]}"##, ##"{"p":[1,2,3]}"##]),
        SchemaCase(schema: ##"{"type":"object","properties":{"n":{"type":"null"}},"required":["n","extra"]}"##,
                   valid: [##"{"n":null,"extra":[]}"##, ##"{"extra":1,"n":null}"##], invalid: [##"{"n":null}"##]),
        SchemaCase(schema: ##"{"type":"object","additionalProperties":{"type":"integer"}}"##,
                   valid: [##"{"a":1,"b":2}"##, "{}"], invalid: [##"{"a":"x"}"##]),
    ]

    @Test("schemas compile, and their documents are taken whole while others are refused", arguments: schemaCases)
    func schemaDocuments(_ test: SchemaCase) throws {
        let grammar = try Self.schema(test.schema)
        for document in test.valid {
            let result = Self.firstRefused(Array(document.utf8), grammar)
            #expect(result.refused == nil && result.canEnd, "valid: \(document)")
        }
        for document in test.invalid {
            let result = Self.firstRefused(Array(document.utf8), grammar)
            #expect(result.refused != nil || !result.canEnd, "invalid: \(document)")
        }
    }

    struct Unsupported: Sendable, CustomTestStringConvertible {
        var schema: String
        var keyword: String
        var testDescription: String { keyword }
    }

    static let unsupported: [Unsupported] = [
        Unsupported(schema: ##"{"type":"string","pattern":"^a"}"##, keyword: "pattern"),
        Unsupported(schema: ##"{"type":"string","format":"date-time"}"##, keyword: "format"),
        Unsupported(schema: ##"{"type":"number","minimum":0}"##, keyword: "minimum"),
        Unsupported(schema: ##"{"type":"object","properties":{"a":{"type":"integer","multipleOf":2}}}"##, keyword: "multipleOf"),
        Unsupported(schema: ##"{"allOf":[{"type":"string"}]}"##, keyword: "allOf"),
        Unsupported(schema: ##"{"type":"object","patternProperties":{"a":{}}}"##, keyword: "patternProperties"),
        Unsupported(schema: ##"{"type":"array","items":[{"type":"string"}]}"##, keyword: "items"),
        Unsupported(schema: ##"{"type":"array","uniqueItems":true}"##, keyword: "uniqueItems"),
        Unsupported(schema: ##"{"oneOf":[{"type":"integer"},{"type":"number"}]}"##, keyword: "oneOf"),
        Unsupported(schema: ##"{"type":"object","anyOf":[{"required":["a"]}]}"##, keyword: "anyOf"),
        Unsupported(schema: ##"{"$ref":"#/$defs/missing"}"##, keyword: "$ref"),
        Unsupported(schema: ##"{"$ref":"https://example.com/schema"}"##, keyword: "$ref"),
        Unsupported(schema: ##"{"type":"date"}"##, keyword: "type"),
        Unsupported(schema: ##"{"type":"string","enum":[1,2]}"##, keyword: "enum"),
        Unsupported(schema: ##"{"type":"object","properties":{"a":{}},"required":["b"],"additionalProperties":false}"##, keyword: "required"),
        Unsupported(schema: ##"{"type":"array","minItems":3,"maxItems":2}"##, keyword: "maxItems"),
        Unsupported(schema: ##"{"$ref":"#/$defs/loop","$defs":{"loop":{"type":"object","properties":{"next":{"$ref":"#/$defs/loop"}},"required":["next"]}}}"##, keyword: "schema"),
    ]

    @Test("a schema with what the compiler cannot honour is refused, naming the keyword", arguments: unsupported)
    func refusedSchema(_ test: Unsupported) throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(test.schema.utf8)) as? [String: Any])
        do {
            _ = try JSONSchemaCompiler.compile(object)
            Issue.record("compiled \(test.schema)")
        } catch {
            #expect(error.keyword == test.keyword, "\(error.description)")
        }
    }

    // MARK: cost: sorted tables and limits

    /// A random enum: strings and numbers drawn from a small alphabet, so that many share a beginning and some are
    /// prefixes of others (1, 12, 1.5).
    static func randomEnum(_ random: inout SplitMix64) -> [Any] {
        let alphabet = ["a", "b", "é", "\"", "1"]
        return (0..<Int(random.next() % 40 + 1)).map { _ -> Any in
            if random.next() % 3 == 0 {
                let number = Int(random.next() % 200)
                return random.next() % 2 == 0 ? NSNumber(value: number) : NSNumber(value: Double(number) + 0.5)
            }
            return (0..<Int(random.next() % 5)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
        }
    }

    @Test("white space outside strings is space and line feed only; tab and carriage return are refused there, not in strings",
          arguments: [("{ \n\"a\" :\n 1 }", true), ("{\r", false), ("{\t", false), ("{\"a\":1}\r", false), ("\t{}", false),
                      ("{\"a\":\"\\t\\r\"}", true)])
    func whitespace(_ text: String, _ accepted: Bool) {
        #expect(JSONMatcher(.anyObject).accepts(Array(text.utf8)) == accepted)
    }

    /// What the matcher answered before the sorted tables, for a set of literal texts: a run of bytes may come
    /// while it is (after a bounded run of white space) a prefix of a text, or a whole text and at most
    /// `trailingLimit` bytes of white space after it.
    static func referenceAccepts(_ texts: [[UInt8]], _ whole: [UInt8]) -> (accepts: Bool, canEnd: Bool) {
        let leading = whole.prefix(while: JSONMatcher.isWhitespace).count
        guard leading <= JSONMatcher(.anyObject).whitespaceLimit else { return (false, false) }
        let bytes = Array(whole[leading...])
        var canEnd = false, accepts = false
        for text in texts {
            if bytes.count <= text.count, text.starts(with: bytes) { accepts = true }
            if bytes.count >= text.count, bytes.starts(with: text) {
                let tail = bytes[text.count...]
                if tail.count <= JSONMatcher.trailingLimit, tail.allSatisfy(JSONMatcher.isWhitespace) {
                    accepts = true
                    canEnd = true
                }
            }
        }
        return (accepts, canEnd)
    }

    @Test("an enum through the sorted table answers as a linear search of its texts would, byte by byte and in runs",
          arguments: 0..<40)
    func sortedEnumMatchesReference(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let values = Self.randomEnum(&random)
        let grammar = try JSONSchemaCompiler.compile(["enum": values])
        let texts = try values.map { try JSONSchemaCompiler.text($0, path: "") }
        // probes: every prefix of every text, then each with a byte changed, added or a space after it
        var probes: [[UInt8]] = []
        for text in texts {
            for end in 0...text.count {
                let prefix = Array(text[..<end])
                probes.append(prefix)
                for byte: UInt8 in [0x22, 0x31, 0x61, 0x62, 0xC3, 0xA9, 0x20, 0x2E, 0x35, 0x0A] { probes.append(prefix + [byte]) }
            }
            probes.append(text + [0x20, 0x0A])
            probes.append(text + [0x20, 0x20, 0x20])
            probes.append([0x0A, 0x20] + text)
        }
        for probe in probes {
            let expected = Self.referenceAccepts(texts, probe)
            var matcher = JSONMatcher(grammar)
            var bytewise = true
            for byte in probe where !matcher.advance(CollectionOfOne(byte)) { bytewise = false; break }
            #expect(bytewise == expected.accepts, "byte by byte: \(String(decoding: probe, as: UTF8.self).debugDescription)")
            #expect(!bytewise || matcher.canEnd == expected.canEnd, "can end: \(String(decoding: probe, as: UTF8.self).debugDescription)")
            #expect(JSONMatcher(grammar).accepts(probe) == expected.accepts, "as a run: \(String(decoding: probe, as: UTF8.self).debugDescription)")
        }
    }

    @Test("an object's keys through the sorted table: each declared key once, a written key refused as soon as no other can follow",
          arguments: 0..<20)
    func sortedKeysMatchReference(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let names = Array(Set((0..<Int(random.next() % 12 + 2)).map { _ in
            (0..<Int(random.next() % 4 + 1)).map { _ in ["a", "b", "ab"][Int(random.next() % 3)] }.joined()
        }))
        let grammar = try JSONSchemaCompiler.compile(["type": "object", "properties": Dictionary(uniqueKeysWithValues: names.map { ($0, ["type": "integer"]) }),
                                                      "additionalProperties": false])
        var matcher = JSONMatcher(grammar)
        let opened = matcher.advance(Array("{".utf8))
        try #require(opened)
        var written: [String] = []
        for (index, name) in names.shuffled(using: &random).enumerated() {
            if index > 0 {
                let comma = matcher.advance(Array(",".utf8))
                try #require(comma)
            }
            // every byte of a written key that no unwritten key shares is refused
            for old in written {
                let key = Array("\"\(old)\"".utf8)
                let open = names.filter { !written.contains($0) }.map { Array("\"\($0)\"".utf8) }
                for end in 1...key.count {
                    let prefix = Array(key[..<end])
                    #expect(matcher.accepts(prefix) == open.contains { $0.starts(with: prefix) }, "\(old) again, \(end) bytes, after \(written)")
                }
            }
            let member = matcher.advance(Array("\"\(name)\":1".utf8))
            try #require(member, "\(name) after \(written)")
            written.append(name)
        }
        #expect(!matcher.accepts(Array(",".utf8)), "no key is left")
        let closed = matcher.advance(Array("}".utf8))
        #expect(closed && matcher.canEnd)
    }

    @Test("string consts among anyOf choices and nested anyOfs come to one table; discriminated objects are followed as branches")
    func choicesFlattened() throws {
        let consts = (0..<200).map { ["const": "c\($0)"] as [String: Any] }
        let grammar = try JSONSchemaCompiler.compile(["anyOf": consts + [["anyOf": [["type": "integer"], ["anyOf": [["const": "z"]]]]]]])
        guard case .anyOf(let choices) = grammar.rules[grammar.root] else { Issue.record("root is not a choice"); return }
        #expect(choices.count == 2, "the integer and one table of literals")
        for choice in choices { if case .anyOf = grammar.rules[choice] { Issue.record("a nested anyOf is left") } }
        for document in ["\"c0\"", "\"c199\"", "\"z\"", "17"] { #expect(Self.firstRefused(Array(document.utf8), grammar) == (nil, true), "\(document)") }
        #expect(Self.firstRefused(Array("\"c200\"".utf8), grammar).refused != nil)

        let kinds = (0..<JSONSchemaLimits.standard.branches).map { index -> [String: Any] in
            ["type": "object", "properties": ["kind": ["const": "k\(index)"], "v\(index)": ["type": "integer"]],
             "required": ["kind", "v\(index)"], "additionalProperties": false]
        }
        let union = try JSONSchemaCompiler.compile(["oneOf": kinds])
        let last = JSONSchemaLimits.standard.branches - 1
        #expect(Self.firstRefused(Array("{\"kind\":\"k\(last)\",\"v\(last)\":3}".utf8), union) == (nil, true))
        #expect(Self.firstRefused(Array("{\"kind\":\"k0\",\"v1\":3}".utf8), union).refused != nil)
    }

    struct LimitCase: Sendable, CustomTestStringConvertible {
        var limit: JSONSchemaLimits.Limit
        var testDescription: String { limit.rawValue }

        /// A schema just beyond the limit, and one at it (which compiles).
        var schemas: (over: [String: Any], at: [String: Any]) {
            let limits = JSONSchemaLimits.standard
            func nested(_ levels: Int) -> [String: Any] {
                (1..<levels).reduce(["type": "integer"] as [String: Any]) { inner, _ in ["type": "array", "items": inner] }
            }
            func branches(_ count: Int) -> [String: Any] {
                ["anyOf": (0..<count).map { ["type": "array", "items": ["type": "integer"], "maxItems": $0] as [String: Any] }]
            }
            switch limit {
            case .schemaBytes:
                let long = String(repeating: "x", count: 1000)
                let fits = (limits.schemaBytes - 12) / 1004
                return (["enum": (0...fits).map { "\($0)\(long)" }], ["enum": (0..<fits).map { "\($0)\(long.dropFirst(8))" }])
            case .enumValues: return (["enum": Array(0...limits.enumValues)], ["enum": Array(0..<limits.enumValues)])
            case .alternatives:
                // consts, so that the choices at the limit come to one table, within the other limits
                return (["anyOf": (0...limits.alternatives).map { ["const": $0] }], ["anyOf": (0..<limits.alternatives).map { ["const": $0] }])
            case .branches: return (branches(limits.branches + 1), branches(limits.branches))
            case .nodes:
                let names = (0..<limits.nodes).map { "p\($0)" }
                return (["type": "object", "required": names + ["extra"]], ["type": "object", "required": Array(names.prefix(limits.nodes - 20))])
            case .depth: return (nested(limits.depth + 1), nested(limits.depth))
            }
        }
    }

    @Test("each limit refuses a schema just beyond it, naming it, and takes one at it", arguments: JSONSchemaLimits.Limit.allCases.map(LimitCase.init))
    func limits(_ test: LimitCase) throws {
        // through JSON text, as a request's schema arrives
        func decoded(_ schema: [String: Any]) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: JSONSerialization.data(withJSONObject: schema)) as? [String: Any])
        }
        let (over, at) = (try decoded(test.schemas.over), try decoded(test.schemas.at))
        do {
            _ = try JSONSchemaCompiler.compile(over)
            Issue.record("compiled a schema beyond '\(test.limit.rawValue)'")
        } catch {
            #expect(error.exceeded == test.limit, "\(error.description)")
            #expect(error.description.contains("'\(test.limit.rawValue)'"), "\(error.description)")
        }
        #expect(throws: Never.self, "a schema at the limit compiles") { try JSONSchemaCompiler.compile(at) }
    }
}
