import Foundation
import TextSafety

/// The functions templates may call. Each checks its arguments and says what it expected.
public enum StandardLibrary {
    /// Names of every function, for "did you mean" and static checks.
    public static var names: [String] { functions.keys.sorted() }

    /// Functions that look inside lists and maps structurally, so an unknown element does not make the result unknown.
    private static let structural: Set<String> = ["length", "element", "lookup", "concat", "merge", "coalesce", "keys", "contains"]

    private struct Function: Sendable {
        var arity: ClosedRange<Int>
        var body: @Sendable ([Value]) throws -> Value
    }

    private static let functions: [String: Function] = [
        "cidrsubnet": Function(arity: 3...3) { args in
            .string(try CIDR(try string(args[0], "cidrsubnet", 1)).subnet(newBits: try int(args[1], "cidrsubnet", 2),
                                                                          number: try int(args[2], "cidrsubnet", 3)).description)
        },
        "cidrhost": Function(arity: 2...2) { args in
            .string(try CIDR(try string(args[0], "cidrhost", 1)).host(try int(args[1], "cidrhost", 2)))
        },
        "format": Function(arity: 1...32) { args in
            .string(try format(try string(args[0], "format", 1), Array(args.dropFirst())))
        },
        "join": Function(arity: 2...2) { args in
            let separator = try string(args[0], "join", 1)
            let items = try list(args[1], "join", 2).map { item -> String in
                guard case .string(let text) = item else {
                    if case .int(let number) = item { return String(number) }
                    throw EvaluationFailure("join: argument 2 must be a list of strings, found a \(item.typeName)")
                }
                return text
            }
            return .string(items.joined(separator: separator))
        },
        "split": Function(arity: 2...2) { args in
            let separator = try string(args[0], "split", 1)
            guard !separator.isEmpty else { throw EvaluationFailure("split: the separator cannot be empty") }
            return .list(try string(args[1], "split", 2).components(separatedBy: separator).map(Value.string))
        },
        "lookup": Function(arity: 2...3) { args in
            let entries = try map(args[0], "lookup", 1)
            let key = try string(args[1], "lookup", 2)
            if let value = entries[key] { return value }
            if args.count == 3 { return args[2] }
            throw EvaluationFailure(Suggestion.message("lookup: no key '\(SafeText.quoted(key))' and no default", for: key, among: entries.keys))
        },
        "element": Function(arity: 2...2) { args in
            let items = try list(args[0], "element", 1)
            guard !items.isEmpty else { throw EvaluationFailure("element: the list is empty") }
            let index = try int(args[1], "element", 2)
            guard index >= 0 else { throw EvaluationFailure("element: the index cannot be negative") }
            return items[index % items.count]
        },
        "length": Function(arity: 1...1) { args in
            switch args[0] {
            case .list(let items): return .int(items.count)
            case .map(let entries): return .int(entries.count)
            case .string(let text): return .int(text.count)
            default: throw EvaluationFailure("length: needs a list, map or string, found \(args[0].typeName)")
            }
        },
        "concat": Function(arity: 1...32) { args in
            var out: [Value] = []
            for (position, argument) in args.enumerated() { out += try list(argument, "concat", position + 1) }
            return .list(out)
        },
        "merge": Function(arity: 1...32) { args in
            var out: [String: Value] = [:]
            for (position, argument) in args.enumerated() {
                out.merge(try map(argument, "merge", position + 1)) { _, later in later }
            }
            return .map(out)
        },
        "keys": Function(arity: 1...1) { args in .list(try map(args[0], "keys", 1).keys.sorted().map(Value.string)) },
        "values": Function(arity: 1...1) { args in
            let entries = try map(args[0], "values", 1)
            return .list(entries.keys.sorted().map { entries[$0]! })
        },
        "contains": Function(arity: 2...2) { args in
            .bool(try list(args[0], "contains", 1).contains { Operators.equal($0, args[1]) })
        },
        "coalesce": Function(arity: 1...32) { args in
            for argument in args {
                if argument == .unknown { return .unknown }
                if argument != .null, argument != .string("") { return argument }
            }
            throw EvaluationFailure("coalesce: every argument is null or empty")
        },
        "lower": Function(arity: 1...1) { args in .string(try string(args[0], "lower", 1).lowercased()) },
        "upper": Function(arity: 1...1) { args in .string(try string(args[0], "upper", 1).uppercased()) },
        "replace": Function(arity: 3...3) { args in
            let text = try string(args[0], "replace", 1), target = try string(args[1], "replace", 2)
            let replacement = try string(args[2], "replace", 3)
            guard !target.isEmpty else { return .string(text) }
            let pieces = text.components(separatedBy: target)
            try Limits.checkString(bytes: text.utf8.count + (pieces.count - 1) * (replacement.utf8.count - target.utf8.count),
                                   from: "replace")
            return .string(pieces.joined(separator: replacement))
        },
        "substr": Function(arity: 3...3) { args in
            let text = Array(try string(args[0], "substr", 1))
            let offset = try int(args[1], "substr", 2), length = try int(args[2], "substr", 3)
            guard offset >= 0, offset <= text.count else { throw EvaluationFailure("substr: offset \(offset) is out of range") }
            let end = length < 0 ? text.count : offset + min(text.count - offset, length)
            return .string(String(text[offset..<end]))
        },
        "range": Function(arity: 1...2) { args in
            let start = args.count == 2 ? try int(args[0], "range", 1) : 0
            let end = try int(args[args.count - 1], "range", args.count)
            let (span, overflow) = end.subtractingReportingOverflow(start)
            guard !overflow, span >= 0, span <= Limits.listElements else {
                throw EvaluationFailure("range: \(start)..<\(end) is not a range of 0 to \(Limits.listElements) numbers")
            }
            return .list((start..<end).map(Value.int))
        },
        "min": Function(arity: 1...32) { args in try extreme(args, "min", <) },
        "max": Function(arity: 1...32) { args in try extreme(args, "max", >) },
        "tostring": Function(arity: 1...1) { args in
            switch args[0] {
            case .string, .int, .double, .bool: return .string(args[0].interpolated)
            default: throw EvaluationFailure("tostring: cannot convert a \(args[0].typeName) to a string")
            }
        },
        "tonumber": Function(arity: 1...1) { args in
            switch args[0] {
            case .int, .double: return args[0]
            case .string(let text):
                if let value = Int(text) { return .int(value) }
                if let value = Double(text), value.isFinite { return .double(value) }
                throw EvaluationFailure("tonumber: '\(SafeText.quoted(text))' is not a number")
            default: throw EvaluationFailure("tonumber: cannot convert a \(args[0].typeName) to a number")
            }
        },
        "jsonencode": Function(arity: 1...1) { args in .string(try CanonicalJSON.encode(args[0])) },
        "shellquote": Function(arity: 1...1) { args in
            switch args[0] {
            case .string, .int, .double, .bool:
                guard let quoted = ShellQuoting.quoted(args[0].interpolated) else {
                    throw EvaluationFailure("shellquote: a NUL character cannot be passed to a shell")
                }
                return .string(quoted)
            default: throw EvaluationFailure("shellquote: cannot quote a \(args[0].typeName); quote each element")
            }
        },
    ]

    /// Calls a function by name.
    public static func call(_ name: String, _ arguments: [Value]) throws(EvaluationFailure) -> Value {
        guard let function = functions[name] else {
            throw EvaluationFailure(Suggestion.message("unknown function '\(name)'", for: name, among: functions.keys))
        }
        guard function.arity.contains(arguments.count) else {
            let expected = function.arity.count == 1 ? "\(function.arity.lowerBound)" : "\(function.arity.lowerBound) to \(function.arity.upperBound)"
            throw EvaluationFailure("\(name) takes \(expected) arguments, given \(arguments.count)")
        }
        if structural.contains(name) {
            if arguments.contains(.unknown) { return .unknown }
        } else if arguments.contains(where: \.containsUnknown) {
            return .unknown
        }
        do {
            return try Limits.checked(try function.body(arguments), from: name)
        } catch let failure as EvaluationFailure {
            throw failure
        } catch {
            throw EvaluationFailure("\(name): \(error)")
        }
    }

    /// `list[index]` or `map[key]`.
    static func `subscript`(_ container: Value, _ key: Value) throws -> Value {
        if key == .unknown { return .unknown }
        switch (container, key) {
        case (.list(let items), _):
            guard let index = key.intValue else { throw EvaluationFailure("a list index must be an int, not \(key.typeName)") }
            guard items.indices.contains(index) else { throw EvaluationFailure("index \(index) is out of range for a list of \(items.count)") }
            return items[index]
        case (.map(let entries), .string(let name)):
            guard let value = entries[name] else {
                throw EvaluationFailure(Suggestion.message("no key '\(name)'", for: name, among: entries.keys))
            }
            return value
        default:
            throw EvaluationFailure("cannot index a \(container.typeName) with a \(key.typeName)")
        }
    }

    private static func string(_ value: Value, _ function: String, _ position: Int) throws -> String {
        guard case .string(let text) = value else {
            throw EvaluationFailure("\(function): argument \(position) must be a string, found \(value.typeName)")
        }
        return text
    }

    private static func int(_ value: Value, _ function: String, _ position: Int) throws -> Int {
        guard let number = value.intValue else {
            throw EvaluationFailure("\(function): argument \(position) must be an int, found \(value.typeName)")
        }
        return number
    }

    private static func list(_ value: Value, _ function: String, _ position: Int) throws -> [Value] {
        guard case .list(let items) = value else {
            throw EvaluationFailure("\(function): argument \(position) must be a list, found \(value.typeName)")
        }
        return items
    }

    private static func map(_ value: Value, _ function: String, _ position: Int) throws -> [String: Value] {
        guard case .map(let entries) = value else {
            throw EvaluationFailure("\(function): argument \(position) must be a map, found \(value.typeName)")
        }
        return entries
    }

    private static func extreme(_ args: [Value], _ name: String, _ better: (Double, Double) -> Bool) throws -> Value {
        var best: Value?
        for (position, argument) in args.enumerated() {
            guard let number = Operators.number(argument) else {
                throw EvaluationFailure("\(name): argument \(position + 1) must be a number, found \(argument.typeName)")
            }
            if let current = best.flatMap(Operators.number), !better(number, current) { continue }
            best = argument
        }
        return best ?? .null
    }

    /// printf-style formatting: `%s`, `%d` (with width and zero padding), `%v`, `%q`, `%%`.
    static func format(_ pattern: String, _ arguments: [Value]) throws -> String {
        var out = ""
        var remaining = arguments[...]
        var characters = pattern.makeIterator()
        while let character = characters.next() {
            guard character == "%" else {
                out.append(character)
                continue
            }
            var flags = ""
            var verb: Character?
            while let next = characters.next() {
                if next.isNumber || next == "-" { flags.append(next) } else { verb = next; break }
            }
            guard let verb else { throw EvaluationFailure("format: the pattern ends inside a '%' directive") }
            if verb == "%" { out += "%"; continue }
            guard let argument = remaining.popFirst() else {
                throw EvaluationFailure("format: '\(SafeText.quoted(pattern))' needs more arguments than the \(arguments.count) given")
            }
            var piece: String
            switch verb {
            case "s", "v":
                guard argument.typeName != "list", argument.typeName != "map" || verb == "v" else {
                    throw EvaluationFailure("format: %s cannot format a \(argument.typeName)")
                }
                piece = argument.interpolated
            case "d":
                guard let number = argument.intValue else { throw EvaluationFailure("format: %d needs an int, found \(argument.typeName)") }
                piece = String(number)
            case "q":
                piece = Value.string(argument.interpolated).description
            default:
                throw EvaluationFailure("format: unsupported directive '%\(SafeText.quoted(String(verb)))'")
            }
            let leftAlign = flags.hasPrefix("-")
            let zeroPad = flags.hasPrefix("0")
            let widthText = flags.drop { $0 == "-" || $0 == "0" }
            guard widthText.allSatisfy(\.isNumber) else {
                throw EvaluationFailure("format: '%\(SafeText.quoted(flags))\(verb)' is not a valid directive")
            }
            if !widthText.isEmpty {
                guard let width = Int(widthText), width <= Limits.stringBytes else {
                    throw EvaluationFailure("format: width \(SafeText.quoted(String(widthText))) is larger than \(Limits.stringBytes)")
                }
                if piece.count < width {
                    let padding = String(repeating: zeroPad && !leftAlign ? "0" : " ", count: width - piece.count)
                    piece = leftAlign ? piece + padding : padding + piece
                }
            }
            out += piece
            try Limits.checkString(bytes: out.utf8.count, from: "format")
        }
        guard remaining.isEmpty else {
            throw EvaluationFailure("format: '\(SafeText.quoted(pattern))' uses fewer arguments than the \(arguments.count) given")
        }
        return out
    }
}
