import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `deploy apply` killed with SIGKILL at any instant, then run again, converges: exactly one of each resource
/// exists, and the state records every one of them.
@Suite("apply killed and resumed against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct CrashTests {
    struct KillPoint: Sendable, CustomTestStringConvertible {
        var label: String
        var line: String?
        var occurrence = 1
        var delay: Double?
        var testDescription: String { label }
    }

    static var points: [KillPoint] {
        var points = [
            KillPoint(label: "first create started", line: ": create started"),
            KillPoint(label: "5th create started", line: ": create started", occurrence: 5),
            KillPoint(label: "12th create complete", line: ": create complete", occurrence: 12),
            KillPoint(label: "first keys resource started", line: "keys.", occurrence: 1),
            KillPoint(label: "storage bucket created", line: "storage.artifacts_bucket: create started"),
            KillPoint(label: "instance launched", line: "inference.node[0]: create started"),
        ]
        // random instants, from a seed printed in the case name so that a failure can be replayed
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3 {
            let delay = Double.random(in: 0.05...0.6, using: &generator)
            points.append(KillPoint(label: String(format: "after %.0f ms", delay * 1000), delay: delay))
        }
        return points
    }

    @Test("converges with exactly one of each resource", arguments: points)
    func killedAndResumed(_ point: KillPoint) throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "cr")
        defer { fixture.remove() }
        let environment = endpoint.adminEnvironment
        let arguments = ["apply", "--auto-approve", "--stack", fixture.stackPath, "--state", fixture.statePath]
        var seen = 0
        let (killed, output, _) = try DeployProcess.runKilling(arguments, environment: environment, delay: point.delay) { _, line in
            guard let marker = point.line, line.contains(marker) else { return false }
            seen += 1
            return seen == point.occurrence
        }
        if point.delay == nil { #expect(killed, "the kill point was reached:\n\(output)") }
        let resumed = try DeployProcess.run(arguments, environment: environment)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region) == fixture.expectedCensus(),
                "after a kill at \(point.label) and a second apply")
        let clean = try DeployProcess.run(["plan", "--detailed-exitcode", "--stack", fixture.stackPath, "--state", fixture.statePath],
                                          environment: environment)
        #expect(clean.status == 0, "\(clean.stdout)")
        let destroy = try DeployProcess.run(["destroy", "--auto-approve", "--force", "--empty-buckets", "--stack", fixture.stackPath, "--state", fixture.statePath],
                                            environment: environment)
        #expect(destroy.status == 0, "\(destroy.stderr)")
    }

    @Test("SIGTERM launches nothing new, lets running calls finish, writes the state and exits 1; the next apply finishes")
    func terminated() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "tm")
        defer { fixture.remove() }
        // every call 100 ms slower, so that the signal surely lands while the network phase is running
        let proxy = try FaultProxy(target: endpoint.url, latencyMS: 100)
        var environment = endpoint.adminEnvironment
        environment["AWS_ENDPOINT_URL"] = proxy.url
        let arguments = ["apply", "--auto-approve", "--stack", fixture.stackPath, "--state", fixture.statePath]
        var seen = 0
        let (killed, output, status) = try DeployProcess.runKilling(arguments, environment: environment, signal: SIGTERM) { _, line in
            if line.contains(": create started") { seen += 1 }
            return seen == 3
        }
        #expect(!killed, "SIGTERM is handled, not fatal")
        #expect(status == 1)
        #expect(output.contains("Interrupted: launching nothing new"))
        #expect(output.contains("apply interrupted:"))
        #expect(!output.contains("keys.data_key: create started"), "no later phase was started")
        #expect(FileManager.default.fileExists(atPath: fixture.statePath))
        #expect(!FileManager.default.fileExists(atPath: fixture.statePath + ".lock"), "the lock is released")
        let resumed = try DeployProcess.run(arguments, environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region) == fixture.expectedCensus())
        #expect(try DeployProcess.run(["destroy", "--auto-approve", "--force", "--empty-buckets", "--stack", fixture.stackPath, "--state", fixture.statePath],
                                      environment: environment).status == 0)
    }
}
