import AWS
import Stack

/// Calls a JSON-protocol service (KMS, DynamoDB, CloudTrail, Logs) with a JSON object, reading the answer field by field.
struct JSONService: Sendable {
    let client: AWSClient
    let service: AWSService

    @discardableResult
    func call(_ operation: String, _ input: [String: JSONValue]) async throws -> JSONValue {
        try await client.json(service, operation: operation, input: JSONValue.object(input), as: JSONValue.self)
    }

    /// `[{Key: k, Value: v}]`, with the key and value names the service uses.
    static func tagList(_ tags: [String: String], key: String = "Key", value: String = "Value") -> JSONValue {
        .array(tags.keys.sorted().map { .object([key: .string($0), value: .string(tags[$0] ?? "")]) })
    }

    /// Reads `[{Key: k, Value: v}]` back into a map value.
    static func tags(_ list: JSONValue?, key: String = "Key", value: String = "Value") -> Value {
        var tags: [String: Value] = [:]
        for entry in list?.arrayValue ?? [] {
            if let name = entry[key]?.stringValue { tags[name] = .string(entry[value]?.stringValue ?? "") }
        }
        return .map(tags)
    }
}
