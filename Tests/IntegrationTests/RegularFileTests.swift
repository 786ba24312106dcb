import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Whatever deploy reads as a file must be a regular file: a FIFO (opening one for reading waits for a writer,
/// forever), a device or a directory given as a bundle, a split part, a key, a stack, a template or an artifact is
/// refused at once with exit 2, never opened. And the files a stack uploads must lie below its directory or its
/// templates. The built binary runs under a timeout, so a hang fails the test instead of blocking the suite.
@Suite("only regular files, only below the stack")
struct RegularFileTests {
    /// A scratch copy of the default stack (templates and stand-in artifacts beside it), a signed bundle of it, and a
    /// FIFO, all in one directory.
    struct Scratch {
        let fixture: StackFixture
        var directory: String { fixture.directory.path }
        var fifo: String { directory + "/fifo" }
        var key: String { directory + "/signing" }
        var bundle: String { directory + "/site.bundle" }

        init() throws {
            fixture = try StackFixture(prefix: "rf")
            guard mkfifo(fifo, 0o600) == 0 else { throw POSIXError(.EEXIST) }
            try "#!/bin/sh\n".write(toFile: directory + "/binary", atomically: true, encoding: .utf8)
            let keygen = try DeployProcess.run(["bundle", "keygen", "--out", key], environment: [:], timeout: 60)
            guard keygen.status == 0 else { throw POSIXError(.EIO) }
        }

        func export() throws {
            let export = try DeployProcess.run(["bundle", "export", "--stack", fixture.stackPath, "--out", bundle, "--sign-key", key,
                                                "--server", directory + "/binary", "--deploy", directory + "/binary"],
                                               environment: [:], timeout: 60)
            guard export.status == 0 else { throw POSIXError(.EIO) }
        }

        /// The stack with one parameter of the storage phase set.
        func stack(setting parameter: String, to value: String) throws -> String {
            let path = directory + "/edited.json5"
            let text = try String(contentsOfFile: fixture.stackPath, encoding: .utf8)
            try text.replacingOccurrences(of: "audit_retention_days: 2557,", with: "audit_retention_days: 2557, \(parameter): \"\(value)\",")
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// A copy of the templates with `phase`'s template replaced by the FIFO's twin.
        func templates(withFIFOFor phase: String) throws -> String {
            let copy = directory + "/other-templates"
            try FileManager.default.copyItem(atPath: directory + "/Templates", toPath: copy)
            try FileManager.default.removeItem(atPath: copy + "/\(phase).json5")
            guard mkfifo(copy + "/\(phase).json5", 0o600) == 0 else { throw POSIXError(.EEXIST) }
            return copy
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var needsBundle = false
        /// The arguments, made in the scratch directory (which it may change).
        var arguments: @Sendable (Scratch) throws -> [String]
        var says: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a FIFO as the bundle to verify", arguments: { ["bundle", "verify", $0.fifo, "--pubkey", $0.key + ".pub"] },
             says: "fifo: a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the bundle to inspect", arguments: { ["bundle", "inspect", $0.fifo] },
             says: "fifo: a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the bundle to import", arguments: { ["bundle", "import", $0.fifo, "--pubkey", $0.key + ".pub", "--to", $0.directory + "/in"] },
             says: "fifo: a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the bundle to apply", arguments: {
            ["apply", "--bundle", $0.fifo, "--pubkey", $0.key + ".pub", "--state", $0.directory + "/s.json", "--auto-approve"]
        }, says: "fifo: a FIFO (named pipe), not a regular file"),
        Case(name: "a character device as the bundle", arguments: { ["bundle", "verify", "/dev/zero", "--pubkey", $0.key + ".pub"] },
             says: "/dev/zero: a character device, not a regular file"),
        Case(name: "a directory as the bundle", arguments: { ["bundle", "verify", $0.directory, "--pubkey", $0.key + ".pub"] },
             says: "a directory, not a regular file"),
        Case(name: "a FIFO as a part of a split bundle", needsBundle: true, arguments: { scratch in
            let data = try Data(contentsOf: URL(fileURLWithPath: scratch.bundle))
            let index = """
                {"format": "deploy.bundle-parts/1", "size": \(data.count), "parts": [{"name": "fifo", "size": 0, "sha256": "00"}]}
                """
            try index.write(toFile: scratch.directory + "/split.bundle", atomically: true, encoding: .utf8)
            return ["bundle", "verify", scratch.directory + "/split.bundle", "--pubkey", scratch.key + ".pub"]
        }, says: "fifo: a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the public key", arguments: { ["bundle", "verify", $0.bundle, "--pubkey", $0.fifo] },
             says: "fifo: a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the signing key", arguments: {
            ["bundle", "export", "--stack", $0.fixture.stackPath, "--out", $0.directory + "/b", "--sign-key", $0.fifo,
             "--server", $0.directory + "/binary", "--deploy", $0.directory + "/binary"]
        }, says: "fifo: a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the stack to validate", arguments: { ["validate", "--stack", $0.fifo] },
             says: "fifo': it is a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the stack to plan", arguments: { ["plan", "--stack", $0.fifo, "--state", $0.directory + "/s.json"] },
             says: "it is a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the stack to export", arguments: {
            ["bundle", "export", "--stack", $0.fifo, "--out", $0.directory + "/b", "--server", $0.directory + "/binary", "--deploy", $0.directory + "/binary"]
        }, says: "it is a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as a template", arguments: {
            ["validate", "--stack", $0.fixture.stackPath, "--templates", try $0.templates(withFIFOFor: "network")]
        }, says: "cannot read the network template"),
        Case(name: "a FIFO as an artifact source to validate", arguments: {
            ["validate", "--stack", try $0.stack(setting: "model_source", to: "fifo")]
        }, says: "storage.model: source 'fifo': "),
        Case(name: "a FIFO as an artifact source to plan", arguments: {
            ["plan", "--stack", try $0.stack(setting: "model_source", to: "fifo"), "--state", $0.directory + "/s.json"]
        }, says: "is a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as an artifact source to export", arguments: {
            ["bundle", "export", "--stack", try $0.stack(setting: "model_source", to: "fifo"), "--out", $0.directory + "/b",
             "--server", $0.directory + "/binary", "--deploy", $0.directory + "/binary"]
        }, says: "is a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as a model to export", arguments: {
            ["bundle", "export", "--stack", $0.fixture.stackPath, "--out", $0.directory + "/b", "--model", $0.fifo,
             "--server", $0.directory + "/binary", "--deploy", $0.directory + "/binary"]
        }, says: "fifo: a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the state to plan", arguments: { ["plan", "--stack", $0.fixture.stackPath, "--state", $0.fifo] },
             says: "a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the state to check", arguments: { ["check", "--plan", "--stack", $0.fixture.stackPath, "--state", $0.fifo] },
             says: "a FIFO (named pipe), not a regular file"),
        Case(name: "a FIFO as the saved plan to apply", arguments: { ["apply", $0.fifo, "--auto-approve"] },
             says: "a FIFO (named pipe), not a regular file"),
        Case(name: "an artifact outside the stack's directory to plan", arguments: {
            ["plan", "--stack", try $0.stack(setting: "keys_source", to: "/etc/shadow"), "--state", $0.directory + "/s.json"]
        }, says: "storage.api_keys: source '/etc/shadow' is outside the stack's directory"),
        Case(name: "an artifact climbing out of the stack's directory to plan", arguments: {
            ["plan", "--stack", try $0.stack(setting: "keys_source", to: "../../../../../../../etc/shadow"), "--state", $0.directory + "/s.json"]
        }, says: "is outside the stack's directory"),
        Case(name: "an artifact linked out of the stack's directory to plan", arguments: { scratch in
            try FileManager.default.createSymbolicLink(atPath: scratch.directory + "/artifacts/shadow", withDestinationPath: "/etc/shadow")
            return ["plan", "--stack", try scratch.stack(setting: "keys_source", to: "artifacts/shadow"), "--state", scratch.directory + "/s.json"]
        }, says: "storage.api_keys: source 'artifacts/shadow' is a symbolic link to /etc/shadow, outside the stack's directory"),
    ]

    @Test("refused at once with exit 2, never opened", arguments: cases)
    func refused(_ test: Case) throws {
        let scratch = try Scratch()
        defer { scratch.fixture.remove() }
        if test.needsBundle { try scratch.export() }
        let started = Date()
        let result = try DeployProcess.run(try test.arguments(scratch), environment: ["HOME": "/nonexistent"], timeout: 30)
        #expect(!result.timedOut, "it hung (on opening the FIFO?)")
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(test.says), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 15, "refused at once")
        #expect(!FileManager.default.fileExists(atPath: scratch.directory + "/s.json"), "no state written")
    }
}
