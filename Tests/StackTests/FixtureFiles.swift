import Foundation

/// Paths of the test fixtures and the repository's own stacks and templates.
enum FixtureFiles {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repository = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
    static let minimal = testsDirectory.appendingPathComponent("Fixtures/minimal")
    static let bad = testsDirectory.appendingPathComponent("Fixtures/bad")

    /// The names of the bad-input cases, one directory each.
    static var badCases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: bad.path)) ?? []).sorted()
    }

    /// A fresh directory holding the minimal stack and templates, with one case's file put over them.
    static func materialize(badCase: String?) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-stack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: minimal.path) {
            try FileManager.default.copyItem(at: minimal.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        if let badCase {
            let source = bad.appendingPathComponent(badCase)
            for file in try FileManager.default.contentsOfDirectory(atPath: source.path) {
                let target = directory.appendingPathComponent(file)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: target)
            }
        }
        return directory
    }

    /// The `// expect: ...` line of a case, with `FILE` standing for the directory it was materialised in.
    static func expectation(badCase: String) throws -> (file: String, message: String) {
        let source = bad.appendingPathComponent(badCase)
        let file = try FileManager.default.contentsOfDirectory(atPath: source.path)[0]
        let text = try String(contentsOf: source.appendingPathComponent(file), encoding: .utf8)
        let first = text.split(separator: "\n", maxSplits: 1)[0]
        return (file, String(first.dropFirst("// expect: ".count)))
    }
}
