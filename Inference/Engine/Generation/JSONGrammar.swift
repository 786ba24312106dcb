/// What JSON values may appear where: a graph of rules compiled from a JSON schema (`JSONSchemaCompiler`) or the
/// "any object" rule of JSON mode, read by `JSONMatcher` one byte at a time.
public struct JSONGrammar: Sendable, Hashable {
    /// One rule. Rules refer to each other by index, so a schema may refer to itself (`$ref`).
    public enum Rule: Sendable, Hashable {
        /// An object: the declared properties, those it must have, and the rule for any other key (nil: no other).
        case object(ObjectRule)
        /// An array of `minimum` to `maximum` (nil: any number of) items.
        case array(item: Int, minimum: Int, maximum: Int?)
        /// A string of `minimum` to `maximum` characters (Unicode scalars).
        case string(minimum: Int, maximum: Int?)
        case number
        case integer
        /// Exactly one of these JSON texts (enum, const, true, false, null), written compactly. The grammar keeps
        /// them sorted and without duplicates, so that the texts sharing a beginning are a range of the list.
        case literals([[UInt8]])
        /// Any one of these rules.
        case anyOf([Int])
        /// No value (the schema `false`).
        case never
    }

    public struct ObjectRule: Sendable, Hashable {
        public struct Property: Sendable, Hashable {
            public var name: String
            /// The key as it is written: the name JSON-encoded, quotes included.
            public var key: [UInt8]
            public var rule: Int
        }
        public var properties: [Property]
        /// Indices into `properties`.
        public var required: Set<Int>
        public var additional: Int?
    }

    /// An object rule's keys in byte order, only those whose value is finite (the only ones the matcher may write):
    /// the keys sharing a beginning are a range of `order`, so matching a key costs O(log n) a byte.
    public struct KeyTable: Sendable, Hashable {
        /// Property indices, sorted by key.
        public var order: [Int]
        /// A property's place in `order` (-1: its value is not finite).
        public var rank: [Int]
    }

    public private(set) var rules: [Rule]
    public let root: Int
    /// Whether each rule has a value of finite length: the matcher never enters a rule without one, so that
    /// whatever it accepted can always be finished.
    public let finite: [Bool]
    /// Each object rule's key table (nil for other rules).
    public let keyTables: [KeyTable?]

    public init(rules: [Rule], root: Int) {
        self.rules = rules.map { rule in
            guard case .literals(let texts) = rule else { return rule }
            return .literals(Self.sortedUnique(texts))
        }
        self.root = root
        let finite = Self.finiteness(rules)
        self.finite = finite
        keyTables = rules.map { rule in
            guard case .object(let object) = rule else { return nil }
            let order = object.properties.indices.filter { finite[object.properties[$0].rule] }
                .sorted { object.properties[$0].key.lexicographicallyPrecedes(object.properties[$1].key) }
            var rank = [Int](repeating: -1, count: object.properties.count)
            for (place, property) in order.enumerated() { rank[property] = place }
            return KeyTable(order: order, rank: rank)
        }
    }

    static func sortedUnique(_ texts: [[UInt8]]) -> [[UInt8]] {
        var unique: [[UInt8]] = []
        for text in texts.sorted(by: { $0.lexicographicallyPrecedes($1) }) where unique.last != text { unique.append(text) }
        return unique
    }

    /// Any JSON object (OpenAI's JSON mode: `response_format: {"type": "json_object"}`).
    public static var anyObject: JSONGrammar {
        // 0 object, 1 any value, 2 array, 3 string, 4 number, 5 true/false/null
        let rules: [Rule] = [
            .object(ObjectRule(properties: [], required: [], additional: 1)),
            .anyOf([0, 2, 3, 4, 5]),
            .array(item: 1, minimum: 0, maximum: nil),
            .string(minimum: 0, maximum: nil),
            .number,
            .literals([Array("true".utf8), Array("false".utf8), Array("null".utf8)]),
        ]
        return JSONGrammar(rules: rules, root: 0)
    }

    /// A least fixed point: a rule is finite when some value of it is made only of finite rules' values.
    static func finiteness(_ rules: [Rule]) -> [Bool] {
        var finite = [Bool](repeating: false, count: rules.count)
        var changed = true
        while changed {
            changed = false
            for (index, rule) in rules.enumerated() where !finite[index] {
                let now: Bool
                switch rule {
                case .object(let object):
                    now = object.required.allSatisfy { finite[object.properties[$0].rule] }
                case .array(let item, let minimum, let maximum):
                    now = minimum == 0 || (finite[item] && (maximum ?? minimum) >= minimum)
                case .string(let minimum, let maximum): now = minimum <= (maximum ?? minimum)
                case .number, .integer: now = true
                case .literals(let texts): now = !texts.isEmpty
                case .anyOf(let choices): now = choices.contains { finite[$0] }
                case .never: now = false
                }
                if now {
                    finite[index] = true
                    changed = true
                }
            }
        }
        return finite
    }
}
