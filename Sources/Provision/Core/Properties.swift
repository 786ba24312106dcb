import AWS
import Plan
import Stack
import Diagnostics

/// Typed access to evaluated properties; by apply time every property is known.
///
/// The schema's defaults are the only defaults: the Expander fills in every property the template leaves out (or
/// sets to null) that has one, so a handler reads such a property with a `require` accessor and never supplies a
/// fallback of its own. The optional accessors are for properties without a default, where nil means "not set".
/// (HandlerSchemaTests reads the handlers' sources and holds them to this.)
extension DesiredResource {
    func string(_ name: String) -> String? { properties[name]?.stringValue }
    func bool(_ name: String) -> Bool? { properties[name]?.boolValue }
    func int(_ name: String) -> Int? { properties[name]?.intValue }
    /// A list of strings; nil and an empty list are the same.
    func strings(_ name: String) -> [String] { properties[name]?.listValue?.compactMap(\.stringValue) ?? [] }

    /// The tags to set: the stack's, the template's and deploy's own.
    var tags: [String: String] { properties["tags"]?.mapValue?.compactMapValues(\.stringValue) ?? [:] }

    /// A string property that must be set and not empty, or an error naming it.
    func require(_ name: String) throws -> String {
        guard let value = string(name), !value.isEmpty else { throw missing(name) }
        return value
    }

    /// A string property that must be set; empty is a value (a description whose default is "").
    func requireString(_ name: String) throws -> String {
        guard let value = string(name) else { throw missing(name) }
        return value
    }

    func requireBool(_ name: String) throws -> Bool {
        guard let value = bool(name) else { throw missing(name) }
        return value
    }

    func requireInt(_ name: String) throws -> Int {
        guard let value = int(name) else { throw missing(name) }
        return value
    }

    /// A list property (strings or objects) that must be set; empty is a value.
    func requireList(_ name: String) throws -> [Value] {
        guard let value = properties[name]?.listValue else { throw missing(name) }
        return value
    }

    /// A policy property that must be set, as the JSON text AWS takes.
    func requirePolicyJSON(_ name: String) throws -> String {
        guard let policy = try policyJSON(name) else { throw missing(name) }
        return policy
    }

    private func missing(_ name: String) -> ProvisionError {
        ProvisionError("\(address): property '\(name)' has no value at apply time")
    }

    /// Tag keys recorded before that the resource no longer wants, for the services that untag by key.
    func removedTagKeys(since recorded: ResourceState) -> [String] {
        let before = recorded.attributes["tags"]?.mapValue ?? [:]
        return before.keys.filter { tags[$0] == nil }.sorted()
    }

    /// A policy property as the JSON text AWS takes.
    func policyJSON(_ name: String) throws -> String? {
        guard let value = properties[name], value != .null else { return nil }
        if case .string(let text) = value { return text }
        return try CanonicalJSON.encode(PolicyDocument.normalize(value))
    }
}

extension ResourceState {
    /// The recorded cloud id, or an error when the state has none.
    func requireID() throws -> String {
        guard let id, !id.isEmpty else { throw ProvisionError("\(address) has no recorded id") }
        return id
    }
}

/// An error in provisioning that is not the cloud's own (those are `AWSError`).
public struct ProvisionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs `body`, treating the error `code` as success: what a call repeated after a lost answer says when its
/// first attempt already did the work.
func tolerating(_ code: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as AWSError where error.code == code {}
}

/// Polls until `check` answers true, or fails after `timeout` seconds naming what it waited for.
func waitUntil(_ what: String, timeout: Double = 300, interval: Double = 1, _ check: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(timeout)
    var delay = 0.05
    while true {
        if try await check() { return }
        guard ContinuousClock.now < deadline else { throw ProvisionError("timed out after \(Int(timeout)) s waiting for \(what)") }
        try await Task.sleep(for: .seconds(delay))
        delay = min(interval, delay * 2)
    }
}

extension AWSError {
    /// Whether the error says the resource does not exist (already deleted, never created).
    var isNotFound: Bool {
        let code = code.lowercased()
        return code.contains("notfound") || code.hasSuffix(".notfound") || code == "nosuchentity" || code == "nosuchbucket"
            || code == "resourcenotfoundexception" || code == "trailnotfoundexception" || code.hasPrefix("invalid") && code.hasSuffix("id.notfound")
    }
}

extension ProvisionError: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
