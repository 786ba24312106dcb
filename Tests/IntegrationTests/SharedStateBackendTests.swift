import AWS
import Foundation
import Plan
import Stack
import Synchronization
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

        /// The settings with the shortest lease a stack may set, for tests that watch a lease run.
        var shortLease: RemoteStateSettings {
            var short = settings
            short.lockLeaseSeconds = 10
            return short
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
        try setup.fixture.plantLock(id: "other")
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
        let short = setup.shortLease
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

    @Test("a snapshot sealed under another KMS key than the state's is refused, whatever key it names")
    func forgedUnderAnotherKey() async throws {
        let setup = try Setup(prefix: "fk")
        defer { setup.fixture.stack.remove() }
        // a forger who may write the bucket, with a key of their own that answers Decrypt with their data key
        let forgerAlias = "alias/forger-\(setup.fixture.name)"
        try OutsideActor.run("kms.create_alias(AliasName='\(forgerAlias)', TargetKeyId=kms.create_key()['KeyMetadata']['KeyId'])",
                             region: setup.fixture.region)
        let backend = setup.backend("victim")
        let regional = setup.client.inRegion(setup.settings.region)
        let dataKey = try await KMS(client: regional).generateDataKey(keyID: forgerAlias, context: backend.encryptionContext)
        let forged = try SealedSnapshot.seal(Array(try StateStore.encode(setup.state("forged"), path: "forged")), after: nil,
                                             dataKey: .init(plaintext: dataKey.plaintext, encrypted: dataKey.ciphertextBlob, keyId: dataKey.keyID),
                                             context: backend.encryptionContext)
        _ = try await S3(client: regional).putObject(bucket: setup.settings.bucket, key: setup.settings.key, body: forged.stored, condition: .absent)
        var opened: State?
        await #expect(throws: (any Error).self) { opened = try await backend.load() }
        #expect(opened == nil, "the forged state was not taken")
    }

    @Test("a lock taken by another run is lost: its holder hears of it and stops renewing")
    func lostLock() async throws {
        let setup = try Setup(prefix: "ls")
        defer { setup.fixture.stack.remove() }
        let held = try await setup.backend("a", settings: setup.shortLease).lock(operation: "apply", now: Date())
        let heard = Mutex(false)
        held.onLost { heard.withLock { $0 = true } }
        try setup.fixture.plantLock(id: "other", lease: 10)
        // the next renewal, a third of the lease after the last, finds another's lock
        let deadline = Date().addingTimeInterval(10)
        while !heard.withLock({ $0 }), Date() < deadline { try await Task.sleep(nanoseconds: 200_000_000) }
        #expect(heard.withLock { $0 }, "the holder was told")
        await held.release()
        #expect(try setup.fixture.isLocked(), "the other run's lock stays")
    }

    @Test("a planted lock (a lease below zero, a newest snapshot at the end of the range) is bounded and unconfirmed: no crash, no false rollback")
    func plantedLock() async throws {
        let setup = try Setup(prefix: "pl")
        defer { setup.fixture.stack.remove() }
        try await setup.backend("a").write(setup.state("first"))
        try setup.fixture.plantLock(id: "planted", lease: -5, newestSerial: "9223372036854775807")
        let backend = setup.backend("b")
        // a lease below the least a stack may set counts as that least: the planted lock is not taken over at once
        await #expect { _ = try await backend.lock(operation: "plan", now: Date()) } throws: { error in
            (error as? LockError)?.message.contains("lease 10s") == true
        }
        try await Task.sleep(nanoseconds: 11_000_000_000)
        let taken = try await backend.lock(operation: "plan", now: Date())
        #expect(taken.warning?.contains("took over the lock") == true)
        let state = try await backend.load()
        #expect(state?.outputs["marker"] == .string("first"), "the planted snapshot count is not believed")
        try await backend.write(setup.state("second"))
        await taken.release()
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
