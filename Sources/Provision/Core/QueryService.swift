import AWS
import Stack

/// Calls a Query-protocol service whose answers wrap their fields in `<ActionResult>` (Auto Scaling, ELBv2), and
/// writes the `Name.member.N` lists those services take.
struct QueryService: Sendable {
    let client: AWSClient
    let service: AWSService

    /// The `<ActionResult>` element of the answer (an empty element when the action answers none).
    @discardableResult
    func call(_ action: String, _ parameters: [(String, String)] = []) async throws -> XMLNode {
        let root = try await client.query(service, action: action, parameters: parameters)
        return root.child("\(action)Result") ?? root
    }

    /// `Prefix.member.1=a&Prefix.member.2=b`
    static func members(_ prefix: String, _ values: [String]) -> [(String, String)] {
        values.enumerated().map { ("\(prefix).member.\($0.offset + 1)", $0.element) }
    }

    /// `Prefix.member.N.Key` / `.Value` for each tag, in key order, with `extra` fields on each member.
    static func tags(_ prefix: String, _ tags: [String: String], extra: [(String, String)] = []) -> [(String, String)] {
        tags.keys.sorted().enumerated().flatMap { position, key in
            [("\(prefix).member.\(position + 1).Key", key), ("\(prefix).member.\(position + 1).Value", tags[key] ?? "")]
                + extra.map { ("\(prefix).member.\(position + 1).\($0.0)", $0.1) }
        }
    }

    /// The `<member>` children of `name` under `node`.
    static func list(_ node: XMLNode?, _ name: String) -> [XMLNode] {
        node?.child(name)?.children("member") ?? []
    }

    /// `[{Key, Value}]` members read back into a map value.
    static func tagMap(_ members: [XMLNode]) -> Value {
        var tags: [String: Value] = [:]
        for member in members {
            if let key = member.child("Key")?.text { tags[key] = .string(member.child("Value")?.text ?? "") }
        }
        return .map(tags)
    }
}
