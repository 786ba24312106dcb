import Foundation
import Testing
@testable import Stack

/// The node's boot script is rendered from stack values; whatever they hold, the shell must read each one as a
/// single literal word. Each case renders the real inference template (with its key patterns lifted, so that the
/// quoting alone stands between the value and the shell), runs the script under `sh` with `aws`, `sha256sum` and
/// `chmod` replaced by recorders, and checks that nothing of the value ran and that `aws` received it verbatim.
@Suite("boot script quoting")
struct UserDataShellTests {
    static let checksum = String(repeating: "ab", count: 32)

    static let hostileKeys = [
        "$(touch MARK)", "`touch MARK`", "x; touch MARK", "x\ntouch MARK", "x' ; touch MARK ; '", "x\" ; touch MARK ; \"",
        "x && touch MARK", "x | touch MARK", "${IFS}touch${IFS}MARK", "a b *", "-rf", "'", "\\'$(touch MARK)\\'",
        "x\r\ntouch MARK #", "$((1+1))", "~root", "!! touch MARK",
    ]

    @Test("a hostile object key reaches aws as one word and runs nothing", arguments: hostileKeys)
    func hostileKey(_ template: String) throws {
        let sandbox = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-userdata-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: sandbox, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: sandbox) }
        let marker = sandbox.appendingPathComponent("pwned").path
        let key = template.replacingOccurrences(of: "MARK", with: marker)
        guard !key.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            // a control character never reaches the script: every stack string that holds one is refused
            #expect(throws: StackError.self) { _ = try Self.renderUserData(in: sandbox, values: ["server_key": key]) }
            return
        }

        let script = try Self.renderUserData(in: sandbox, values: ["server_key": key, "server_sha256": Self.checksum,
                                                                   "model_sha256": Self.checksum])
        let calls = try Self.run(script, in: sandbox)

        #expect(!FileManager.default.fileExists(atPath: marker), "the value ran as a command")
        try #require(calls.count >= 1)
        #expect(calls[0] == ["s3", "cp", "--region", "eu-west-1", "s3://private-inference-123456789012-artifacts/\(key)",
                             "/usr/local/bin/inference-server"])
    }

    @Test("the default stack's script fetches both files, checks their digests and stops on a mismatch")
    func defaultScript() throws {
        let sandbox = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-userdata-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: sandbox, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: sandbox) }
        let script = try Self.renderUserData(in: sandbox, values: ["server_sha256": Self.checksum, "model_sha256": Self.checksum],
                                             keepPatterns: true)
        let calls = try Self.run(script, in: sandbox)
        #expect(calls.map { $0.first ?? "" } == ["s3", "s3", "chmod"])
        #expect(calls[1].dropFirst(4).first == "s3://private-inference-123456789012-artifacts/models/model.gguf")

        let mismatched = try Self.renderUserData(in: sandbox, values: ["server_sha256": String(repeating: "0", count: 64)],
                                                 keepPatterns: true)
        #expect(try Self.run(mismatched, in: sandbox).count == 1, "a wrong digest stops the boot before anything else runs")
    }

    @Test("the key parameters refuse shell and path metacharacters", arguments: ["x;y", "$(id)", "../etc/passwd", "-rf", "a b", "a\nb", "a`b`"])
    func patternRefuses(_ key: String) throws {
        let sandbox = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-userdata-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: sandbox, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: sandbox) }
        #expect(throws: StackError.self) {
            _ = try Self.renderUserData(in: sandbox, values: ["model_key": key], keepPatterns: true)
        }
    }

    @Test("shellquote gives back exactly its input through sh", arguments: hostileKeys + ["", "plain", "é\u{301}\u{200B}", "\t\\"])
    func roundTrip(_ text: String) throws {
        let quoted = try #require(ShellQuoting.quoted(text))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf %s " + quoted]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(String(decoding: data, as: UTF8.self) == text)
        #expect(ShellQuoting.quoted("a\0b") == nil)
    }

    /// The user data of the default stack's first node, with `values` set on the inference phase.
    static func renderUserData(in sandbox: URL, values: [String: String], keepPatterns: Bool = false) throws -> String {
        let templates = sandbox.appendingPathComponent("templates")
        try? FileManager.default.removeItem(at: templates)
        try FileManager.default.copyItem(at: FixtureFiles.repository.appendingPathComponent("Templates"), to: templates)
        if !keepPatterns {
            let path = templates.appendingPathComponent("inference.json5")
            let text = try String(contentsOf: path, encoding: .utf8)
            let lifted = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                guard line.contains("_key: {"), let start = line.range(of: ", pattern: \""),
                      let end = line.range(of: "\" }", options: .backwards) else { return String(line) }
                return String(line[..<start.lowerBound]) + " }" + String(line[end.upperBound...])
            }
            try lifted.joined(separator: "\n").write(to: path, atomically: true, encoding: .utf8)
        }
        let stackText = try String(contentsOf: FixtureFiles.repository.appendingPathComponent("Stacks/private-inference.json5"),
                                   encoding: .utf8)
        let extra = try values.sorted { $0.key < $1.key }.map { name, value in
            "\(name): " + String(decoding: try JSONEncoder().encode(value), as: UTF8.self) + ","
        }.joined(separator: " ")
        let stackPath = sandbox.appendingPathComponent("stack.json5")
        try stackText.replacingOccurrences(of: "accelerator: \"cpu\",", with: "accelerator: \"cpu\", " + extra)
            .write(to: stackPath, atomically: true, encoding: .utf8)
        let configuration = try StackConfiguration.load(stackPath: stackPath.path, templatesDirectory: templates.path)
        var expander = Expander(configuration)
        let node = try #require(try expander.expand().resources.first { $0.address.description == "inference.node[0]" })
        return try #require(node.properties["user_data"]?.stringValue)
    }

    /// Runs `script` with recorders in front of PATH; returns the recorded calls, one argument list each.
    static func run(_ script: String, in sandbox: URL) throws -> [[String]] {
        let bin = sandbox.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let log = sandbox.appendingPathComponent("calls")
        try? FileManager.default.removeItem(at: log)
        let recorder = "#!/bin/sh\n{ for argument in \"$@\"; do printf '%s\\0' \"$argument\"; done; printf '\\n\\0'; } >> '\(log.path)'\n"
        for name in ["aws", "chmod"] {
            try (recorder.replacingOccurrences(of: "\"$@\"", with: (name == "chmod" ? "chmod " : "") + "\"$@\""))
                .write(to: bin.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try "#!/bin/sh\necho '\(checksum)  '\"$1\"\n".write(to: bin.appendingPathComponent("sha256sum"), atomically: true, encoding: .utf8)
        for name in ["aws", "chmod", "sha256sum"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent(name).path)
        }
        let scriptPath = sandbox.appendingPathComponent("user-data.sh")
        try script.write(to: scriptPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [scriptPath.path]
        process.currentDirectoryURL = sandbox
        process.environment = ["PATH": "\(bin.path):/usr/bin:/bin", "HOME": sandbox.path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let recorded = (try? Data(contentsOf: log)) ?? Data()
        return String(decoding: recorded, as: UTF8.self).components(separatedBy: "\n\0").dropLast().map { call in
            call.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
    }
}
