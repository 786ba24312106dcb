import Foundation
import Synchronization
import Testing
@testable import DeployCLI

/// The command line without the network: parsing, help, and bad input (exit code 2, one clear line).
@Suite("deploy command line")
struct CommandLineTests {
    final class Captured: Sendable {
        let out = Mutex<[String]>([])
        let err = Mutex<[String]>([])
        var console: Console {
            Console(out: { line in self.out.withLock { $0.append(line) } },
                    err: { line in self.err.withLock { $0.append(line) } })
        }
        var stdout: String { out.withLock { $0.joined(separator: "\n") } }
        var stderr: String { err.withLock { $0.joined(separator: "\n") } }
    }

    func run(_ arguments: [String], environment: [String: String] = ["HOME": "/nonexistent"]) async -> (Int32, Captured) {
        let captured = Captured()
        let code = await DeployCLI.main(arguments: arguments, environment: environment, console: captured.console)
        return (code, captured)
    }

    @Test("help and version")
    func help() async {
        let (code, output) = await run(["--help"])
        #expect(code == 0)
        #expect(output.stdout.contains("USAGE: deploy <command> [options]"))
        #expect(output.stdout.contains("whoami"))
        let (commandCode, commandHelp) = await run(["whoami", "--help"])
        #expect(commandCode == 0)
        #expect(commandHelp.stdout.contains("USAGE: deploy whoami [options]"))
        #expect(await run(["help", "whoami"]).1.stdout == commandHelp.stdout)
        let (versionCode, version) = await run(["--version"])
        #expect(versionCode == 0 && version.stdout == "deploy \(DeployCLI.version)")
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var environment: [String: String] = ["HOME": "/nonexistent"]
        var message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    @Test("bad input exits 2 with one clear error", arguments: [
        Bad(arguments: ["whoamy"], message: "error: unknown command 'whoamy'; did you mean 'whoami'?"),
        Bad(arguments: ["whoami", "--regoin", "x"], message: "error: unknown option '--regoin'; did you mean '--region'?"),
        Bad(arguments: ["whoami", "--output", "yaml"], message: "error: --output must be text or json, not 'yaml'"),
        Bad(arguments: ["whoami", "--region"], message: "error: option '--region' needs a value <region>"),
        Bad(arguments: ["whoami", "--region", "--debug"],
            message: "error: option '--region' needs a value <region>, not the option '--debug' (write --region=--debug"),
        Bad(arguments: ["whoami", "--profile", "-h"], message: "error: option '--profile' needs a value <name>, not the option '-h'"),
        Bad(arguments: ["whoami", "--endpoint-url", "localhost:4566"], message: "error: --endpoint-url 'localhost:4566' is not an http(s) URL"),
        Bad(arguments: ["whoami", "extra"], message: "error: unexpected argument 'extra'"),
        Bad(arguments: ["help", "apply", "extra"], message: "error: unexpected argument 'extra'; help takes one COMMAND"),
        Bad(arguments: ["--region", "us-east-1"], message: "error: missing command"),
        Bad(arguments: ["whoami", "--region", "us-east-1"],
            message: "error: no AWS credentials found; searched: environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                + "profile 'default' in /nonexistent/.aws/credentials, profile 'default' in /nonexistent/.aws/config"),
        Bad(arguments: ["whoami", "--profile", "nobody", "--region", "us-east-1"],
            message: "error: profile 'nobody' not found in /nonexistent/.aws/config or /nonexistent/.aws/credentials"),
        Bad(arguments: ["whoami", "--region", "mars-1"], environment: ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"],
            message: "error: unknown region 'mars-1'"),
    ])
    func badInput(_ bad: Bad) async {
        let (code, output) = await run(bad.arguments, environment: bad.environment)
        #expect(code == 2)
        #expect(output.stderr.hasPrefix(bad.message), "\(output.stderr)")
        #expect(output.stdout.isEmpty)
    }

    @Test("a malformed config file is reported with its path and line, exit 2")
    func malformedConfig() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-bad-config-\(UUID().uuidString)").path
        try "[default]\nregion = us-east-1\n[profile broken\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (code, output) = await run(["whoami"], environment: ["HOME": "/nonexistent", "AWS_CONFIG_FILE": path])
        #expect(code == 2)
        #expect(output.stderr == "error: \(path):3: section header '[profile broken' is not closed by ']'")
    }

    @Test("global options may come before the command")
    func optionsBeforeCommand() {
        #expect(DeployCLI.commandWord(["--region", "us-east-1", "--debug", "whoami"]) == "whoami")
        #expect(DeployCLI.commandWord(["--output=json", "whoami"]) == "whoami")
    }
}
