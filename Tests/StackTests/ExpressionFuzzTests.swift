import Foundation
import Testing
@testable import Stack

/// Random expressions over every operator and function, with hostile numbers, widths and nesting: each one either
/// evaluates to a value within the limits or is refused with an error; none may crash, hang or take the memory.
@Suite("expression fuzzing")
struct ExpressionFuzzTests {
    /// SplitMix64 (the suite's deterministic generator), so that every run generates the same expressions.
    struct Random {
        var generator: SplitMix64
        init(state: UInt64) { generator = SplitMix64(seed: state) }
        mutating func below(_ bound: Int) -> Int { Int(generator.next() % UInt64(bound)) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let integers = ["0", "1", "-1", "7", "255", "65536", "9223372036854775807", "(-9223372036854775807 - 1)",
                           "4294967296", "999999999", #"tonumber("1e308")"#, "1.5", "0.0", "param.n", "count.index"]
    static let strings = [#""""#, #""a""#, #""10.0.0.0/16""#, #""%999999999d""#, #""%s-%d""#, #""\u001b[2J""#,
                          #""x; rm -rf /""#, "param.cidr", "stack.name", #""%-65537s""#, #""%0000099d""#]
    static let operators = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||"]
    static let functions: [(String, Int)] = [
        ("cidrsubnet", 3), ("cidrhost", 2), ("format", 3), ("join", 2), ("split", 2), ("lookup", 3), ("element", 2),
        ("length", 1), ("concat", 3), ("merge", 2), ("keys", 1), ("values", 1), ("contains", 2), ("coalesce", 2),
        ("lower", 1), ("upper", 1), ("replace", 3), ("substr", 3), ("range", 2), ("min", 2), ("max", 2),
        ("tostring", 1), ("tonumber", 1), ("jsonencode", 1),
    ]

    /// A random expression no taller than `depth`.
    static func expression(_ random: inout Random, depth: Int) -> String {
        guard depth > 0 else {
            switch random.below(4) {
            case 0, 1: return random.pick(integers)
            case 2: return random.pick(strings)
            default: return random.pick(["param.zones", "param.sizes", "true", "null", "[]", "range(10000)"])
            }
        }
        let inner = { (random: inout Random) in expression(&random, depth: depth - 1) }
        switch random.below(8) {
        case 0: return "(\(inner(&random)) \(random.pick(operators)) \(inner(&random)))"
        case 1: return "\(random.pick(["-", "!"]))\(inner(&random))"
        case 2: return "(\(inner(&random)) ? \(inner(&random)) : \(inner(&random)))"
        case 3: return "[\(inner(&random)), \(inner(&random))]"
        case 4: return "\(inner(&random))[\(inner(&random))]"
        default:
            let (name, arity) = random.pick(functions)
            let count = max(1, arity - random.below(2))
            return "\(name)(\((0..<count).map { _ in inner(&random) }.joined(separator: ", ")))"
        }
    }

    /// Structures far deeper or longer than any stack needs.
    static func hostile(_ random: inout Random) -> String {
        let depth = 60 + random.below(5_000)
        switch random.below(6) {
        case 0: return String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth)
        case 1: return String(repeating: "length([", count: depth) + "1" + String(repeating: "])", count: depth)
        case 2: return Array(repeating: "1", count: depth).joined(separator: " + ")
        case 3: return String(repeating: "-", count: depth) + "1"
        case 4: return "param.zones" + String(repeating: "[0]", count: depth)
        default: return Array(repeating: "param.flag", count: depth).joined(separator: " ? 1 : ")  + " ? 1 : 0"
        }
    }

    static func outcome(of source: String) -> Result<Value, StackError> {
        let location = SourceLocation(file: "fuzz.json5", line: 1, column: 1)
        var evaluator = ExpressionTests.evaluator(countIndex: 1)
        do {
            return .success(try evaluator.evaluate(try ExpressionParser.template("${\(source)}", at: location), at: location))
        } catch {
            return .failure(error)
        }
    }

    @Test("2,000 random expressions give a value within the limits or a located error")
    func randomExpressions() throws {
        var random = Random(state: 20_261_201)
        for round in 0..<2_000 {
            let source = round % 10 == 9 ? Self.hostile(&random) : Self.expression(&random, depth: 1 + random.below(5))
            switch Self.outcome(of: source) {
            case .success(let value):
                #expect(throws: Never.self, "\(source.prefix(200))") { _ = try Limits.checked(value, from: "fuzz") }
            case .failure(let error):
                #expect(error.location?.file == "fuzz.json5", "\(source.prefix(200)): \(error)")
                #expect(error.message.utf8.count < 2_000, "an error quotes at most a short excerpt: \(error.message.prefix(200))")
            }
        }
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var source: String
        var message: String
        var testDescription: String { source.count > 60 ? String(source.prefix(60)) + "…" : source }
    }

    @Test("refuses what once crashed or ran away", arguments: [
        Refusal(source: String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000),
                message: "nested more than 64 levels"),
        Refusal(source: String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000), message: "nested more than 64 levels"),
        Refusal(source: String(repeating: "lower(", count: 5_000) + "\"a\"" + String(repeating: ")", count: 5_000),
                message: "nested more than 64 levels"),
        Refusal(source: Array(repeating: "1", count: 100_000).joined(separator: "+"), message: "nested more than 64 levels"),
        Refusal(source: "-(-9223372036854775807 - 1)", message: "integer overflow"),
        Refusal(source: "9223372036854775807 + 1", message: "integer overflow: 9223372036854775807 + 1"),
        Refusal(source: "(-9223372036854775807 - 1) / -1", message: "integer overflow"),
        Refusal(source: "(-9223372036854775807 - 1) % -1", message: "integer overflow"),
        Refusal(source: "3037000500 * 3037000500", message: "integer overflow"),
        Refusal(source: "tonumber(\"1e308\") * 10", message: "not a finite number"),
        Refusal(source: "tonumber(\"1e400\")", message: "is not a number"),
        Refusal(source: "tonumber(\"nan\")", message: "is not a number"),
        Refusal(source: "format(\"%999999999d\", 1)", message: "width 999999999 is larger than 65536"),
        Refusal(source: "format(\"%65537s\", \"a\")", message: "width 65537 is larger than 65536"),
        Refusal(source: "range(-9223372036854775807, 9223372036854775807)", message: "range:"),
        Refusal(source: "range(10001)", message: "range:"),
        Refusal(source: "substr(\"abc\", 1, 9223372036854775807) == \"\" ? 1 : cidrhost(\"10.0.0.0/8\", -9223372036854775807 - 1)",
                message: "cidrhost: 10.0.0.0/8 has 16777216 addresses"),
        Refusal(source: "cidrsubnet(\"10.0.0.0/8\", 9223372036854775807, 0)", message: "cannot be extended by"),
        Refusal(source: "replace(format(\"%60000s\", \"a\"), \" \", \"xx\")", message: "replace: the result would be"),
        Refusal(source: "join(\",\", concat(range(10000), range(10000)))", message: "more than the 10000"),
    ])
    func refusal(_ refusal: Refusal) {
        switch Self.outcome(of: refusal.source) {
        case .success(let value): Issue.record("accepted, giving \(value.description.prefix(100))")
        case .failure(let error):
            #expect(error.message.contains(refusal.message), "\(error.message.prefix(300))")
            #expect(error.location != nil)
        }
    }
}
