import TextSafety

/// Reads the members of a JSON5 object, rejecting keys it does not know with a "did you mean".
public struct ObjectFields {
    public let node: JSON5Node
    private let members: [String: JSON5Node.Member]
    private let context: String

    /// Checks that `node` is an object with only `allowed` keys; `context` names it in errors ("stack", "parameter 'x'").
    public init(_ node: JSON5Node, allowed: [String], context: String) throws(StackError) {
        guard case .object(let list) = node.kind else {
            throw StackError("\(context) must be an object, found \(node.kindName)", at: node.location)
        }
        for member in list where !allowed.contains(member.key) {
            throw StackError(Suggestion.message("unknown key '\(SafeText.quoted(member.key))' in \(context)", for: member.key, among: allowed),
                             at: member.keyLocation)
        }
        self.node = node
        self.members = Dictionary(list.map { ($0.key, $0) }) { first, _ in first }
        self.context = context
    }

    public subscript(key: String) -> JSON5Node? { members[key]?.value }

    public func required(_ key: String) throws(StackError) -> JSON5Node {
        guard let value = members[key]?.value else {
            throw StackError("\(context) is missing '\(SafeText.quoted(key))'", at: node.location)
        }
        return value
    }

    public func string(_ key: String) throws(StackError) -> String? {
        guard let value = self[key] else { return nil }
        guard case .string(let text) = value.kind else {
            throw StackError("'\(SafeText.quoted(key))' must be a string, found \(value.kindName)", at: value.location)
        }
        return text
    }

    public func requiredString(_ key: String) throws(StackError) -> String {
        _ = try required(key)
        return try string(key) ?? ""
    }

    public func int(_ key: String) throws(StackError) -> Int? {
        guard let value = self[key] else { return nil }
        guard case .int(let number) = value.kind else {
            throw StackError("'\(SafeText.quoted(key))' must be an integer, found \(value.kindName)", at: value.location)
        }
        return number
    }

    public func bool(_ key: String) throws(StackError) -> Bool? {
        guard let value = self[key] else { return nil }
        guard case .bool(let flag) = value.kind else {
            throw StackError("'\(SafeText.quoted(key))' must be true or false, found \(value.kindName)", at: value.location)
        }
        return flag
    }

    /// The members of an object-valued key, in file order.
    public func object(_ key: String) throws(StackError) -> [JSON5Node.Member] {
        guard let value = self[key] else { return [] }
        guard case .object(let list) = value.kind else {
            throw StackError("'\(SafeText.quoted(key))' must be an object, found \(value.kindName)", at: value.location)
        }
        return list
    }

    public func stringList(_ key: String) throws(StackError) -> [(String, SourceLocation)] {
        guard let value = self[key] else { return [] }
        guard case .array(let items) = value.kind else {
            throw StackError("'\(SafeText.quoted(key))' must be a list of strings, found \(value.kindName)", at: value.location)
        }
        var out: [(String, SourceLocation)] = []
        for item in items {
            guard case .string(let text) = item.kind else {
                throw StackError("'\(SafeText.quoted(key))' must be a list of strings, found \(item.kindName) in it", at: item.location)
            }
            out.append((text, item.location))
        }
        return out
    }

    /// The location of a key, or of the object when absent.
    public func location(of key: String) -> SourceLocation {
        members[key]?.keyLocation ?? node.location
    }
}
