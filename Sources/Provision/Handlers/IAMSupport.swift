import AWS
import Foundation
import Plan
import Stack

/// Shared by the IAM handlers: Query calls that answer inside `<Action>Result`, tags, and URL-encoded policies.
struct IAMSupport: Sendable {
    let client: AWSClient

    init(_ context: HandlerContext) { client = context.client }

    /// Calls `action` and returns its `<action>Result` element.
    @discardableResult
    func call(_ action: String, _ parameters: [(String, String)]) async throws -> XMLNode {
        let root = try await client.query(.iam, action: action, parameters: parameters)
        return root.child("\(action)Result") ?? root
    }

    /// Every member of a paged List action (`ListRoles` -> `Roles`), by its name element; and the calls it took.
    func listAll(_ action: String, list: String, name: String) async throws -> (members: [String: XMLNode], calls: Int) {
        let (members, calls) = try await pages(action, list: list)
        return (Dictionary(members.compactMap { member in member.child(name).map { ($0.text, member) } }) { first, _ in first }, calls)
    }

    /// The members under `list` of every page of a paged List action, following its markers; and the calls it took.
    func pages(_ action: String, _ parameters: [(String, String)] = [], list: String) async throws -> (members: [XMLNode], calls: Int) {
        var members: [XMLNode] = []
        var marker: String?
        var calls = 0
        repeat {
            let page = try await call(action, parameters + (marker.map { [("Marker", $0)] } ?? []))
            calls += 1
            members += page.child(list)?.children("member") ?? []
            marker = page.child("IsTruncated")?.text == "true" ? page.child("Marker")?.text : nil
        } while marker != nil
        return (members, calls)
    }

    static func tags(_ tags: [String: String]) -> [(String, String)] {
        tags.keys.sorted().enumerated().flatMap { position, key in
            [("Tags.member.\(position + 1).Key", key), ("Tags.member.\(position + 1).Value", tags[key] ?? "")]
        }
    }

    /// A `Tags` list (`member/Key`, `member/Value`) as a map.
    static func tagMap(_ list: XMLNode?) -> Value {
        var tags: [String: Value] = [:]
        for member in list?.children("member") ?? [] {
            if let key = member.child("Key")?.text { tags[key] = .string(member.child("Value")?.text ?? "") }
        }
        return .map(tags)
    }

    /// IAM returns policy documents URL-encoded.
    static func policy(_ encoded: String?) -> Value {
        guard let encoded else { return .null }
        return .string(encoded.removingPercentEncoding ?? encoded)
    }

    /// Applies a tag change with TagX / UntagX (`Role`, `InstanceProfile`).
    func syncTags(_ kind: String, nameParameter: String, name: String, from recorded: Value?, to desired: [String: String]) async throws {
        let before = recorded?.mapValue?.compactMapValues(\.stringValue) ?? [:]
        let removed = before.keys.filter { desired[$0] == nil }.sorted()
        if !removed.isEmpty {
            try await call("Untag\(kind)", [(nameParameter, name)] + removed.enumerated().map { ("TagKeys.member.\($0.offset + 1)", $0.element) })
        }
        if !desired.isEmpty { try await call("Tag\(kind)", [(nameParameter, name)] + Self.tags(desired)) }
    }
}
