import Foundation
import Testing
@testable import Plan
import Stack

/// The state file: 0600, atomic replacement with a backup, a checksum that catches any edit, one writer at a time.
@Suite("state store and lock", .serialized)
struct StateStoreTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-state-\(UUID().uuidString)").path
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: directory) }

    func sampleState() -> State {
        var state = State(stack: "acme", account: "123456789012", region: "eu-west-1", lineage: "lin-1")
        state.record(ResourceState(address: ResourceAddress("network.vpc")!, type: "aws.ec2.vpc", id: "vpc-1",
                                   attributes: ["cidr_block": .string("10.0.0.0/16"), "id": .string("vpc-1"), "pending": .unknown]))
        state.serial = 1
        return state
    }

    @Test("round trips, with mode 0600 and the previous state kept as a backup")
    func roundTrip() throws {
        defer { cleanup() }
        let store = StateStore(path: "\(directory)/.deploy/acme.state.json")
        #expect(try store.load() == nil)
        var state = sampleState()
        try store.write(state)
        let loaded = try #require(try store.load())
        #expect(loaded.resources == state.resources)
        #expect(loaded.checksum?.hasPrefix("sha256:") == true)
        let mode = try FileManager.default.attributesOfItem(atPath: store.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        state.serial = 2
        try store.write(state)
        #expect(try store.load()?.serial == 2)
        let backup = try StateStore.decode(try Data(contentsOf: URL(fileURLWithPath: store.backupPath)), path: store.backupPath)
        #expect(backup.serial == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/.deploy").filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("an edited or damaged state is refused, naming the backup only where one was kept")
    func tamper() throws {
        defer { cleanup() }
        let store = StateStore(path: "\(directory)/s.json")
        try store.write(sampleState())
        try "{ not json".write(toFile: store.path, atomically: false, encoding: .utf8)
        #expect { try store.load() } throws: { error in
            "\(error)".contains("no earlier state was kept") && !"\(error)".contains(".backup")
        }
        try store.write(sampleState())
        try store.write(sampleState())
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
        try text.replacingOccurrences(of: "vpc-1", with: "vpc-2").write(toFile: store.path, atomically: false, encoding: .utf8)
        #expect { try store.load() } throws: { error in
            guard let error = error as? StateError else { return false }
            return error.kind == .corrupt && error.description.contains("checksum does not match") && error.description.contains(".backup")
        }
        try "{ not json".write(toFile: store.path, atomically: false, encoding: .utf8)
        #expect { try store.load() } throws: { ($0 as? StateError)?.kind == .corrupt }
    }

    @Test("a state for another stack or account is refused")
    func wrongStack() async throws {
        defer { cleanup() }
        let store = StateStore(path: "\(directory)/s.json")
        try store.write(sampleState())
        let other = try StackFile.parse("{name: 'other', account: '123456789012', region: 'eu-west-1'}", file: "o.json5")
        await #expect { try await store.load(for: other) } throws: { ($0 as? StateError)?.kind == .wrongStack }
        let otherAccount = try StackFile.parse("{name: 'acme', account: '999999999999', region: 'eu-west-1'}", file: "o.json5")
        await #expect { try await store.load(for: otherAccount) } throws: { ($0 as? StateError)?.kind == .wrongStack }
    }

    @Test("a second run cannot take a held lock and is told who holds it")
    func lockHeld() throws {
        defer { cleanup() }
        let statePath = "\(directory)/s.json"
        let lock = try StateLock.acquire(statePath: statePath, operation: "apply")
        #expect(lock.warning == nil)
        // the same pid on the same host looks like another live run: refused
        var holder = lock.info
        holder.pid = getppid()
        holder.id = "other-run"
        try JSONEncoder().encode(holder).write(to: URL(fileURLWithPath: StateLock.lockPath(forState: statePath)))
        #expect { try StateLock.acquire(statePath: statePath, operation: "plan") } throws: { error in
            guard let error = error as? LockError else { return false }
            return error.holder?.id == "other-run" && error.message.contains("deploy unlock --state \(statePath) other-run")
                && error.message.contains("pid \(getppid())") && error.message.contains("for apply since")
        }
        #expect(throws: LockError.self) { try StateLock.forceUnlock(statePath: statePath, id: "wrong-id") }
        #expect(try StateLock.forceUnlock(statePath: statePath, id: "other-run")?.id == "other-run")
        #expect(StateLock.holder(statePath: statePath) == nil)
        let again = try StateLock.acquire(statePath: statePath, operation: "plan")
        again.release()
        #expect(StateLock.holder(statePath: statePath) == nil)
    }

    @Test("a lock left by a dead process on this host is taken over with a warning; another host's is not")
    func staleLock() throws {
        defer { cleanup() }
        let statePath = "\(directory)/s.json"
        let lock = try StateLock.acquire(statePath: statePath, operation: "apply")
        var dead = lock.info
        dead.pid = Self.deadPID()
        try JSONEncoder().encode(dead).write(to: URL(fileURLWithPath: lock.path))
        let taken = try StateLock.acquire(statePath: statePath, operation: "plan")
        #expect(taken.warning?.contains("took over a stale state lock: pid \(dead.pid)") == true)
        var remote = taken.info
        remote.host = "build-agent-7"
        remote.pid = dead.pid
        try JSONEncoder().encode(remote).write(to: URL(fileURLWithPath: lock.path))
        #expect { try StateLock.acquire(statePath: statePath, operation: "plan") } throws: { error in
            (error as? LockError)?.message.contains("on build-agent-7") == true
        }
    }

    @Test("a lock is never seen empty or half-written while another run takes it")
    func atomicLock() async throws {
        defer { cleanup() }
        let statePath = "\(directory)/s.json"
        let lockPath = StateLock.lockPath(forState: statePath)
        try AtomicFile.makeDirectory(directory)
        let done = ManagedFlag()
        let reader = Task.detached {
            var seen = 0, bad = 0
            while !done.value {
                guard let data = FileManager.default.contents(atPath: lockPath) else { continue }
                seen += 1
                if (try? JSONDecoder().decode(LockInfo.self, from: data)) == nil { bad += 1 }
            }
            return (seen, bad)
        }
        for _ in 0..<2_000 {
            let lock = try StateLock.acquire(statePath: statePath, operation: "plan")
            lock.release()
        }
        done.set()
        let (seen, bad) = await reader.value
        #expect(bad == 0, "\(bad) of \(seen) reads found an empty or partial lock")
    }

    @Test("an empty or garbled lock is reported with a hint that works, and removed by unlock --force alone",
          arguments: ["", "{\"id\": \"abc", "\u{0}\u{0}\u{0}"])
    func unreadableLock(_ content: String) throws {
        defer { cleanup() }
        let statePath = "\(directory)/s.json"
        try AtomicFile.makeDirectory(directory)
        try content.write(toFile: StateLock.lockPath(forState: statePath), atomically: false, encoding: .utf8)
        #expect { try StateLock.acquire(statePath: statePath, operation: "plan") } throws: { error in
            (error as? LockError)?.message.contains("cannot be read (empty or damaged); if no run is active, remove it with: "
                                                    + "deploy unlock --force --state \(statePath)") == true
        }
        #expect { try StateLock.forceUnlock(statePath: statePath, id: "abc") } throws: { error in
            (error as? LockError)?.message.contains("remove it with --force and no id") == true
        }
        #expect(try StateLock.forceUnlock(statePath: statePath, id: nil) == nil)
        #expect(!FileManager.default.fileExists(atPath: StateLock.lockPath(forState: statePath)))
        let lock = try StateLock.acquire(statePath: statePath, operation: "plan")
        #expect { try StateLock.forceUnlock(statePath: statePath, id: nil) } throws: { error in
            (error as? LockError)?.message.contains("give its id (\(lock.info.id))") == true
        }
        lock.release()
    }

    final class ManagedFlag: @unchecked Sendable {
        // guarded by the lock; the reader polls it from another thread
        private let lock = NSLock()
        private var flag = false
        var value: Bool { lock.withLock { flag } }
        func set() { lock.withLock { flag = true } }
    }

    /// A pid that certainly belongs to no running process: a child that has exited and been reaped.
    static func deadPID() -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try? process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
