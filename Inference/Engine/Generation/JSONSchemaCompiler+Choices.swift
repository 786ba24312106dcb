/// `oneOf`'s check that its choices cannot overlap, and the flattening of every choice once the rules are compiled.
extension JSONSchemaCompiler {
    /// `oneOf` is valid only when exactly one choice matches; following every choice as `anyOf` does is right only
    /// when no document matches two of them. Literal choices are told apart through one table of their texts;
    /// each other choice is compared with every choice by kind and discriminator, worked out once per choice.
    func checkDisjoint(_ choices: [Int], path: String) throws(Failure) {
        var owner: [[UInt8]: Int] = [:]
        var others: [Int] = []
        for (position, choice) in choices.enumerated() {
            if case .literals(let texts) = rules[Self.unwrap(choice, rules)] {
                for text in texts {
                    if let earlier = owner[text], earlier != position {
                        throw fail("oneOf", path, "'oneOf' choices \(earlier) and \(position) may match the same document; use 'anyOf'")
                    }
                    owner[text] = position
                }
            } else {
                others.append(position)
            }
        }
        let shapes = choices.map { Shape($0, rules) }
        for i in others {
            for j in choices.indices where j != i && (j > i || !others.contains(j)) {
                guard shapes[i].disjoint(from: shapes[j]) else {
                    throw fail("oneOf", path, "'oneOf' choices \(min(i, j)) and \(max(i, j)) may match the same document; use 'anyOf'")
                }
            }
        }
    }

    /// What a choice may be, as far as telling choices apart needs: the kinds of value it may take, and for an
    /// object rule its required properties whose values are literals.
    struct Shape {
        var kinds: Set<String>
        var literals: Set<[UInt8]>?
        var discriminators: [String: Set<[UInt8]>] = [:]

        init(_ index: Int, _ rules: [JSONGrammar.Rule]) {
            kinds = JSONSchemaCompiler.kinds(index, rules)
            let rule = rules[JSONSchemaCompiler.unwrap(index, rules)]
            if case .literals(let texts) = rule { literals = Set(texts) }
            if case .object(let object) = rule {
                for required in object.required {
                    let property = object.properties[required]
                    if case .literals(let texts) = rules[JSONSchemaCompiler.unwrap(property.rule, rules)] {
                        discriminators[property.name] = Set(texts)
                    }
                }
            }
        }

        /// Whether no value matches both: different kinds of value, different literals, or objects told apart by a
        /// required property with different literal values.
        func disjoint(from other: Shape) -> Bool {
            if kinds.isDisjoint(with: other.kinds) { return true }
            if let literals, let theirs = other.literals { return literals.isDisjoint(with: theirs) }
            guard kinds.intersection(other.kinds) == ["object"] else { return false }
            let (few, many) = discriminators.count <= other.discriminators.count ? (discriminators, other.discriminators) : (other.discriminators, discriminators)
            return few.contains { name, values in many[name].map { $0.isDisjoint(with: values) } ?? false }
        }
    }

    /// The kinds of value a rule may take, through its choices (each rule visited once).
    static func kinds(_ index: Int, _ rules: [JSONGrammar.Rule]) -> Set<String> {
        var kinds = Set<String>(), visited = Set<Int>(), pending = [index]
        while let next = pending.popLast() {
            guard visited.insert(next).inserted else { continue }
            switch rules[next] {
            case .object: kinds.insert("object")
            case .array: kinds.insert("array")
            case .string: kinds.insert("string")
            case .number, .integer: kinds.insert("number")
            case .never: break
            case .literals(let texts):
                for text in texts {
                    switch text.first {
                    case UInt8(ascii: "{"): kinds.insert("object")
                    case UInt8(ascii: "["): kinds.insert("array")
                    case UInt8(ascii: "\""): kinds.insert("string")
                    case UInt8(ascii: "t"), UInt8(ascii: "f"): kinds.insert("boolean")
                    case UInt8(ascii: "n"): kinds.insert("null")
                    default: kinds.insert("number")
                    }
                }
            case .anyOf(let choices): pending.append(contentsOf: choices)
            }
        }
        return kinds
    }

    /// A reference's single-choice wrapper, unwrapped.
    static func unwrap(_ index: Int, _ rules: [JSONGrammar.Rule]) -> Int {
        var index = index, hops = 0
        while case .anyOf(let choices) = rules[index], choices.count == 1, hops < 16 { index = choices[0]; hops += 1 }
        return index
    }

    /// Rewrites every `anyOf` as the rules it comes to through nested choices and references (each once, none an
    /// `anyOf`, the schema `false` left out), with the literals among them merged into one sorted table while the
    /// merged texts stay within the `enum_values` budget. More than `branches` others is refused.
    mutating func flattenChoices() throws(Failure) {
        let original = rules
        var merged: [[Int]: Int] = [:]
        var mergedTexts = 0
        for index in original.indices {
            guard case .anyOf(let choices) = original[index] else { continue }
            var leaves: [Int] = [], literalRules: [Int] = []
            var visited: Set<Int> = [index], pending = Array(choices.reversed())
            while let next = pending.popLast() {
                switch original[next] {
                case .anyOf(let inner):
                    if visited.insert(next).inserted { pending.append(contentsOf: inner.reversed()) }
                case .never: continue
                case .literals:
                    if visited.insert(next).inserted { literalRules.append(next) }
                default:
                    guard visited.insert(next).inserted else { continue }
                    leaves.append(next)
                    guard leaves.count <= limits.branches else {
                        throw exceeded(.branches, "anyOf", "#", "an 'anyOf', 'oneOf' or 'type' list that comes to more than \(limits.branches) choices other than literals once nested choices and references are followed")
                    }
                }
            }
            if literalRules.count > 1 {
                let key = literalRules.sorted()
                let texts = key.reduce(0) { total, rule in
                    if case .literals(let texts) = original[rule] { return total + texts.count }
                    return total
                }
                if let known = merged[key] {
                    literalRules = [known]
                } else if mergedTexts + texts <= limits.enumValues {
                    mergedTexts += texts
                    var all: [[UInt8]] = []
                    for rule in key { if case .literals(let texts) = original[rule] { all += texts } }
                    let rule = add(.literals(all))
                    merged[key] = rule
                    literalRules = [rule]
                }
            }
            leaves += literalRules
            guard leaves.count <= limits.branches else {
                throw exceeded(.branches, "anyOf", "#", "an 'anyOf', 'oneOf' or 'type' list that comes to more than \(limits.branches) choices once nested choices and references are followed")
            }
            rules[index] = .anyOf(leaves)
        }
    }
}
