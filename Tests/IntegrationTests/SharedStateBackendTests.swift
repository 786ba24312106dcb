import AWS
import Foundation
import Plan
import Stack
import Testing

/// The shared state's backend and lock driven directly against the local endpoint: what the conditional writes
/// promise, without a process or a lock in between to hide a race.
@Suite("shared state backend against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct SharedStateBackendTests {
    /// A client signing as the outside admin (allowed everything), retrying as a run would.
    static func adminClient(_ endpoint: LocalEndpoint) -> AWSClient {
        var configuration = ClientConfiguration(region: endpoint.region, endpoints: EndpointResolver(commandLineURL: endpoint.url))
        configuration.transport.caBundlePath = endpoint.caBundle
        configuration.retry = RetryPolicy(maxAttempts: 4, baseDelay: 0.01, maxDelay: 0.05)
        let environment = endpoint.adminEnvironment
        let keys = Credentials(accessKeyID: environment["AWS_ACCESS_KEY_ID"] ?? "", secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "")
        return AWSClient(configuration: configuration, credentials: StaticCredentialProvider(keys))
    }

    struct Setup {
        let fixture: SharedStateFixture
        let settings: RemoteStateSettings
        let client: AWSClient
        let stack: StackFile

        init(prefix: String) throws {
            let endpoint = try LocalEndpoint.require()
            fixture = try SharedStateFixture(prefix: prefix)
            stack = try StackFile.load(fixture.stack.stackPath)
            settings = try #require(stack.state)
            client = SharedStateBackendTests.adminClient(endpoint)
        }

        /// A backend as one machine sees it: its own cache of snapshots seen.
        func backend(_ machine: String, settings: RemoteStateSettings? = nil) -> S3StateBackend {
            S3StateBackend(settings: settings ?? self.settings, client: client,
                           seen: SeenSnapshots(directory: fixture.stack.directory.appendingPathComponent("seen-\(machine)").path))
        }

        func state(_ marker: String) -> State {
            var state = State(stack: stack.name, account: stack.account, region: stack.region)
            state.outputs = ["marker": .string(marker)]
            return state
        }
    }

    @Test("two writers that read the same version: exactly one write lands, the other is refused and changes nothing")
    func twoWriters() async throws {
        let setup = try Setup(prefix: "tw")
        defer { setup.fixture.stack.remove() }
        for round in 0..<3 {
            let first = setup.backend("a\(round)"), second = setup.backend("b\(round)")
            let before = try await first.load()
            _ = try await second.load()
            try await first.write(setup.state("first-\(round)"))
            await #expect { try await second.write(setup.state("second-\(round)")) } throws: { error in
                (error as? StateError)?.kind == .conflict && "\(error)".contains("nothing was written")
            }
            let after = try await setup.backend("reader\(round)").load()
            #expect(after?.outputs["marker"] == .string("first-\(round)"), "round \(round), after \(before?.outputs["marker"].map { "\($0)" } ?? "nothing")")
        }
    }

    @Test("the lock: a second taker is told who holds it; a release never removes a lock another run has taken")
    func lockHolders() async throws {
        let setup = try Setup(prefix: "lh")
        defer { setup.fixture.stack.remove() }
        let first = try await setup.backend("a").lock(operation: "apply", now: Date())
        await #expect { _ = try await setup.backend("b").lock(operation: "plan", now: Date()) } throws: { error in
            guard let error = error as? LockError, let holder = error.holder else { return false }
            return holder.operation == "apply" && holder.pid == getpid() && error.message.contains("lease 300s")
        }
        await first.release()
        #expect(try !setup.fixture.isLocked())

        let stale = try await setup.backend("c").lock(operation: "apply", now: Date())
        // another run's lock put in its place (as a takeover would), then the first holder lets go of its own
        try OutsideActor.run("""
            s3.put_object(Bucket='\(setup.fixture.bucket)', Key='\(setup.fixture.lockKey)', Body=json.dumps({"holder": {"id": "other",
                "operation": "apply", "who": "someone", "host": "elsewhere", "pid": 1, "created": "2026-01-01T00:00:00Z"},
                "leaseSeconds": 300, "renewals": 0}).encode())
            """, region: setup.fixture.region)
        await stale.release()
        #expect(try setup.fixture.isLocked(), "the other run's lock is still there")

        // an unreadable lock object is reported as such, never taken
        try OutsideActor.run("s3.put_object(Bucket='\(setup.fixture.bucket)', Key='\(setup.fixture.lockKey)', Body=b'')",
                             region: setup.fixture.region)
        await #expect { _ = try await setup.backend("d").lock(operation: "apply", now: Date()) } throws: { error in
            (error as? LockError)?.message.contains("cannot be read") == true
        }
    }

    @Test("a held lock is renewed: past its lease it is still held, and only its release frees it")
    func renewedWhileHeld() async throws {
        let setup = try Setup(prefix: "rn")
        defer { setup.fixture.stack.remove() }
        var short = setup.settings
        short.lockLeaseSeconds = 10
        let held = try await setup.backend("a", settings: short).lock(operation: "apply", now: Date())
        try await Task.sleep(nanoseconds: 12_000_000_000)
        await #expect { _ = try await setup.backend("b", settings: short).lock(operation: "plan", now: Date()) } throws: { error in
            (error as? LockError)?.holder?.operation == "apply"
        }
        await held.release()
        let next = try await setup.backend("c", settings: short).lock(operation: "plan", now: Date())
        #expect(next.warning == nil, "a released lock is taken without a takeover")
        await next.release()
    }

    @Test("a snapshot copied to another state's key does not open there: its data key is bound to the state it was sealed for")
    func boundToItsState() async throws {
        let setup = try Setup(prefix: "bd")
        defer { setup.fixture.stack.remove() }
        try await setup.backend("a").write(setup.state("original"))
        var elsewhere = setup.settings
        elsewhere.key = setup.settings.key + "-copy"
        try OutsideActor.run("""
            s3.copy_object(Bucket='\(setup.fixture.bucket)', Key='\(elsewhere.key)', CopySource={'Bucket': '\(setup.fixture.bucket)', 'Key': '\(setup.settings.key)'})
            """, region: setup.fixture.region)
        await #expect { _ = try await setup.backend("b", settings: elsewhere).load() } throws: { error in
            (error as? SealError)?.kind == .tampered
        }
    }
}
