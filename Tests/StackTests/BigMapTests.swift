import Foundation
import Testing
@testable import Stack

/// Maps of tens of thousands of keys, as a generator writes them: on one line, or one key a line. Reading them
/// takes time in proportion to their size, and a stack with more tags than AWS takes is refused before anything else.
/// The time bounds are generous (machines are noisy); what they catch is the quadratic reader, which took minutes.
@Suite("big maps")
struct BigMapTests {
    enum Layout: String, CaseIterable, Sendable {
        case oneLine = "on one line"
        case keyPerLine = "one key a line"

        func map(_ count: Int, key: String, value: String) -> String {
            let members = (0..<count).map { "\"\(key)\($0)\": \"\(value)\"" }
            return self == .oneLine ? "{" + members.joined(separator: ", ") + "}" : "{\n" + members.joined(separator: ",\n") + "\n}"
        }
    }

    static let keys = 40_000

    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test("the reader takes a 40,000-key map in linear time and places its last key exactly", arguments: Layout.allCases)
    func parser(_ layout: Layout) throws {
        let text = layout.map(Self.keys, key: "k", value: "v")
        var node: JSON5Node?
        let elapsed = try seconds { node = try JSON5Parser.parse(text, file: "big.json5") }
        #expect(elapsed < 5, "\(Self.keys) keys read in \(elapsed) s")
        guard case .object(let members)? = node?.kind else { Issue.record("not an object"); return }
        #expect(members.count == Self.keys)
        let last = try #require(members.last)
        // one line: `{` then 39,999 members of the form `"kN": "v", ` before it
        let column = 2 + (0..<(Self.keys - 1)).reduce(0) { $0 + "\"k\($1)\": \"v\", ".count }
        #expect(last.keyLocation == (layout == .oneLine ? SourceLocation(file: "big.json5", line: 1, column: column)
                                                        : SourceLocation(file: "big.json5", line: Self.keys + 1, column: 1)))
    }

    @Test("a stack with 40,000 tags is refused at the first tag over AWS's limit, at once", arguments: Layout.allCases)
    func tooManyTags(_ layout: Layout) throws {
        let directory = try FixtureFiles.materialize(badCase: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stack = directory.appendingPathComponent("stack.json5")
        let original = try String(contentsOf: stack, encoding: .utf8)
        let rewritten = original.replacingOccurrences(of: "tags: { owner: \"tests\" }", with: "tags: " + layout.map(Self.keys, key: "tag", value: "x"))
        try #require(rewritten != original)
        try rewritten.write(to: stack, atomically: true, encoding: .utf8)
        var refusal: StackError?
        let elapsed = seconds {
            do {
                _ = try StackConfiguration.load(stackPath: stack.path, templatesDirectory: directory.path)
            } catch let error as StackError {
                refusal = error
            } catch {
                Issue.record("not a stack error: \(error)")
            }
        }
        #expect(elapsed < 5, "refused in \(elapsed) s")
        let error = try #require(refusal)
        #expect(error.message == "tag 'tag47' is one too many: a stack may declare at most 47 tags (AWS allows 50 on a resource, "
                    + "and deploy adds its own deploy:stack, deploy:address, managed-by); this one declares 40000")
        #expect(error.location?.file == stack.path)
        #expect(error.location?.line == (layout == .oneLine ? 6 : 54))
    }

    @Test("a template's 40,000-key map parameter default is read, checked and expanded", arguments: Layout.allCases)
    func parameterDefault(_ layout: Layout) throws {
        let directory = try FixtureFiles.materialize(badCase: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let template = directory.appendingPathComponent("inference.json5")
        let original = try String(contentsOf: template, encoding: .utf8)
        let declaration = "parameters: {\n    types: { type: \"map\", default: \(layout.map(Self.keys, key: "size", value: "c7i.large")) },"
        let rewritten = original.replacingOccurrences(of: "parameters: {", with: declaration)
            .replacingOccurrences(of: #"instance_type: "${param.accelerator == \"gpu\" ? \"g5.xlarge\" : \"c7i.large\"}""#,
                                  with: #"instance_type: "${lookup(param.types, \"size39999\")}""#)
        try #require(rewritten.contains("lookup(param.types"))
        try rewritten.write(to: template, atomically: true, encoding: .utf8)
        var resources: [DesiredResource] = []
        let elapsed = try seconds {
            let configuration = try StackConfiguration.load(stackPath: directory.appendingPathComponent("stack.json5").path,
                                                            templatesDirectory: directory.path)
            #expect(configuration.parameters[.inference]?["types"]?.mapValue?.count == Self.keys)
            var expander = Expander(configuration)
            resources = try expander.expand().resources
        }
        #expect(elapsed < 5, "\(Self.keys) keys validated in \(elapsed) s")
        #expect(resources.first { $0.type == "aws.ec2.instance" }?.properties["instance_type"] == .string("c7i.large"))
    }
}
