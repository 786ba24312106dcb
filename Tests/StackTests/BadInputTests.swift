import Foundation
import Testing
@testable import Stack

/// Every kind of bad input is caught before anything runs, with one message naming file:line:column.
/// Each case is a directory under Fixtures/bad holding one broken file; its first line says the expected error.
@Suite("bad stacks and templates")
struct BadInputTests {
    @Test("the minimal fixture itself is valid")
    func minimalIsValid() throws {
        let directory = try FixtureFiles.materialize(badCase: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = try StackConfiguration.load(stackPath: directory.appendingPathComponent("stack.json5").path,
                                                        templatesDirectory: directory.path)
        var expander = Expander(configuration)
        #expect(try expander.expand().resources.count == 6)
    }

    @Test("an object parameter: its fields checked one by one, the ones left out given their defaults")
    func objectParameter() throws {
        let directory = try FixtureFiles.materialize(badCase: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stack = directory.appendingPathComponent("stack.json5")
        let text = try String(contentsOf: stack, encoding: .utf8)
        try text.replacingOccurrences(of: "inference: { node_count: 1 },", with: "inference: { pool: { types: [\"c7i.large\"] } },")
            .write(to: stack, atomically: true, encoding: .utf8)
        let configuration = try StackConfiguration.load(stackPath: stack.path, templatesDirectory: directory.path)
        #expect(configuration.parameters[.inference]?["pool"] == .map(["size": .int(2), "types": .list([.string("c7i.large")])]))
        var expander = Expander(configuration)
        #expect(try expander.expand().resources.filter { $0.type == "aws.ec2.instance" }.count == 2, "the pool's default size")
    }

    @Test("is rejected with file:line:column", arguments: FixtureFiles.badCases)
    func rejected(_ name: String) throws {
        let directory = try FixtureFiles.materialize(badCase: name)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, expected) = try FixtureFiles.expectation(badCase: name)
        do {
            let configuration = try StackConfiguration.load(stackPath: directory.appendingPathComponent("stack.json5").path,
                                                            templatesDirectory: directory.path)
            var expander = Expander(configuration)
            _ = try expander.expand()
            Issue.record("\(name) was accepted")
        } catch {
            let actual = error.description.replacingOccurrences(of: directory.path + "/", with: "")
            #expect(actual == expected)
            #expect(error.location != nil, "every bad input names its file and line")
        }
    }
}
