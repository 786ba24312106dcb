import DeployTestSupport
import Foundation
import Testing
@testable import DeployCLI

/// A shared state named wrongly on the command line is refused before anything is read or touched: exit 2, one line.
@Suite("shared state options")
struct SharedStateOptionTests {
    typealias Bad = CommandLineTests.Bad

    static let backend = ["--backend", "s3://team-state/mini.state", "--backend-kms-key", "alias/team-state"]

    static var cases: [Bad] {
        let stack = ShippedStack.path()
        return [
            Bad(arguments: ["plan", "--stack", stack, "--backend", "s3://team-state/mini.state"],
                message: "error: --backend needs --backend-kms-key: a shared state is always encrypted on this machine before it is written"),
            Bad(arguments: ["plan", "--stack", stack, "--backend-kms-key", "alias/x"],
                message: "error: --backend-kms-key, --backend-region and --lock-lease go with --backend s3://BUCKET/KEY"),
            Bad(arguments: ["plan", "--stack", stack, "--backend", "https://team-state/k", "--backend-kms-key", "alias/x"],
                message: "error: --backend 'https://team-state/k' is not a bucket URL: give s3://BUCKET/KEY"),
            Bad(arguments: ["plan", "--stack", stack, "--backend", "s3://team-state", "--backend-kms-key", "alias/x"],
                message: "error: --backend 's3://team-state' names no key: give s3://BUCKET/KEY"),
            Bad(arguments: ["plan", "--stack", stack, "--backend", "s3://Team_State/k", "--backend-kms-key", "alias/x"],
                message: "error: --backend: 'Team_State' is not a bucket name"),
            Bad(arguments: ["plan", "--stack", stack, "--lock-lease", "5"] + backend,
                message: "error: --lock-lease must be between 10 and 3600 seconds, found 5"),
            Bad(arguments: ["plan", "--stack", stack, "--lock-timeout", "-1"] + backend,
                message: "error: --lock-timeout must be a number of seconds from 0 to 86400, not '-1'"),
            Bad(arguments: ["plan", "--stack", stack, "--state", "/nonexistent/s.json"] + backend,
                message: "error: --state names a local state file, but this stack's state is shared in s3://team-state/mini.state"),
            Bad(arguments: ["state", "history", "--stack", stack],
                message: "error: state history works on a shared state: the stack has no state block, and no --backend was given"),
            Bad(arguments: ["state", "push", "--stack", stack, "--state", "/nonexistent/s.json"] + backend,
                message: "error: state push takes the local file as its FILE argument, not --state"),
            Bad(arguments: ["state", "restore", "--stack", stack] + backend,
                message: "error: state restore takes one VERSION (see state history)"),
            Bad(arguments: ["state", "list", "--stack", stack, "--force"],
                message: "error: --force goes with state push or state pull"),
            Bad(arguments: ["bootstrap", "--stack", stack],
                message: "error: bootstrap makes what a shared state lives in, but the stack has no state block and no --backend was given"),
            Bad(arguments: ["bootstrap", "--stack", stack, "--state", "/nonexistent/s.json"] + backend,
                message: "error: bootstrap keeps its own state in .deploy/bootstrap/ beside the stack; --state does not apply"),
        ]
    }

    @Test("bad shared-state options exit 2 with one clear error and touch nothing", arguments: cases)
    func badOptions(_ bad: Bad) async {
        let (code, output) = await CommandLineTests().run(bad.arguments, environment: bad.environment)
        #expect(code == 2, "\(output.stderr)")
        #expect(output.stderr.hasPrefix(bad.message), "\(output.stderr)")
        #expect(output.stdout.isEmpty)
    }
}
