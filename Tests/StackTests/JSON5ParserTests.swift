import Foundation
import Testing
@testable import Stack

/// The JSON5 reader: every construct of the JSON5 spec, and errors that point at the exact line and column.
@Suite("JSON5 parser")
struct JSON5ParserTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        var source: String
        var expected: Value
        var testDescription: String { source }
    }

    @Test("parses JSON5", arguments: [
        Valid(source: "{}", expected: .map([:])),
        Valid(source: "[]", expected: .list([])),
        Valid(source: #"{"a": 1, "b": [true, false, null]}"#, expected: .map(["a": .int(1), "b": .list([.bool(true), .bool(false), .null])])),
        Valid(source: "{unquoted: 'single', $dollar_1: \"double\",}", expected: .map(["unquoted": .string("single"), "$dollar_1": .string("double")])),
        Valid(source: "[1, 2, 3,]", expected: .list([.int(1), .int(2), .int(3)])),
        Valid(source: "// line comment\n{a: /* block */ 1} // trailing", expected: .map(["a": .int(1)])),
        Valid(source: "[0x1F, -0xA, +5, .5, 5., 1e3, -2.5E-1]",
              expected: .list([.int(31), .int(-10), .int(5), .double(0.5), .double(5), .double(1000), .double(-0.25)])),
        Valid(source: "[Infinity, -Infinity]", expected: .list([.double(.infinity), .double(-.infinity)])),
        Valid(source: #"'it\'s \"q\" \\ \/ \n\t \x41 \u00e9 \ud83d\ude00'"#, expected: .string("it's \"q\" \\ / \n\t A é 😀")),
        Valid(source: "'line one \\\nline two'", expected: .string("line one line two")),
        Valid(source: "'\\0'", expected: .string("\0")),
        Valid(source: "{a: {b: {c: [ {d: 'deep'} ]}}}",
              expected: .map(["a": .map(["b": .map(["c": .list([.map(["d": .string("deep")])])])])])),
        Valid(source: "\u{FEFF}{a: 1}", expected: .map(["a": .int(1)])),
        Valid(source: "  \n\t 42 \n", expected: .int(42)),
    ])
    func valid(_ test: Valid) throws {
        #expect(Value(try JSON5Parser.parse(test.source, file: "t.json5")) == test.expected)
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var source: String
        var expected: String
        var testDescription: String { expected }
    }

    @Test("reports errors with line and column", arguments: [
        Invalid(source: "{a: 1,\n b: }", expected: "t.json5:2:5: expected a value, found '}'"),
        Invalid(source: "{a: 1\n b: 2}", expected: "t.json5:2:2: expected ',' or '}' after the value of 'a', found 'b'"),
        Invalid(source: "{\n  a: 1,\n  a: 2,\n}", expected: "t.json5:3:3: duplicate key 'a' (first at line 2)"),
        Invalid(source: "{a: 'open\n}", expected: "t.json5:1:5: string is never closed before the end of the line"),
        Invalid(source: "[1, 2", expected: "t.json5:1:1: '[' is never closed"),
        Invalid(source: "{\n a: [1,\n 2,\n", expected: "t.json5:2:5: '[' is never closed"),
        Invalid(source: "{a: yes}", expected: "t.json5:1:5: unexpected word 'yes'; strings need quotes"),
        Invalid(source: "/* never closed", expected: "t.json5:1:1: unterminated block comment"),
        Invalid(source: "{a: 01}", expected: "t.json5:1:5: numbers cannot have leading zeros: '01'"),
        Invalid(source: "{a: 1} extra", expected: "t.json5:1:8: unexpected 'e' after the end of the document"),
        Invalid(source: "{é: 1, 'x': \n 1.2.3}", expected: "t.json5:2:2: invalid number '1.2.3'"),
        Invalid(source: "'\\u12'", expected: "t.json5:1:3: expected 4 hexadecimal digits in escape"),
        Invalid(source: "", expected: "t.json5:1:1: expected a value, found end of file"),
    ])
    func invalid(_ test: Invalid) {
        #expect(throws: StackError.self) { try JSON5Parser.parse(test.source, file: "t.json5") }
        do {
            _ = try JSON5Parser.parse(test.source, file: "t.json5")
        } catch {
            #expect(error.description == test.expected)
        }
    }

    @Test("keeps member order and positions")
    func positions() throws {
        let node = try JSON5Parser.parse("{\n  zeta: 1,\n  alpha: [\n    'x',\n  ],\n}", file: "f")
        guard case .object(let members) = node.kind else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["zeta", "alpha"])
        #expect(members[1].keyLocation == SourceLocation(file: "f", line: 3, column: 3))
        guard case .array(let items) = members[1].value.kind else { Issue.record("not a list"); return }
        #expect(items[0].location == SourceLocation(file: "f", line: 4, column: 5))
    }

    @Test("refuses absurd nesting instead of overflowing the stack")
    func depth() {
        let source = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: StackError.self) { try JSON5Parser.parse(source, file: "deep") }
    }

    @Test("mutated stacks and templates never crash the parser or the loader")
    func mutations() throws {
        var generator = SplitMix64(seed: 0x5EED)
        let sources = try ["Stacks/private-inference.json5", "Templates/network.json5", "Templates/inference.json5"].map {
            try String(contentsOf: FixtureFiles.repository.appendingPathComponent($0), encoding: .utf8)
        }
        let alphabet = Array("{}[]:,'\"\\/*$ \nax0.-+eE")
        for round in 0..<3000 {
            var bytes = Array(sources[round % sources.count])
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes.remove(at: position)
                case 1: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                default: bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                }
            }
            let text = String(bytes)
            if let node = try? JSON5Parser.parse(text, file: "m.json5") {
                _ = Value(node)
                _ = try? StackFile.parse(text, file: "m.json5")
                _ = try? Template.parse(text, file: "m.json5", phase: .network)
            }
        }
    }
}

/// A small deterministic generator, so a failing mutation can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
