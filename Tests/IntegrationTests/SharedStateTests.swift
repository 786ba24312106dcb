import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A state shared in the customer's bucket, run by real `deploy` processes against the local endpoint with IAM
/// enforced: sealed, chained and locked as the issue asks, and every attack on it (an old version put back, a
/// forged snapshot, a deleted state, a dead holder's lock) refused or survived.
@Suite("shared state in the customer's bucket", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct SharedStateTests {
    struct Version: Decodable {
        var versionID: String
        var serial: Int?
        var followsPrevious: Bool?
        var deleted: Bool
        var latest: Bool
    }

    static func history(_ fixture: SharedStateFixture, _ environment: [String: String]) throws -> [Version] {
        let listed = try fixture.deploy(["state", "history", "--limit", "1000", "--output", "json"], environment)
        guard listed.status == 0 else { throw OutsideActor.Failure(description: "history: \(listed.stderr)") }
        return try JSONDecoder().decode([Version].self, from: Data(listed.stdout.utf8))
    }

    /// Every version but the oldest names the one before it, and serials only grow.
    static func expectChained(_ fixture: SharedStateFixture, _ environment: [String: String], _ comment: Comment) throws {
        let versions = try history(fixture, environment).filter { !$0.deleted }
        let listed = versions.map { "\($0.serial ?? -1):\($0.followsPrevious.map(String.init) ?? "nil")" }.joined(separator: " ")
        #expect(!versions.isEmpty, comment)
        #expect(versions.allSatisfy { $0.followsPrevious == true }, "\(comment): \(listed)")
        let serials = versions.compactMap(\.serial)
        #expect(serials == serials.sorted(by: >) && Set(serials).count == serials.count, "\(comment): \(listed)")
    }

    @Test("applied under the printed policy: sealed in the bucket, chained, no lock left; an old version put back, a forged snapshot and a deleted state are refused; restore repairs")
    func sealedChainedAndGuarded() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try SharedStateFixture(prefix: "sh")
        defer { fixture.remove(endpoint.adminEnvironment) }
        let permissions = try fixture.deploy(["permissions", "--resources", "any"], endpoint.keyEnvironment)
        #expect(permissions.status == 0, "\(permissions.stderr)")
        #expect(permissions.stdout.contains("DeploySharedStateMarkers") && permissions.stdout.contains("DeployKeepsSharedStateHistory"))
        let environment = try LifecycleTests.deployer(policy: permissions.stdout, name: "\(fixture.name)-deployer", endpoint: endpoint)

        let apply = try fixture.deploy(["apply", "--auto-approve"], environment)
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region) == fixture.stack.expectedCensus())
        let sealed = try #require(try fixture.stateObject())
        #expect(sealed.contains("\"format\":\"deploy.sealed-state\\/1\"") || sealed.contains("deploy.sealed-state/1"))
        #expect(!sealed.contains(fixture.name + "-node") && !sealed.contains("vpc-"), "the state is not in the bucket in clear")
        #expect(!FileManager.default.fileExists(atPath: fixture.stack.statePath), "nothing was written locally")
        #expect(try !fixture.isLocked(), "the lock is released")
        try Self.expectChained(fixture, environment, "after the apply")
        let clean = try fixture.deploy(["plan", "--detailed-exitcode"], environment)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        // the printed policy lets the deploying identity write markers, never delete them or the state's versions
        let deleting = try DeployProcess.run(["python3", "-c", """
            import boto3, os, sys
            s3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='\(fixture.region)')
            failures = 0
            for key in ['\(fixture.key).serials/000000000001', '\(fixture.key)']:
                try:
                    s3.delete_object(Bucket='\(fixture.bucket)', Key=key)
                except Exception as error:
                    failures += 'AccessDenied' in str(error)
            print(failures)
            """], environment: environment, executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(deleting.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "\(deleting.stdout)\(deleting.stderr)")

        // an older version copied over the current one: a rollback
        let versions = try fixture.versions()
        let newest = versions[0]
        try OutsideActor.run("""
            s3.copy_object(Bucket='\(fixture.bucket)', Key='\(fixture.key)', CopySource={'Bucket': '\(fixture.bucket)', 'Key': '\(fixture.key)', 'VersionId': '\(versions[3])'})
            """, region: fixture.region)
        let rolledBack = try fixture.deploy(["plan"], environment)
        #expect(rolledBack.status == 1 && rolledBack.stderr.contains("older than snapshot"), "\(rolledBack.stderr)")
        let elsewhere = fixture.stack.directory.appendingPathComponent("other-machine").path
        let freshMachine = try DeployProcess.run(["plan", "--stack", fixture.stack.stackPath],
                                                 environment: fixture.environment(environment, cache: elsewhere))
        #expect(freshMachine.status == 1 && freshMachine.stderr.contains("does not follow"),
                "a machine that never saw the state still refuses it: \(freshMachine.stderr)")
        #expect(try Self.history(fixture, environment).first?.followsPrevious == false)
        let restored = try fixture.deploy(["state", "restore", newest], environment)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try fixture.deploy(["plan", "--detailed-exitcode"], environment).status == 0, "the restored state is the newest")
        let afterRestore = try Self.history(fixture, environment)
        #expect(afterRestore.map(\.followsPrevious).prefix(3) == [true, false, true], "the copy stays in the history as the break it was")

        // a snapshot whose serial was raised by hand: its tag no longer matches
        try OutsideActor.run("""
            body = json.loads(s3.get_object(Bucket='\(fixture.bucket)', Key='\(fixture.key)')['Body'].read())
            body['serial'] += 5
            s3.put_object(Bucket='\(fixture.bucket)', Key='\(fixture.key)', Body=json.dumps(body, sort_keys=True).encode())
            """, region: fixture.region)
        let forged = try fixture.deploy(["plan"], environment)
        #expect(forged.status == 1 && forged.stderr.contains("does not open with its data key"), "\(forged.stderr)")
        #expect(try fixture.deploy(["state", "restore", fixture.versions()[1]], environment).status == 0)

        // the first snapshot put back, then two consecutive old ones (each naming the one before it), as a machine
        // that never saw the state reads them
        let oldest = try #require(try fixture.versions().last)
        for (replay, refusal) in [([oldest], "does not follow"),
                                  (Array(try fixture.versions().suffix(6).prefix(2).reversed()), "says a newer one was written")] {
            for version in replay {
                try OutsideActor.run("""
                    s3.copy_object(Bucket='\(fixture.bucket)', Key='\(fixture.key)', CopySource={'Bucket': '\(fixture.bucket)', 'Key': '\(fixture.key)', 'VersionId': '\(version)'})
                    """, region: fixture.region)
            }
            let fresh = fixture.stack.directory.appendingPathComponent("machine-\(UUID().uuidString)").path
            let replayed = try DeployProcess.run(["plan", "--stack", fixture.stack.stackPath], environment: fixture.environment(environment, cache: fresh))
            #expect(replayed.status == 1 && replayed.stderr.contains(refusal), "\(replay.count) replayed: \(replayed.stderr)")
            let good = try #require(try Self.history(fixture, environment).first { $0.serial != nil && $0.followsPrevious == true
                && !$0.deleted && $0.serial! > 10 }?.versionID)
            #expect(try fixture.deploy(["state", "restore", good], environment).status == 0)
        }

        // the state deleted: a delete marker on top, seen from this machine and from one that never saw it
        try OutsideActor.run("s3.delete_object(Bucket='\(fixture.bucket)', Key='\(fixture.key)')", region: fixture.region)
        let deleted = try fixture.deploy(["plan"], environment)
        #expect(deleted.status == 1 && deleted.stderr.contains("holds no state, but snapshot"), "\(deleted.stderr)")
        let deletedFresh = try DeployProcess.run(["plan", "--stack", fixture.stack.stackPath],
                                                 environment: fixture.environment(environment, cache: elsewhere + "-2"))
        #expect(deletedFresh.status == 1 && deletedFresh.stderr.contains("it was deleted, not never written"), "\(deletedFresh.stderr)")
        let last = try #require(try Self.history(fixture, environment).first { !$0.deleted }?.versionID)
        #expect(try fixture.deploy(["state", "restore", last], environment).status == 0)
        let repaired = try fixture.deploy(["plan", "--detailed-exitcode"], environment)
        #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
    }

    @Test("a second run fails naming the holder; a killed holder's lock is taken over only once its lease ran out, and its apply is finished")
    func contentionAndTakeover() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try SharedStateFixture(prefix: "lk", lease: 10)
        defer { fixture.remove(endpoint.adminEnvironment) }
        let environment = endpoint.adminEnvironment
        // every call of the first run 150 ms slower, so that it surely holds the lock while the second starts
        let proxy = try FaultProxy(target: endpoint.url, latencyMS: 150)
        var slow = fixture.environment(environment)
        slow["AWS_ENDPOINT_URL"] = proxy.url
        let holder = Process()
        holder.executableURL = DeployProcess.binary
        holder.arguments = ["apply", "--auto-approve", "--phase", "network", "--stack", fixture.stack.stackPath]
        holder.environment = slow
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }

        var refused: DeployProcess.Result?
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, holder.isRunning {
            let attempt = try fixture.deploy(["plan"], environment)
            if attempt.stderr.contains("is locked by") {
                refused = attempt
                break
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let held = try #require(refused, "a plan ran into the apply's lock")
        #expect(held.status == 1)
        #expect(held.stderr.contains("pid \(holder.processIdentifier), for apply"), "\(held.stderr)")
        #expect(held.stderr.contains("lease 10s"))

        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let stillHeld = try fixture.deploy(["plan"], environment)
        #expect(stillHeld.status == 1 && stillHeld.stderr.contains("is locked by"), "a lease that has not run out is honoured")
        let started = Date()
        let resumed = try fixture.deploy(["apply", "--auto-approve", "--phase", "network", "--lock-timeout", "60"], environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("took over the lock on \(fixture.url)") && resumed.stderr.contains("past its 10s lease"), "\(resumed.stderr)")
        #expect(Date().timeIntervalSince(started) > 3, "the run waited for the lease")
        let network = try OutsideActor.census(stack: fixture.name, region: fixture.region)
        let subnets = try fixture.stack.expectedCensus()["aws.ec2.subnet"]
        #expect(network["aws.ec2.vpc"] == 1 && network["aws.ec2.subnet"] == subnets, "exactly one of each: \(network)")
        try Self.expectChained(fixture, environment, "after a killed apply and its takeover")
    }

    @Test("a snapshot whose marker is missing (its run died between them): an old version put back meanwhile is refused, and the next writer closes the gap")
    func markerGap() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try SharedStateFixture(prefix: "km")
        defer { fixture.remove(endpoint.adminEnvironment) }
        let environment = endpoint.adminEnvironment
        try fixture.applied(phase: "network", environment)
        #expect(try fixture.deploy(["taint", "network.vpc"], environment).status == 0)
        let versions = try fixture.versions()
        let serial = try #require(try Self.history(fixture, environment).first?.serial)
        // the bucket as a run leaves it that died after writing the taint's snapshot and before its marker (the outside
        // admin may delete what the deploying identity may not)
        try OutsideActor.run("""
            marker = '\(fixture.key).serials/\(String(format: "%012d", serial))'
            for v in s3.list_object_versions(Bucket='\(fixture.bucket)', Prefix='teams').get('Versions', []):
                if v['Key'] == marker: s3.delete_object(Bucket='\(fixture.bucket)', Key=marker, VersionId=v['VersionId'])
            """, region: fixture.region)
        try OutsideActor.run("""
            s3.copy_object(Bucket='\(fixture.bucket)', Key='\(fixture.key)', CopySource={'Bucket': '\(fixture.bucket)', 'Key': '\(fixture.key)', 'VersionId': '\(versions[1])'})
            """, region: fixture.region)
        let fresh = fixture.stack.directory.appendingPathComponent("machine-fresh").path
        let replayed = try DeployProcess.run(["state", "list", "--stack", fixture.stack.stackPath], environment: fixture.environment(environment, cache: fresh))
        #expect(replayed.status == 1 && replayed.stderr.contains("does not follow"), "\(replayed.stderr)")
        #expect(try fixture.deploy(["state", "restore", versions[0]], environment).status == 0)
        let markers = try OutsideActor.run("""
            listed = s3.list_objects_v2(Bucket='\(fixture.bucket)', Prefix='teams')
            print(sorted(int(o['Key'].rsplit('/', 1)[1]) for o in listed.get('Contents', []) if '.serials/' in o['Key']))
            """, region: fixture.region)
        #expect(markers.trimmingCharacters(in: .whitespacesAndNewlines) == "\(Array(1...(serial + 1)))", "no gap is left: \(markers)")
        let listed = try fixture.deploy(["state", "show", "network.vpc"], environment)
        #expect(listed.status == 0 && listed.stdout.contains("tainted"), "the killed taint is what was restored: \(listed.stdout)")
    }

    @Test("a lock left by another machine is reported with a command that removes it, by its id only")
    func unlockByID() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try SharedStateFixture(prefix: "ul", declared: false)
        defer { fixture.stack.remove() }
        let environment = endpoint.adminEnvironment
        try fixture.plantLock(id: "lock-42", who: "alice", host: "ci-runner-3", pid: 4242)
        let held = try fixture.deploy(["plan"], environment)
        #expect(held.status == 1 && held.stderr.contains("locked by alice on ci-runner-3, pid 4242, for apply"), "\(held.stderr)")
        let hint = try #require(held.stderr.components(separatedBy: "if that run is gone: ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(hint.hasPrefix("deploy unlock --stack ") && hint.hasSuffix(" lock-42") && hint.contains("--backend \(fixture.url)"), "\(hint)")
        let wrong = try fixture.deploy(["unlock", "lock-41"], environment)
        #expect(wrong.status == 1 && wrong.stderr.contains("has id lock-42, not lock-41"), "\(wrong.stderr)")
        #expect(try fixture.isLocked())
        // the hint works exactly as printed
        let words = hint.components(separatedBy: " ").dropFirst().map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
        let unlocked = try DeployProcess.run(Array(words), environment: fixture.environment(environment))
        #expect(unlocked.status == 0 && unlocked.stdout.contains("Removed the lock lock-42"), "\(unlocked.stderr)")
        #expect(try !fixture.isLocked())
        #expect(try fixture.deploy(["plan"], environment).status == 0)
    }

    @Test("interrupted while it refreshes, before it changes anything, a run gives its shared lock back and exits 130")
    func interruptedBeforeChanges() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try SharedStateFixture(prefix: "in")
        defer { fixture.remove(endpoint.adminEnvironment) }
        try fixture.applied(phase: "network", endpoint.adminEnvironment)
        // every call 200 ms slower: the refresh of the network phase takes seconds, the lock held all along
        let proxy = try FaultProxy(target: endpoint.url, latencyMS: 200)
        var slow = fixture.environment(endpoint.adminEnvironment)
        slow["AWS_ENDPOINT_URL"] = proxy.url
        let planning = Process()
        planning.executableURL = DeployProcess.binary
        planning.arguments = ["plan", "--stack", fixture.stack.stackPath]
        planning.environment = slow
        planning.standardOutput = FileHandle.nullDevice
        planning.standardError = FileHandle.nullDevice
        try planning.run()
        defer { if planning.isRunning { kill(planning.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while try !fixture.isLocked(), Date() < deadline, planning.isRunning { Thread.sleep(forTimeInterval: 0.1) }
        #expect(try fixture.isLocked(), "the plan holds the lock")
        kill(planning.processIdentifier, SIGINT)
        planning.waitUntilExit()
        #expect(planning.terminationReason == .exit && planning.terminationStatus == 130)
        #expect(try !fixture.isLocked(), "the lock was given back, not left to run out its lease")

        // a state edit, once it holds the lock, is not cut short: it finishes and says so
        let tainting = Process()
        tainting.executableURL = DeployProcess.binary
        tainting.arguments = ["taint", "network.vpc", "--stack", fixture.stack.stackPath]
        tainting.environment = slow
        tainting.standardOutput = FileHandle.nullDevice
        tainting.standardError = FileHandle.nullDevice
        try tainting.run()
        defer { if tainting.isRunning { kill(tainting.processIdentifier, SIGKILL) } }
        while try !fixture.isLocked(), Date() < deadline.addingTimeInterval(30), tainting.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        kill(tainting.processIdentifier, SIGINT)
        tainting.waitUntilExit()
        #expect(tainting.terminationReason == .exit && tainting.terminationStatus == 0, "the edit finished: \(tainting.terminationStatus)")
        #expect(try fixture.deploy(["state", "show", "network.vpc"], endpoint.adminEnvironment).stdout.contains("tainted"))
        #expect(try !fixture.isLocked())
    }

    @Test("writes whose answers were lost are retried, and the lock's and the state's own 412s recognised as ours")
    func lostAnswers() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try SharedStateFixture(prefix: "la")
        defer { fixture.remove(endpoint.adminEnvironment) }
        let proxy = try FaultProxy(target: endpoint.url, dropAfter: 0.25, seed: 11)
        var environment = endpoint.adminEnvironment
        environment["AWS_ENDPOINT_URL"] = proxy.url
        let apply = try fixture.deploy(["apply", "--auto-approve", "--phase", "network"], environment)
        #expect(apply.status == 0, "\(apply.stderr)")
        var droppedStateWrites = 0
        for line in try String(contentsOfFile: proxy.logPath, encoding: .utf8).split(separator: "\n") {
            let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let path = entry?["path"] as? String ?? ""
            if entry?["fault"] as? String == "drop-after", entry?["method"] as? String == "PUT", path.contains(fixture.key) { droppedStateWrites += 1 }
        }
        #expect(droppedStateWrites > 0, "some state or lock writes reached the endpoint and lost their answer")
        #expect(try !fixture.isLocked())
        try Self.expectChained(fixture, endpoint.adminEnvironment, "after lost answers")
        let clean = try fixture.deploy(["plan", "--detailed-exitcode", "--output", "json"], endpoint.adminEnvironment)
        #expect(clean.status != 1, "\(clean.stderr)")
    }

    @Test("a local state pushed to the bucket and pulled back is the same state; a key that cannot encrypt writes nothing")
    func migration() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try SharedStateFixture(prefix: "mg", declared: false)
        let environment = fixture.environment(endpoint.adminEnvironment)
        defer {
            _ = try? DeployProcess.run(["destroy", "--auto-approve", "--force", "--stack", fixture.stack.stackPath, "--state",
                                        fixture.stack.statePath + ".pulled"], environment: environment)
            fixture.stack.remove()
        }
        let local = try DeployProcess.run(["apply", "--auto-approve", "--phase", "network", "--stack", fixture.stack.stackPath, "--state",
                                           fixture.stack.statePath], environment: environment)
        #expect(local.status == 0, "\(local.stderr)")
        let original = try String(contentsOfFile: fixture.stack.statePath, encoding: .utf8)

        let noKey = try DeployProcess.run(["state", "push", fixture.stack.statePath, "--stack", fixture.stack.stackPath, "--backend", fixture.url,
                                           "--backend-kms-key", "alias/\(fixture.name)-missing"], environment: environment)
        #expect(noKey.status == 1 && noKey.stderr.contains("gave no data key") && noKey.stderr.contains("nothing was written"), "\(noKey.stderr)")
        #expect(try fixture.stateObject() == nil, "no empty and no clear-text state")
        #expect(FileManager.default.fileExists(atPath: fixture.stack.statePath), "the local state stays where it was")
        #expect(try !fixture.isLocked())

        let push = try fixture.deploy(["state", "push", fixture.stack.statePath], environment)
        #expect(push.status == 0, "\(push.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.stack.statePath))
        #expect(FileManager.default.fileExists(atPath: fixture.stack.statePath + ".pushed"))
        let second = try fixture.deploy(["state", "push", fixture.stack.statePath + ".pushed"], environment)
        #expect(second.status == 2 && second.stderr.contains("already holds a state"), "without --force, a push replaces nothing: \(second.stderr)")
        let listedShared = try fixture.deploy(["state", "list"], environment)
        let listedLocal = try DeployProcess.run(["state", "list", "--stack", fixture.stack.stackPath, "--state", fixture.stack.statePath + ".pushed"],
                                                environment: environment)
        #expect(listedShared.status == 0 && listedShared.stdout == listedLocal.stdout && !listedShared.stdout.isEmpty)
        let forced = try fixture.deploy(["state", "push", "--force", fixture.stack.statePath + ".pushed"], environment)
        #expect(forced.status == 0 && FileManager.default.fileExists(atPath: fixture.stack.statePath + ".pushed.pushed"), "\(forced.stderr)")

        let pulledPath = fixture.stack.statePath + ".pulled"
        let pull = try fixture.deploy(["state", "pull", pulledPath], environment)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(try String(contentsOfFile: pulledPath, encoding: .utf8) == original, "byte for byte the state that was pushed")
        let again = try fixture.deploy(["state", "pull", pulledPath], environment)
        #expect(again.status == 2 && again.stderr.contains("a local state exists"), "\(again.stderr)")
        let planLocal = try DeployProcess.run(["plan", "--stack", fixture.stack.stackPath, "--state", pulledPath], environment: environment)
        #expect(planLocal.status == 0 && planLocal.stdout.contains("\nnetwork (") && planLocal.stdout.contains(" unchanged)\n  no changes"), "\(planLocal.stdout)\(planLocal.stderr)")
    }

    typealias KillPoint = CrashTests.KillPoint

    static let killPoints = [
        KillPoint(label: "data key made, snapshot not yet written", line: "kms GenerateDataKey", occurrence: 4),
        KillPoint(label: "snapshot written, its answer just read", line: "s3 PutObject", occurrence: 6),
    ]

    @Test("killed at a step of a state write, the next run finds a whole state and converges", arguments: killPoints)
    func killedMidWrite(_ point: KillPoint) throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try SharedStateFixture(prefix: "kw", lease: 10)
        defer { fixture.remove(endpoint.adminEnvironment) }
        let environment = fixture.environment(endpoint.adminEnvironment)
        var seen = 0
        let arguments = ["--debug", "apply", "--auto-approve", "--phase", "network", "--stack", fixture.stack.stackPath]
        let (killed, output, _) = try DeployProcess.runKilling(arguments, environment: environment, delay: point.delay) { _, line in
            guard let marker = point.line, line.contains(marker), !line.contains(".lock"), line.contains(" -> 200") else { return false }
            seen += 1
            return seen == point.occurrence
        }
        if point.delay == nil { #expect(killed, "the kill point was reached:\n\(output.suffix(2000))") }
        let state = try fixture.deploy(["state", "list"], endpoint.adminEnvironment)
        #expect(state.status == 0 || state.stderr.contains("has no state yet"), "the state is whole: \(state.stderr)")
        // the dead run's lock removed by its id, as the refusal prints it (waiting out the lease is the takeover test's)
        let refused = try fixture.deploy(["plan"], endpoint.adminEnvironment)
        if refused.stderr.contains("is locked by"),
           let id = refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: " ").last {
            #expect(try fixture.deploy(["unlock", id], endpoint.adminEnvironment).status == 0)
        }
        let resumed = try fixture.deploy(["apply", "--auto-approve", "--phase", "network"], endpoint.adminEnvironment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let plan = try fixture.deploy(["plan", "--output", "json"], endpoint.adminEnvironment)
        #expect(plan.status == 0, "\(plan.stderr)")
        try Self.expectChained(fixture, endpoint.adminEnvironment, "after a kill at \(point.label)")
        let network = try OutsideActor.census(stack: fixture.name, region: fixture.region)
        let subnets = try fixture.stack.expectedCensus()["aws.ec2.subnet"]
        #expect(network["aws.ec2.vpc"] == 1 && network["aws.ec2.subnet"] == subnets,
                "exactly one of each after a kill at \(point.label): \(network)")
    }

    @Test("four runs editing one state at once are serialised by the lock: every edit lands, none is lost")
    func racingEditsSerialised() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try SharedStateFixture(prefix: "rc")
        defer { fixture.remove(endpoint.adminEnvironment) }
        try fixture.applied(phase: "network", endpoint.adminEnvironment)
        let addresses = ["network.vpc", "network.private_subnet[0]", "network.private_subnet[1]", "network.flow_log_group"]
        let environment = fixture.environment(endpoint.adminEnvironment)
        let processes = try addresses.map { address -> Process in
            let process = Process()
            process.executableURL = DeployProcess.binary
            process.arguments = ["taint", address, "--lock-timeout", "60", "--stack", fixture.stack.stackPath]
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in processes { process.waitUntilExit() }
        #expect(processes.allSatisfy { $0.terminationStatus == 0 })
        let listed = try fixture.deploy(["state", "list", "--output", "json"], endpoint.adminEnvironment)
        let resources = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        let tainted = Set(resources.filter { $0["status"] as? String == "tainted" }.compactMap { $0["address"] as? String })
        #expect(tainted == Set(addresses), "\(listed.stdout)")
        try Self.expectChained(fixture, endpoint.adminEnvironment, "after racing edits")
    }
}
