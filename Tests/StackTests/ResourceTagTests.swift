import Foundation
import Testing
@testable import Stack

/// The tags a resource ends up with: the stack's, the template's and deploy's own, as AWS will store them.
@Suite("resource tags")
struct ResourceTagTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var written: String
        var tagged: Value
        var testDescription: String { written }
    }

    @Test("a template's tag value is the text AWS stores", arguments: [
        Case(written: #""plain""#, tagged: .string("plain")),
        Case(written: #""${1 + 1}""#, tagged: .string("2")),
        Case(written: "true", tagged: .string("true")),
        Case(written: #""${vpc.id}""#, tagged: .unknown),
    ])
    func value(_ test: Case) throws {
        let directory = try FixtureFiles.materialize(badCase: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = directory.appendingPathComponent("network.json5")
        let original = try String(contentsOf: network, encoding: .utf8)
        let rewritten = original.replacingOccurrences(of: #"vpc: { type: "aws.ec2.vpc", properties: { cidr_block: "${param.vpc_cidr}" } }"#,
                                                      with: #"vpc: { type: "aws.ec2.vpc", properties: { cidr_block: "${param.vpc_cidr}" } },"#
                                                        + #" rt: { type: "aws.ec2.route_table", properties: { vpc_id: "${vpc.id}", tags: { t: "#
                                                        + test.written + " } } }")
        try #require(rewritten != original)
        try rewritten.write(to: network, atomically: true, encoding: .utf8)
        let configuration = try StackConfiguration.load(stackPath: directory.appendingPathComponent("stack.json5").path,
                                                        templatesDirectory: directory.path)
        var expander = Expander(configuration)
        let table = try #require(try expander.expand().resources.first { $0.type == "aws.ec2.route_table" })
        let tags = try #require(table.properties["tags"]?.mapValue)
        #expect(tags["t"] == test.tagged)
        #expect(tags["owner"] == .string("tests"))
        #expect(Set(tags.keys).isSuperset(of: TagLimits.deployTags))
    }

    @Test("deploy's own tags leave a stack 47 of AWS's 50")
    func budget() {
        #expect(TagLimits.stackTags == 47)
        #expect(ResourceTypes.schema(for: "aws.s3.object")?.maxTags == 10)
        #expect(ResourceTypes.schema(for: "aws.ec2.vpc")?.maxTags == 50)
        #expect(ResourceTypes.schema(for: "aws.kms.alias")?.maxTags == 0)
    }
}
