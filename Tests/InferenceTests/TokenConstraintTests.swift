import Foundation
import Testing
@testable import InferenceEngine

/// Constrained decoding driving a fake "model" of random logits over a vocabulary of awkward tokens (several
/// structural bytes at once, characters split across tokens, empty and control tokens): whatever it draws, the
/// output always parses and validates, a token is allowed exactly when taking it keeps the text completable,
/// and end of generation is allowed only on a complete document.
@Suite("token constraint")
struct TokenConstraintTests {
    static let endToken = 0
    static let controlToken = 1

    /// The fake vocabulary: 0 ends generation, 1 is a control token (no bytes), the rest text.
    static let pieces: [[UInt8]] = {
        var pieces: [[UInt8]] = [[], []]
        for byte in UInt8(0x20)...UInt8(0x7E) { pieces.append([byte]) }
        pieces += [[0x0A], [0x09], [0x01], [0xC3], [0xA9], [0xF0, 0x9F], [0x98, 0x80], [0xE4, 0xB8, 0xAD], [0xFF]]
        for text in ["{\"", "\":", "\",", "\"}", "},", "}]", "],", "true", "false", "null", "\\n", "\\u00e9", "\\ud8", "123", "-1.5e3",
                     ", \"", "\"name\"", "\"age\"", "\"kind\"", "\"a\"", "\"b\"", "   ", "\n  ", "é", "😀", "\"}\n", "{}", "[]", "0.", "e+"] {
            pieces.append(Array(text.utf8))
        }
        return pieces
    }()

    static let table = TokenBytes(pieces: pieces, endOfGeneration: [endToken])

    /// Draws tokens from random logits through the constraint until end of generation or `limit` tokens; closing
    /// bytes and the end grow likelier as it goes on, so that most runs finish.
    static func run(_ grammar: JSONGrammar, seed: UInt64, limit: Int = 600) -> (text: [UInt8], finished: Bool) {
        var random = SplitMix64(seed: seed)
        var constraint = TokenConstraint(grammar, table: table)
        var text: [UInt8] = []
        for step in 0..<limit {
            let allowed = constraint.checker()
            let pull = Float(step) / 40
            let weights: [Float] = pieces.indices.map { token in
                guard allowed(token) else { return 0 }
                let logit = Float(random.next() >> 40) / Float(1 << 24) * 4
                let closing = token == endToken || pieces[token].contains { [0x7D, 0x5D, 0x22].contains($0) }
                return expf(logit + (closing ? pull : 0))
            }
            // every reachable state has a way on
            #expect(weights.contains { $0 > 0 }, "no token allowed after \(String(decoding: text, as: UTF8.self).debugDescription)")
            for token in pieces.indices where weights[token] > 0 {
                #expect(constraint.allows(token), "the first-byte check agrees with the full one")
            }
            var draw = Float(random.next() >> 40) / Float(1 << 24) * weights.reduce(0, +)
            let token = weights.indices.first { draw -= weights[$0]; return draw < 0 && weights[$0] > 0 }
                ?? weights.indices.last { weights[$0] > 0 } ?? endToken
            let took1 = constraint.take(token)
            #expect(took1)
            if token == endToken { return (text, true) }
            text += pieces[token]
            #expect(!constraint.allows(controlToken))
        }
        return (text, false)
    }

    static let schemas: [String] = [
        ##"{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},"tags":{"type":"array","items":{"enum":["a","b",3]},"maxItems":4}},"required":["name","age"],"additionalProperties":false}"##,
        ##"{"type":"array","items":{"anyOf":[{"type":"number"},{"type":"boolean"},{"type":"null"},{"type":"string","maxLength":5}]},"minItems":1,"maxItems":5}"##,
        ##"{"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["value"],"additionalProperties":false}}}"##,
        ##"{"oneOf":[{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"number"}},"required":["kind","x"],"additionalProperties":false},{"type":"object","properties":{"kind":{"const":"b"}},"required":["kind"],"additionalProperties":{"type":"boolean"}}]}"##,
        ##"{"type":"object","properties":{"a":{"type":["string","null"]}},"required":["a"]}"##,
    ]

    @Test("JSON mode: every finished output parses as an object", arguments: 0..<12)
    func jsonMode(_ seed: Int) throws {
        let (text, finished) = Self.run(.anyObject, seed: UInt64(seed))
        guard finished else { return }
        let value = try JSONSerialization.jsonObject(with: Data(text))
        #expect(value is [String: Any], "\(String(decoding: text, as: UTF8.self))")
    }

    @Test("schemas: every finished output parses and validates", arguments: schemas.indices)
    func schemaOutputs(_ index: Int) throws {
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(Self.schemas[index].utf8)) as? [String: Any])
        let grammar = try JSONSchemaCompiler.compile(schema)
        var finished = 0
        for seed in 0..<10 {
            let (text, done) = Self.run(grammar, seed: UInt64(seed * 31 + index))
            guard done else { continue }
            finished += 1
            let value = try JSONSerialization.jsonObject(with: Data(text), options: .fragmentsAllowed)
            #expect(SchemaCheck(root: schema).valid(value, schema), "\(String(decoding: text, as: UTF8.self))")
        }
        #expect(finished >= 3, "runs finish")
    }

    @Test("the sampler's allowed predicate keeps greedy and sampled draws inside the grammar", arguments: [Float(0), 1])
    func throughSampler(_ temperature: Float) throws {
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(Self.schemas[0].utf8)) as? [String: Any])
        let grammar = try JSONSchemaCompiler.compile(schema)
        var finished = 0
        for seed in 0..<6 {
            var settings = SamplingSettings()
            settings.temperature = temperature
            settings.topK = 0
            settings.topP = 1
            settings.minP = 0
            settings.seed = UInt64(seed)
            var sampler = Sampler(settings)
            var random = SplitMix64(seed: UInt64(seed) &+ 99)
            var constraint = TokenConstraint(grammar, table: Self.table)
            var text: [UInt8] = []
            for step in 0..<400 {
                let logits: [Float] = Self.pieces.indices.map { token in
                    let closing = token == Self.endToken || Self.pieces[token].contains { [0x7D, 0x5D, 0x22].contains($0) }
                    return Float(random.next() >> 40) / Float(1 << 24) * 6 + (closing ? Float(step) / 30 : 0)
                }
                let sampled = sampler.sample(logits, history: [], allowed: constraint.checker())
                let token = try #require(sampled).token
                let took = constraint.take(token)
                #expect(took, "the sampler returned a token the grammar refused")
                if !took || token == Self.endToken { break }
                text += Self.pieces[token]
            }
            guard constraint.isComplete, !text.isEmpty else { continue }
            finished += 1
            let value = try JSONSerialization.jsonObject(with: Data(text))
            #expect(SchemaCheck(root: schema).valid(value, schema), "\(String(decoding: text, as: UTF8.self))")
        }
        #expect(finished > 0)
    }

    @Test("end of generation only on a complete document; control and empty tokens never")
    func endOfGeneration() {
        var constraint = TokenConstraint(.anyObject, table: Self.table)
        #expect(!constraint.allows(Self.endToken))
        #expect(!constraint.allows(Self.controlToken))
        let open = Self.pieces.firstIndex(of: Array("{}".utf8)) ?? -1
        let took2 = constraint.take(open)
        #expect(took2)
        #expect(constraint.allows(Self.endToken))
        #expect(!constraint.allows(Self.pieces.firstIndex(of: Array("{\"".utf8)) ?? -1), "nothing but white space after the document")
        let took3 = constraint.take(Self.controlToken)
        #expect(!took3)
        #expect(!constraint.allows(-1) && !constraint.allows(Self.pieces.count))
    }
}

/// A small validator for the keywords the compiler supports, to check what it generated independently of it.
struct SchemaCheck {
    let root: [String: Any]

    func valid(_ value: Any, _ schema: Any) -> Bool {
        if let flag = schema as? Bool { return flag }
        guard let schema = schema as? [String: Any] else { return false }
        if let reference = schema["$ref"] as? String {
            if reference == "#" { return valid(value, root) }
            let parts = reference.split(separator: "/").map(String.init)
            guard parts.count == 3, let definitions = root[parts[1]] as? [String: Any], let target = definitions[parts[2]] else { return false }
            return valid(value, target)
        }
        if let choices = schema["anyOf"] as? [Any] { return choices.contains { valid(value, $0) } }
        if let choices = schema["oneOf"] as? [Any] { return choices.filter { valid(value, $0) }.count == 1 }
        if let options = schema["enum"] as? [Any], !options.contains(where: { Self.same($0, value) }) { return false }
        if let constant = schema["const"], !Self.same(constant, value) { return false }
        if let type = schema["type"] {
            let types = (type as? [String]) ?? [type as? String ?? ""]
            guard types.contains(where: { JSONSchemaCompiler.kind(value, is: $0) }) else { return false }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil { return false }
            for (name, member) in object {
                if let property = properties[name] {
                    guard valid(member, property) else { return false }
                } else if let additional = schema["additionalProperties"] {
                    guard valid(member, additional) else { return false }
                }
            }
        }
        if let array = value as? [Any] {
            if let minimum = schema["minItems"] as? Int, array.count < minimum { return false }
            if let maximum = schema["maxItems"] as? Int, array.count > maximum { return false }
            if let items = schema["items"], !array.allSatisfy({ valid($0, items) }) { return false }
        }
        if let string = value as? String {
            if let maximum = schema["maxLength"] as? Int, string.unicodeScalars.count > maximum { return false }
            if let minimum = schema["minLength"] as? Int, string.unicodeScalars.count < minimum { return false }
        }
        return true
    }

    static func same(_ a: Any, _ b: Any) -> Bool {
        let options: JSONSerialization.WritingOptions = [.fragmentsAllowed, .sortedKeys]
        return (try? JSONSerialization.data(withJSONObject: a, options: options)) == (try? JSONSerialization.data(withJSONObject: b, options: options))
    }
}
