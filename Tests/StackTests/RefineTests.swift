import DeployTestSupport
import Foundation
import Testing
@testable import Stack

/// What apply does as each resource is created: the expansion refined with the new ids, evaluating again only what
/// they reach. Refined step by step through a whole first apply of the shipped stack, it must equal a full expansion
/// with the same ids at every step, never hash an artifact again, and count as no full expansion.
@Suite("refined expansion")
struct RefineTests {
    /// The ids and ARNs a created resource would have: its computed attributes, named after it.
    static func created(_ addresses: Set<ResourceAddress>) -> Expander.ComputedAttributes {
        { desired in
            guard addresses.contains(desired.address) else { return Expander.allUnknown(desired) }
            return Dictionary(uniqueKeysWithValues: desired.schema.computed.map { ($0, Value.string("\(desired.address)/\($0)")) })
        }
    }

    static func same(_ a: ExpandedStack, _ b: ExpandedStack) -> Bool {
        guard a.resources.map(\.address) == b.resources.map(\.address), a.outputs == b.outputs,
              a.sensitiveOutputs == b.sensitiveOutputs else { return false }
        return zip(a.resources, b.resources).allSatisfy { x, y in
            x.properties == y.properties && x.dependencies == y.dependencies && x.sensitive == y.sensitive && x.artifact == y.artifact
        }
    }

    @Test("equals a full expansion after every create of a first apply, with no full expansion of its own")
    func stepByStep() throws {
        let configuration = try StackConfiguration.load(stackPath: ShippedStack.path(), templatesDirectory: nil)
        var expander = Expander(configuration)
        var current = try expander.expand()
        var created: Set<ResourceAddress> = []
        let counter = ExpansionCounter()
        for resource in current.resources {
            created.insert(resource.address)
            var refiner = Expander(configuration)
            current = try Expander.$observer.withValue(counter) { try refiner.refine(current, computed: Self.created(created)) }
            var full = Expander(configuration)
            let expected = try full.expand(computed: Self.created(created))
            #expect(Self.same(current, expected), "after \(resource.address)")
        }
        #expect(counter.value == 0)
        #expect(current.resources.allSatisfy { !$0.properties.values.contains { $0.containsUnknown } }, "every reference known at the end")
    }

    @Test("keeps the artifacts it was given: a file is hashed once per run, whatever is created after")
    func artifactsKept() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("refine-\(UUID().uuidString)")
        let stacks = directory.appendingPathComponent("Stacks")
        try FileManager.default.createDirectory(at: stacks, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(atPath: ShippedStack.path(), toPath: stacks.appendingPathComponent("s.json5").path)
        try ShippedStack.writeStandIns(into: stacks.appendingPathComponent("artifacts"))
        try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent("Templates"),
                                                   withDestinationURL: ShippedStack.repository.appendingPathComponent("Templates"))
        let configuration = try StackConfiguration.load(stackPath: stacks.appendingPathComponent("s.json5").path, templatesDirectory: nil)
        var expander = Expander(configuration)
        let first = try expander.expand()
        let uploads = first.resources.filter { $0.artifact != nil }
        #expect(!uploads.isEmpty)
        // the file changes under the run; the run goes on uploading what it planned and hashed
        try "changed under the run\n".write(to: stacks.appendingPathComponent("artifacts/model.gguf"), atomically: true, encoding: .utf8)
        var refiner = Expander(configuration)
        let refined = try refiner.refine(first, computed: Self.created(Set(first.resources.map(\.address))))
        for upload in uploads {
            #expect(refined.resources.first { $0.address == upload.address }?.artifact == upload.artifact, "\(upload.address)")
        }
    }
}
