/// How much a JSON schema may ask of constrained decoding. A schema is cheap to send and is matched against every
/// candidate token of every step, so each figure that could make a step cost more is bounded; a schema beyond one is
/// refused, naming the limit, before it reaches the scheduler.
///
/// With these values the worst accepted schema costs a small multiple of an unconstrained token (measured on the
/// real model: Inference/README.md, the API section).
public struct JSONSchemaLimits: Sendable, Hashable {
    /// The limits by name, as a refusal names them.
    public enum Limit: String, Sendable, Hashable, CaseIterable {
        case schemaBytes = "schema_bytes"
        case enumValues = "enum_values"
        case alternatives = "alternatives"
        case branches = "branches"
        case nodes = "nodes"
        case depth = "depth"
    }

    /// The schema's compact JSON text, in bytes.
    public var schemaBytes = 262_144
    /// `enum` and `const` values in all, over the whole schema (each is one entry of a sorted table: matching one
    /// costs O(log n) a byte, but every value is parsed, written and sorted at compile time).
    public var enumValues = 10_000
    /// Schemas listed in one `anyOf` or `oneOf` (or types in one `type` list).
    public var alternatives = 256
    /// The choices other than literals one `anyOf` or `oneOf` comes to once nested choices and references are
    /// flattened (the literals among them merge into one table and count once): each is followed on its own.
    public var branches = 32
    /// Compiled grammar rules plus object properties, over the whole schema.
    public var nodes = 10_000
    /// Nesting of schemas inside schemas.
    public var depth = 64

    public init() {}

    /// The limits `serve` applies.
    public static let standard = JSONSchemaLimits()

    /// A limit's value.
    public subscript(limit: Limit) -> Int {
        switch limit {
        case .schemaBytes: schemaBytes
        case .enumValues: enumValues
        case .alternatives: alternatives
        case .branches: branches
        case .nodes: nodes
        case .depth: depth
        }
    }
}
