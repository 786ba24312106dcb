@testable import AWS
import Bundling
import Diagnostics
import Foundation
import Hashing
@testable import Plan
@testable import Provision
import Stack
import Testing
import Deployment
@testable import DeployCLI

/// The table that replaced the CLI's error ladder: each module's errors say themselves who can fix them (exit 2
/// for input, 1 for a failure while working), one case per error type and kind.
@Suite("user-facing errors")
struct UserFacingErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var error: any Error & Sendable
        var kind: FailureKind
        var location: ErrorLocation? = nil
        var testDescription: String { name }
    }

    static let location = SourceLocation(file: "Stacks/acme.json5", line: 12, column: 5)

    static let cases: [Case] = [
        Case(name: "stack", error: StackError("bad", at: location), kind: .usage,
             location: ErrorLocation(file: "Stacks/acme.json5", line: 12, column: 5)),
        Case(name: "stack, no place", error: StackError("bad", at: nil), kind: .usage),
        Case(name: "config file", error: ConfigFileError(path: "/c", line: 3, message: "bad"), kind: .usage,
             location: ErrorLocation(file: "/c", line: 3)),
        Case(name: "config file as a whole", error: ConfigFileError(path: "/c", line: 0, message: "bad"), kind: .usage),
        Case(name: "AWS configuration", error: AWSConfigurationError("no region"), kind: .usage),
        Case(name: "endpoint", error: EndpointError(message: "bad"), kind: .usage),
        Case(name: "stale plan", error: PlanFile.StaleError(reason: "x"), kind: .usage),
        Case(name: "damaged plan", error: PlanFile.DamagedError(path: "p", reason: "x"), kind: .usage),
        Case(name: "state not a regular file", error: StateError(.notRegularFile, path: "s", "x"), kind: .usage),
        Case(name: "corrupt state", error: StateError(.corrupt, path: "s", "x"), kind: .usage),
        Case(name: "state of another stack", error: StateError(.wrongStack, path: "s", "x"), kind: .usage),
        Case(name: "state not written", error: StateError(.writeFailed, path: "s", "x"), kind: .failure),
        Case(name: "bundle not a regular file", error: BundleError("x", kind: .notRegularFile), kind: .usage),
        Case(name: "damaged bundle", error: BundleError("x"), kind: .failure),
        Case(name: "destroy refused", error: DestroyRefused(blockers: []), kind: .usage),
        Case(name: "AWS", error: AWSError(service: "ec2", operation: "RunInstances", code: "AccessDenied", message: "no"), kind: .failure),
        Case(name: "transport", error: TransportError(kind: .timedOut, message: "slow", url: "https://x"), kind: .failure),
        Case(name: "lock", error: LockError(message: "held", holder: nil), kind: .failure),
        Case(name: "write", error: AtomicFile.WriteError(path: "s", operation: "rename", code: ENOSPC), kind: .failure),
        Case(name: "provision", error: ProvisionError("x"), kind: .failure),
        Case(name: "usage", error: UsageError(message: "bad flag", command: "plan"), kind: .usage),
        Case(name: "account mismatch", error: AccountMismatch(expected: "1", actual: "2", arn: "arn"), kind: .usage),
        Case(name: "not confirmed", error: NotConfirmed(description: "cancelled"), kind: .usage),
        Case(name: "findings refused", error: FindingsRefused(findings: []), kind: .failure),
        Case(name: "refused", error: Refused("no such address", hint: "See 'deploy import --help'."), kind: .usage),
    ]

    @Test("kind, exit code, message and location", arguments: cases)
    func table(_ test: Case) {
        let report = UserFacingReport(test.error)
        #expect(report.kind == test.kind)
        #expect(report.exitCode == (test.kind == .usage ? 2 : 1))
        #expect(report.message == "\(test.error)", "the line printed is the error's own description, unchanged")
        #expect(report.location == test.location)
    }

    @Test("anything else is a failure in its own words; a cancellation an interruption")
    func fallback() {
        struct Other: Error {}
        #expect(UserFacingReport(Other()).kind == .failure)
        #expect(UserFacingReport(CancellationError()) == UserFacingReport(message: "interrupted", kind: .failure))
    }

    @Test("a usage error points at its command's help")
    func usageHint() {
        #expect(UserFacingReport(UsageError(message: "x", command: "plan")).hint == "See 'deploy plan --help'.")
        #expect(UserFacingReport(UsageError(message: "x", command: nil)).hint == "See 'deploy --help'.")
    }
}
