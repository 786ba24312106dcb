/// A pushdown machine over bytes that accepts exactly the JSON documents of a grammar, one byte at a time: `advance`
/// says whether bytes may come next (and takes them), `canEnd` whether what came so far is a whole document.
///
/// Every prefix it accepts can be finished: it only enters rules that have a finite value, offers a comma only when
/// another member can follow, and never lets a string hold a character it could not close. `anyOf` is followed
/// on every branch at once (the machine keeps each live configuration), so overlapping choices need no lookahead.
/// Runs of white space are bounded (`whitespaceLimit`), and after a complete document at most `trailingLimit` bytes
/// of white space may follow, so a model cannot spin in place.
public struct JSONMatcher: Sendable {
    public let grammar: JSONGrammar
    /// The most white space bytes in a row outside strings.
    public let whitespaceLimit: Int
    /// The most white space bytes after a complete document (a line break), so that a model that may end does.
    public static let trailingLimit = 2
    /// The most configurations followed at once: as many as the branches one choice may have (so that every object
    /// of a discriminated union stays open until its discriminator is written), and no more when choices nested in
    /// each other would multiply them.
    static let configurationLimit = JSONSchemaLimits.standard.branches
    private var configurations: [Configuration]

    public init(_ grammar: JSONGrammar, whitespaceLimit: Int = 24) {
        self.grammar = grammar
        self.whitespaceLimit = whitespaceLimit
        configurations = grammar.finite[grammar.root] ? [Configuration(stack: [.value(grammar.root)])] : []
    }

    /// Whether the bytes so far form a complete document (an end-of-generation token may come now).
    public var canEnd: Bool { configurations.contains { canEnd($0) } }

    /// Whether any byte at all may come next.
    public var isDead: Bool { configurations.isEmpty }

    /// Takes `bytes` if they may come next; otherwise returns false and leaves the machine as it was.
    @discardableResult
    public mutating func advance(_ bytes: some Sequence<UInt8>) -> Bool {
        var current = configurations
        for byte in bytes {
            var next: [Configuration] = []
            for configuration in current { step(configuration, byte, into: &next) }
            if next.count > 1 { next = Self.unique(next) }
            // overlapping choices nested in each other multiply configurations; each one alone is sound and can be
            // finished, so keeping the first few only narrows what may come next
            if next.count > Self.configurationLimit { next.removeLast(next.count - Self.configurationLimit) }
            if next.isEmpty { return false }
            current = next
        }
        configurations = current
        return true
    }

    /// Whether `bytes` may come next, without taking them.
    public func accepts(_ bytes: some Collection<UInt8>) -> Bool {
        // inside a string, where most tokens are text, bytes without a quote are checked without copying the stack
        if configurations.count == 1, case .string(var string)? = configurations[0].stack.last, !bytes.contains(UInt8(ascii: "\"")) {
            for byte in bytes where stringStep(&string, byte) == nil { return false }
            return true
        }
        var copy = self
        return copy.advance(bytes)
    }

    // MARK: the machine

    struct Configuration: Hashable, Sendable {
        var stack: [Frame]
        /// White space bytes in the current run (outside strings).
        var whitespace = 0
    }

    enum Frame: Hashable, Sendable {
        /// A value of the rule is expected (after optional white space).
        case value(Int)
        case object(rule: Int, ObjectState)
        case array(rule: Int, count: Int, phase: ArrayPhase)
        case string(StringState)
        /// Matching one of several exact texts: the rule (literals, or an object's keys), the range of its sorted
        /// texts still possible (those beginning with the bytes matched so far), and how many bytes matched.
        case literal(source: LiteralSource, lower: Int, upper: Int, matched: Int)
        case number(NumberState)
    }

    enum LiteralSource: Hashable, Sendable {
        case rule(Int)
        /// The keys of an object rule.
        case keys(Int)
    }

    enum ObjectPhase: Hashable, Sendable {
        /// After `{`: a key or `}`.
        case open
        /// After a key's closing quote: `:`.
        case colon
        /// After a member: `,` or `}`.
        case member
        /// After `,`: a key.
        case comma
    }

    struct ObjectState: Hashable, Sendable {
        var phase = ObjectPhase.open
        /// Declared properties already written.
        var seen: [Int] = []
        /// The rule of the value after the colon.
        var pending = 0
    }

    enum ArrayPhase: Hashable, Sendable {
        case open, item, comma
    }

    struct StringState: Hashable, Sendable {
        var minimum = 0
        var maximum: Int?
        /// Characters so far.
        var count = 0
        /// 0: none; 1: after a backslash; 2...5: hex digits of `\u` still expected.
        var escape = 0
        var escapeFirstDigitD = false
        /// Continuation bytes still expected in the current character, and the range of the next one.
        var continuation = 0
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        /// A free-text object key (its bytes are kept to find its rule): the object's rule, else nil.
        var keyOf: Int?
        var key: [UInt8] = []
    }

    struct NumberState: Hashable, Sendable {
        enum Phase: Hashable, Sendable { case start, minus, zero, whole, dot, fraction, exponent, exponentSign, exponentDigits }
        var phase = Phase.start
        var integer: Bool
        var digits = 0

        static let digitLimit = 16
        static let exponentLimit = 2

        var isComplete: Bool { [.zero, .whole, .fraction, .exponentDigits].contains(phase) }

        /// The state after `byte`, or nil if the number cannot take it.
        func next(_ byte: UInt8) -> NumberState? {
            var state = self
            let digit = byte >= 0x30 && byte <= 0x39
            switch (phase, byte) {
            case (.start, UInt8(ascii: "-")): state.phase = .minus
            case (.start, UInt8(ascii: "0")), (.minus, UInt8(ascii: "0")): state.phase = .zero
            case (.start, _) where digit, (.minus, _) where digit: state.phase = .whole; state.digits = 1
            case (.whole, _) where digit:
                guard digits < Self.digitLimit else { return nil }
                state.digits += 1
            case (.zero, UInt8(ascii: ".")), (.whole, UInt8(ascii: ".")):
                guard !integer else { return nil }
                state.phase = .dot; state.digits = 0
            case (.dot, _) where digit: state.phase = .fraction; state.digits = 1
            case (.fraction, _) where digit:
                guard digits < Self.digitLimit else { return nil }
                state.digits += 1
            case (.zero, UInt8(ascii: "e")), (.zero, UInt8(ascii: "E")), (.whole, UInt8(ascii: "e")), (.whole, UInt8(ascii: "E")),
                 (.fraction, UInt8(ascii: "e")), (.fraction, UInt8(ascii: "E")):
                guard !integer else { return nil }
                state.phase = .exponent
            case (.exponent, UInt8(ascii: "+")), (.exponent, UInt8(ascii: "-")): state.phase = .exponentSign
            case (.exponent, _) where digit, (.exponentSign, _) where digit: state.phase = .exponentDigits; state.digits = 1
            case (.exponentDigits, _) where digit:
                guard digits < Self.exponentLimit else { return nil }
                state.digits += 1
            default: return nil
            }
            return state
        }
    }

    /// The white space a document may have outside strings: space and line feed. JSON also allows tab and carriage
    /// return, but nothing needs them and a model can fill its bounded run with them (Gemma wrote runs of "\r"), so
    /// they are refused, as llama.cpp's JSON grammar refuses "\r".
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A }

    private static func unique(_ configurations: [Configuration]) -> [Configuration] {
        var seen = Set<Configuration>()
        return configurations.filter { seen.insert($0).inserted }
    }

    private func canEnd(_ configuration: Configuration) -> Bool {
        let stack = configuration.stack
        if stack.isEmpty { return true }
        guard stack.count == 1, let top = stack.last else { return false }
        switch top {
        case .number(let number): return number.isComplete
        case .literal(let source, let lower, let upper, let matched): return lower < upper && text(source, lower).count == matched
        default: return false
        }
    }

    /// The `index`th text of a literal source in byte order.
    private func text(_ source: LiteralSource, _ index: Int) -> [UInt8] {
        switch source {
        case .rule(let rule):
            if case .literals(let texts) = grammar.rules[rule] { return texts[index] }
        case .keys(let rule):
            if case .object(let object) = grammar.rules[rule], let table = grammar.keyTables[rule] {
                return object.properties[table.order[index]].key
            }
        }
        return []
    }

    /// The first index in `lower..<upper` whose text's byte at `offset` is not below `byte` (or, with `above`, is
    /// above it). The range's texts share their first `offset` bytes and are all longer, so they are sorted by it.
    private func partition(_ source: LiteralSource, _ lower: Int, _ upper: Int, offset: Int, byte: UInt8, above: Bool) -> Int {
        var (low, high) = (lower, upper)
        while low < high {
            let middle = (low + high) / 2
            let value = text(source, middle)[offset]
            if above ? value <= byte : value < byte { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether the texts `lower..<upper` hold one that may still be written: any literal; for keys, one the object
    /// on the stack under the literal has not had yet.
    private func hasOpen(_ c: Configuration, _ source: LiteralSource, _ lower: Int, _ upper: Int) -> Bool {
        guard lower < upper else { return false }
        guard case .keys(let rule) = source else { return true }
        guard c.stack.count >= 2, case .object(_, let state) = c.stack[c.stack.count - 2], let table = grammar.keyTables[rule] else {
            return false
        }
        let seen = state.seen.reduce(0) { count, property in
            let place = table.rank[property]
            return count + (place >= lower && place < upper ? 1 : 0)
        }
        return seen < upper - lower
    }

    /// Appends to `output` every configuration `configuration` becomes on `byte` (none if it cannot take it).
    private func step(_ configuration: Configuration, _ byte: UInt8, into output: inout [Configuration]) {
        var c = configuration
        while true {
            guard let top = c.stack.last else {
                // a complete document: only a bounded run of trailing white space
                if Self.isWhitespace(byte), c.whitespace < Self.trailingLimit {
                    c.whitespace += 1
                    output.append(c)
                }
                return
            }
            let isSpace = Self.isWhitespace(byte)
            switch top {
            case .value(let rule):
                if isSpace {
                    if c.whitespace < whitespaceLimit { c.whitespace += 1; output.append(c) }
                    return
                }
                c.stack.removeLast()
                switch grammar.rules[rule] {
                case .anyOf(let choices):
                    for choice in choices where grammar.finite[choice] {
                        var branch = c
                        branch.stack.append(.value(choice))
                        step(branch, byte, into: &output)
                    }
                    return
                case .never: return
                case .object:
                    guard byte == UInt8(ascii: "{") else { return }
                    c.whitespace = 0
                    c.stack.append(.object(rule: rule, ObjectState()))
                    output.append(c)
                    return
                case .array:
                    guard byte == UInt8(ascii: "[") else { return }
                    c.whitespace = 0
                    c.stack.append(.array(rule: rule, count: 0, phase: .open))
                    output.append(c)
                    return
                case .string(let minimum, let maximum):
                    guard byte == UInt8(ascii: "\"") else { return }
                    c.whitespace = 0
                    c.stack.append(.string(StringState(minimum: minimum, maximum: maximum)))
                    output.append(c)
                    return
                case .number, .integer:
                    if case .integer = grammar.rules[rule] {
                        c.stack.append(.number(NumberState(integer: true)))
                    } else {
                        c.stack.append(.number(NumberState(integer: false)))
                    }
                case .literals(let texts):
                    c.stack.append(.literal(source: .rule(rule), lower: 0, upper: texts.count, matched: 0))
                }
                // the pushed frame takes the byte
                continue

            case .number(let number):
                if let next = number.next(byte) {
                    c.whitespace = 0
                    c.stack[c.stack.count - 1] = .number(next)
                    output.append(c)
                    return
                }
                guard number.isComplete else { return }
                c.stack.removeLast()
                continue

            case .literal(let source, let lower, let upper, let matched):
                // a text that ends here sorts first (it is a prefix of the others); the rest are sorted by this byte
                let ended = lower < upper && text(source, lower).count == matched
                let longer = ended ? lower + 1 : lower
                let from = partition(source, longer, upper, offset: matched, byte: byte, above: false)
                let to = partition(source, from, upper, offset: matched, byte: byte, above: true)
                if hasOpen(c, source, from, to) {
                    c.whitespace = 0
                    if to - from == 1, text(source, from).count == matched + 1 {
                        // the only way on is the end of the text
                        c.stack.removeLast()
                        guard completeLiteral(&c, source, from) else { return }
                    } else {
                        c.stack[c.stack.count - 1] = .literal(source: source, lower: from, upper: to, matched: matched + 1)
                    }
                    output.append(c)
                    return
                }
                // a text that is complete and could have gone on (enum [1, 12]) ends here; the byte is the parent's
                guard ended, hasOpen(c, source, lower, lower + 1) else { return }
                c.stack.removeLast()
                guard completeLiteral(&c, source, lower) else { return }
                continue

            case .string(var string):
                guard let taken = stringStep(&string, byte) else { return }
                c.whitespace = 0
                if taken == .closed {
                    c.stack.removeLast()
                    if let object = string.keyOf {
                        guard completeFreeKey(&c, object: object, name: string.key) else { return }
                    }
                } else {
                    c.stack[c.stack.count - 1] = .string(string)
                }
                output.append(c)
                return

            case .object(let rule, var state):
                guard case .object(let object) = grammar.rules[rule] else { return }
                if isSpace {
                    if c.whitespace < whitespaceLimit { c.whitespace += 1; output.append(c) }
                    return
                }
                c.whitespace = 0
                switch (state.phase, byte) {
                case (.open, UInt8(ascii: "}")), (.member, UInt8(ascii: "}")):
                    // `seen` holds no property twice
                    guard state.seen.reduce(0, { $0 + (object.required.contains($1) ? 1 : 0) }) == object.required.count else { return }
                    c.stack.removeLast()
                    output.append(c)
                case (.member, UInt8(ascii: ",")):
                    guard canAddKey(rule, object, state) else { return }
                    state.phase = .comma
                    c.stack[c.stack.count - 1] = .object(rule: rule, state)
                    output.append(c)
                case (.open, UInt8(ascii: "\"")), (.comma, UInt8(ascii: "\"")):
                    // a declared key, by its exact text (every key begins with the quote)
                    if let keys = grammar.keyTables[rule]?.order.count, keys > state.seen.count {
                        var declared = c
                        declared.stack.append(.literal(source: .keys(rule), lower: 0, upper: keys, matched: 1))
                        output.append(declared)
                    }
                    // any other key as free text
                    if let additional = object.additional, grammar.finite[additional] {
                        var free = c
                        free.stack.append(.string(StringState(keyOf: rule)))
                        output.append(free)
                    }
                case (.colon, UInt8(ascii: ":")):
                    state.phase = .member
                    c.stack[c.stack.count - 1] = .object(rule: rule, state)
                    c.stack.append(.value(state.pending))
                    output.append(c)
                default: return
                }
                return

            case .array(let rule, let count, let phase):
                guard case .array(let item, let minimum, let maximum) = grammar.rules[rule] else { return }
                if isSpace {
                    if c.whitespace < whitespaceLimit { c.whitespace += 1; output.append(c) }
                    return
                }
                let more = grammar.finite[item] && count < (maximum ?? Int.max)
                if byte == UInt8(ascii: "]"), phase != .comma {
                    guard count >= minimum else { return }
                    c.whitespace = 0
                    c.stack.removeLast()
                    output.append(c)
                    return
                }
                if byte == UInt8(ascii: ","), phase == .item {
                    guard more else { return }
                    c.whitespace = 0
                    c.stack[c.stack.count - 1] = .array(rule: rule, count: count, phase: .comma)
                    output.append(c)
                    return
                }
                guard phase != .item, more else { return }
                c.stack[c.stack.count - 1] = .array(rule: rule, count: count + 1, phase: .item)
                c.stack.append(.value(item))
                continue
            }
        }
    }

    /// Whether another member may follow a comma.
    private func canAddKey(_ rule: Int, _ object: JSONGrammar.ObjectRule, _ state: ObjectState) -> Bool {
        if let additional = object.additional, grammar.finite[additional] { return true }
        // `seen` holds only keys of the table, each once
        return (grammar.keyTables[rule]?.order.count ?? 0) > state.seen.count
    }

    /// After a literal's last byte (`place`: its index in byte order): an object key marks its property seen and sets
    /// the value's rule.
    private func completeLiteral(_ c: inout Configuration, _ source: LiteralSource, _ place: Int) -> Bool {
        guard case .keys(let rule) = source else { return true }
        guard case .object(let rule2, var state) = c.stack.last, rule2 == rule,
              case .object(let object) = grammar.rules[rule], let chosen = grammar.keyTables[rule]?.order[place] else { return false }
        state.seen.append(chosen)
        state.pending = object.properties[chosen].rule
        state.phase = .colon
        c.stack[c.stack.count - 1] = .object(rule: rule, state)
        return true
    }

    /// After a free key's closing quote: a key that names a declared property is left to the declared path.
    private func completeFreeKey(_ c: inout Configuration, object rule: Int, name: [UInt8]) -> Bool {
        guard case .object(let rule2, var state) = c.stack.last, rule2 == rule,
              case .object(let object) = grammar.rules[rule], let additional = object.additional else { return false }
        if object.properties.contains(where: { $0.name.utf8.elementsEqual(name) }) { return false }
        state.pending = additional
        state.phase = .colon
        c.stack[c.stack.count - 1] = .object(rule: rule, state)
        return true
    }

    enum StringByte { case content, closed }
}
