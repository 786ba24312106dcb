import Foundation
import Testing
@testable import Provision
import Stack

/// A resource type's properties are declared once, in its schema (Sources/Stack/Schema/ResourceTypes.swift); its
/// handler reads exactly those, in the schema's kinds, and supplies no default of its own: the Expander fills in
/// the schema's, so that the plan and the apply see the same values. Checked on the handlers' sources, so that a
/// new property or a new read cannot drift from the schema unnoticed.
@Suite("handlers agree with their schemas")
struct HandlerSchemaTests {
    static let handlersDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/Provision/Handlers")

    /// Files besides its own (named after the handler) in which a handler reads its resource's properties.
    static let helpers: [String: [String]] = [
        "aws.ec2.security_group": ["SecurityGroupRules.swift"],
        "aws.ec2.default_security_group": ["SecurityGroupRules.swift"],
        "aws.autoscaling.group": ["InstanceRefresh.swift"],
        "aws.ec2.instance": ["NodeLaunch.swift"],
        "aws.ec2.launch_template": ["NodeLaunch.swift"],
    ]

    /// Properties a handler does not read itself, by type, each with the reason.
    static let notRead: [String: [String: String]] = [
        "aws.acm.certificate": [
            "source": "names the PEM file beside the stack; the Expander resolves and hashes it into `resource.artifact`, which is imported",
        ],
        "aws.s3.object": [
            "source": "names the file beside the stack; the Expander resolves and hashes it into `resource.artifact`, which is uploaded",
            "template_file": "names the file among the templates; resolved into `resource.artifact` like `source`",
            "check": "what the file must be (a guardrail policy), checked by the Expander at plan time; nothing of it is sent or stored in AWS",
        ],
        "aws.s3.bucket": [
            "public_acl_grants": "fixed at none by deploy: a change resets the ACL to private, there is no value to send",
            "lifecycle_other_rules": "fixed at none by deploy: a change puts back the stack's one rule (or none), there is no value to send",
            "replication_rules": "fixed at none by deploy: a change deletes the replication configuration",
            "notification_targets": "fixed at none by deploy: a change puts an empty notification configuration",
            "cors_rules": "fixed at none by deploy: a change deletes the CORS configuration",
        ],
    ]

    /// The schema kinds each accessor can read; any other kind reads as nil, which would ignore the property.
    static let kinds: [String: Set<AttributeSchema.Kind>] = [
        "require": [.string, .cidr], "requireString": [.string, .cidr], "string": [.string, .cidr],
        "requireBool": [.bool], "bool": [.bool], "requireInt": [.int], "int": [.int],
        "requireList": [.stringList, .cidrList, .objectList], "strings": [.stringList, .cidrList],
        "requirePolicyJSON": [.policy], "policyJSON": [.policy],
    ]

    /// Accessors that answer nil for a missing value, for properties that have no default.
    static let optionalAccessors: Set<String> = ["string", "bool", "int", "policyJSON"]

    static func handler(_ type: String) throws -> any ResourceHandler { try HandlerRegistry.standard.handler(for: type) }

    /// The handler's own file and its helpers, read.
    static func sources(_ type: String) throws -> [HandlerSource] {
        let own = "\(String(describing: Swift.type(of: try handler(type)))).swift"
        return try ([own] + (helpers[type] ?? [])).map { try HandlerSource(path: handlersDirectory.appendingPathComponent($0).path) }
    }

    @Test("reads only what its schema declares, in its kinds, by literal name", arguments: HandlerRegistry.standard.types)
    func declared(_ type: String) throws {
        let schema = try #require(ResourceTypes.schema(for: type))
        for source in try Self.sources(type) {
            for binding in source.desiredNames where binding.name != "resource" {
                Issue.record("\(source.file):\(binding.line): a DesiredResource is named '\(binding.name)'; name it 'resource' so its reads are checked")
            }
            for read in source.reads {
                guard let name = read.name else {
                    if read.kind != .changed { Issue.record("\(read): reads a property whose name is not a literal") }
                    continue
                }
                switch read.kind {
                case .desired(let accessor):
                    guard let attribute = schema.attributes[name] else {
                        if !schema.derived.contains(name) { Issue.record("\(read): reads '\(name)', which \(type) does not declare") }
                        continue
                    }
                    if let kinds = Self.kinds[accessor], !kinds.contains(attribute.kind) {
                        Issue.record("\(read): reads '\(name)' (\(attribute.kind.rawValue)) with \(accessor), which never finds one")
                    }
                case .changed:
                    guard let attribute = schema.attributes[name] ?? (schema.derived.contains(name) ? AttributeSchema(.string) : nil) else {
                        Issue.record("\(read): asks whether '\(name)' changed, which \(type) does not declare")
                        continue
                    }
                    if attribute.forcesReplacement {
                        Issue.record("\(read): asks whether '\(name)' changed in place, but a change to it replaces the resource")
                    }
                case .recorded:
                    if schema.attributes[name] == nil && !schema.computed.contains(name) && !schema.derived.contains(name) {
                        Issue.record("\(read): reads recorded '\(name)', which \(type) neither declares nor computes")
                    }
                }
            }
        }
    }

    @Test("supplies no default of its own: the schema's are the only ones", arguments: HandlerRegistry.standard.types)
    func defaults(_ type: String) throws {
        let schema = try #require(ResourceTypes.schema(for: type))
        for read in try Self.sources(type).flatMap(\.reads) {
            guard let name = read.name, let attribute = schema.attributes[name] else { continue }
            switch read.kind {
            case .desired(let accessor):
                if let fallback = read.fallback {
                    let schemaDefault = attribute.defaultValue.map { " (the schema's default is \($0))" } ?? " (the schema has none)"
                    Issue.record("\(read): '\(name)' read with a fallback of its own, \(fallback)\(schemaDefault); read it with a require accessor")
                }
                guard let value = attribute.defaultValue else { continue }
                if Self.optionalAccessors.contains(accessor) {
                    Issue.record("\(read): '\(name)' has the default \(value), so it is always set by apply time; read it with a require accessor, not \(accessor)")
                }
                if accessor == "require" && value == .string("") {
                    Issue.record("\(read): '\(name)' defaults to \"\", which require refuses; read it with requireString")
                }
                if accessor == "strings" && value != .list([]) {
                    Issue.record("\(read): strings reads a missing '\(name)' as [], but its default is \(value)")
                }
            case .recorded:
                // a state recorded by an older release may lack the property: the fallback stands in for its default
                guard let fallback = read.fallback else { continue }
                if attribute.defaultValue.map(Self.literal) != fallback {
                    Issue.record("\(read): recorded '\(name)' falls back to \(fallback), the schema's default is \(attribute.defaultValue.map(Self.literal) ?? "none")")
                }
            case .changed:
                break
            }
        }
    }

    @Test("reads every property its schema declares, or says why not", arguments: HandlerRegistry.standard.types)
    func complete(_ type: String) throws {
        let schema = try #require(ResourceTypes.schema(for: type))
        let sources = try Self.sources(type)
        var read = Set(sources.flatMap(\.reads).filter { $0.kind != .changed }.compactMap(\.name))
        if sources.contains(where: \.readsTags) { read.insert("tags") }
        let exempt = Self.notRead[type] ?? [:]
        for name in schema.attributes.keys.sorted() where !read.contains(name) && exempt[name] == nil {
            Issue.record("\(type): the handler never reads '\(name)', so the schema accepts a value that is never sent")
        }
        for name in exempt.keys.sorted() {
            if schema.attributes[name] == nil { Issue.record("\(type): notRead names '\(name)', which the schema does not declare") }
            if read.contains(name) { Issue.record("\(type): notRead names '\(name)', which the handler does read; drop it from notRead") }
        }
    }

    @Test("every file that reads desired properties belongs to a handler")
    func attributed() throws {
        let own = try Set(HandlerRegistry.standard.types.map { "\(String(describing: Swift.type(of: try Self.handler($0)))).swift" })
        let known = own.union(Self.helpers.values.flatMap { $0 })
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.handlersDirectory.path).filter { $0.hasSuffix(".swift") }
        for file in files.sorted() where !known.contains(file) {
            let source = try HandlerSource(path: Self.handlersDirectory.appendingPathComponent(file).path)
            if let read = source.reads.first(where: { $0.kind != .recorded }) {
                Issue.record("\(read): reads properties but is neither a handler's file nor listed in HandlerSchemaTests.helpers")
            }
        }
        #expect(own.count == HandlerRegistry.standard.types.count)
    }

    /// A value as Swift source writes the literal the test looks for.
    static func literal(_ value: Value) -> String {
        switch value {
        case .string(let text): "\"\(text)\""
        default: value.description
        }
    }
}
