import Foundation
import Hashing
import Testing
@testable import InferenceService

/// A keyed server opening a log on disk signs a start checkpoint over its head: each way someone without the key
/// could have rewritten the log while the server was down must be refused before anything is signed or written,
/// and a log a crash left behind must still open.
@Suite("audit log start check")
struct AuditStartCheckTests {
    typealias Fixture = AuditVerifierTests.Fixture

    struct Case: CustomStringConvertible, Sendable {
        var description: String
        /// A phrase the refusal must hold (with the file:line it names).
        var expected: String
        var change: @Sendable (Fixture) throws -> Void
    }

    static let cases: [Case] = [
        Case(description: "F1: a record edited, later checkpoint records and files removed, the chain renumbered and recomputed",
             expected: "more than the 4 its server checkpointed at") { fixture in
            try fixture.write(try AuditVerifierTests.stripCheckpoints(try fixture.lines(fixture.log), keepFirst: true, edit: 2), to: fixture.log)
            for name in try FileManager.default.contentsOfDirectory(atPath: fixture.checkpoints)
            where (AuditCheckpoint.seq(fileName: name) ?? 0) > 0 {
                try FileManager.default.removeItem(atPath: (fixture.checkpoints as NSString).appendingPathComponent(name))
            }
        },
        Case(description: "a log with no checkpoint at all", expected: "no checkpoint record") { fixture in
            try fixture.write(try AuditVerifierTests.stripCheckpoints(try fixture.lines(fixture.log), keepFirst: false, edit: 0), to: fixture.log)
            try FileManager.default.removeItem(atPath: fixture.checkpoints)
        },
        Case(description: "a record after the last checkpoint edited in place", expected: "record 15 was changed") { fixture in
            // a crash after record 15: the periodic checkpoint of 15 and the shutdown one never written
            var lines = Array(try fixture.lines(fixture.log).dropLast(2))
            lines[lines.count - 1] = lines[lines.count - 1].replacingOccurrences(of: "prompt 11", with: "prompt X")
            try fixture.write(lines, to: fixture.log)
            try fixture.removeCheckpointFiles([15, 16])
        },
        Case(description: "records after the shutdown checkpoint", expected: "follow the shutdown checkpoint") { fixture in
            var lines = try fixture.lines(fixture.log)
            let previous = try #require(try JSONSerialization.jsonObject(with: Data(lines[lines.count - 1].utf8)) as? [String: Any])["hash"] as? String
            lines.append(AuditVerifierTests.raw(seq: "18", previous: try #require(previous)).line)
            try fixture.write(lines, to: fixture.log)
        },
        Case(description: "the records before the last checkpoint rewritten, the checkpoint kept", expected: "were rewritten") { fixture in
            // record 15 and the periodic checkpoint record after it rehashed; the shutdown checkpoint left as it was
            var lines = try fixture.lines(fixture.log)
            lines[14] = lines[14].replacingOccurrences(of: "prompt 11", with: "prompt X")
            try fixture.write(try AuditVerifierTests.rechain(Array(lines.prefix(16)), from: 14) + [lines[16]], to: fixture.log)
        },
        Case(description: "a checkpoint record removed from the log, its file kept", expected: "checkpoint records were removed") { fixture in
            // a crash after record 15 (within the interval of the checkpoint of 10), and the directory holds a
            // checkpoint of record 13 the log no longer has
            try fixture.write(Array(try fixture.lines(fixture.log).dropLast(2)), to: fixture.log)
            try fixture.removeCheckpointFiles([15, 16])
            let directory = fixture.checkpoints as NSString
            try FileManager.default.copyItem(atPath: directory.appendingPathComponent(AuditCheckpoint.fileName(seq: 10)),
                                             toPath: directory.appendingPathComponent(AuditCheckpoint.fileName(seq: 13)))
        },
        Case(description: "a checkpoint signed by another key", expected: "signed by another key") { fixture in
            var lines = try fixture.lines(fixture.log)
            var fields = try AuditVerifierTests.fields(lines[lines.count - 1])
            let object = try #require(fields["checkpoint"] as? [String: Any])
            let original = try #require(AuditCheckpoint(object: object))
            fields["checkpoint"] = AuditCheckpoint.signed(.shutdown, seq: original.seq, head: original.head, interval: try #require(original.interval),
                                                          signer: Ed25519.PrivateKey.generate()).object
            lines[lines.count - 1] = try AuditVerifierTests.line(fields, previous: "").line
            try fixture.write(try AuditVerifierTests.rechain(lines, from: lines.count - 1), to: fixture.log)
        },
        Case(description: "a tail after a checkpoint of the older format, which does not sign its interval",
             expected: "did not sign its interval") { fixture in
            // a log an older server wrote: its checkpoint (v1) is genuine, a crash or a forgery follows it
            var lines = Array(try fixture.lines(fixture.log).prefix(15))
            var fields = try AuditVerifierTests.fields(lines[10])
            let object = try #require(fields["checkpoint"] as? [String: Any])
            var checkpoint = try #require(AuditCheckpoint(object: object))
            checkpoint.interval = nil
            checkpoint.signature = Data(fixture.key.sign(checkpoint.message)).base64EncodedString()
            fields["checkpoint"] = checkpoint.object
            lines[10] = try AuditVerifierTests.line(fields, previous: "").line
            try fixture.write(try AuditVerifierTests.rechain(lines, from: 10), to: fixture.log)
            try fixture.removeCheckpointFiles([10, 15, 16])
        },
    ]

    @Test("each rewrite is refused, naming the file and line, and nothing is written", arguments: cases)
    func refused(_ tamper: Case) throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        try tamper.change(fixture)
        let before = try Data(contentsOf: URL(fileURLWithPath: fixture.log))
        let files = Set((try? FileManager.default.contentsOfDirectory(atPath: fixture.checkpoints)) ?? [])
        do {
            _ = try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.checkpoints, everyRecords: 4))
            Issue.record("opened")
        } catch {
            #expect(error.description.contains(tamper.expected), "\(error.description)")
            #expect(error.description.contains(fixture.log), "names the file (and line): \(error.description)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.log)) == before)
        #expect(Set((try? FileManager.default.contentsOfDirectory(atPath: fixture.checkpoints)) ?? []) == files)
    }

    @Test("a log a crash left (records past the last checkpoint, within its interval) opens and is signed over")
    func crashed() throws {
        let fixture = try Fixture(records: 6)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        // lines: start, 4 records, periodic, 2 records, shutdown: the shutdown checkpoint never written
        try fixture.write(Array(try fixture.lines(fixture.log).dropLast()), to: fixture.log)
        try fixture.removeCheckpointFiles([8])
        let reopened = try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.checkpoints, everyRecords: 4))
        #expect(reopened.head.seq == 9)
        try reopened.close()
        #expect(try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey, checkpoints: fixture.checkpoints).findings == [])
        // a rotated log whose current file opens with the rotation checkpoint: its head is the older file's last record
        let rotated = try Fixture(records: 40, maxBytes: 4096)
        defer { try? FileManager.default.removeItem(at: rotated.directory) }
        var lines = try rotated.lines(rotated.log)
        lines = Array(lines.prefix(2))
        try rotated.write(lines, to: rotated.log)
        for name in try FileManager.default.contentsOfDirectory(atPath: rotated.checkpoints)
        where (AuditCheckpoint.seq(fileName: name) ?? 0) > (try AuditVerifierTests.seq(lines[0])) - 1 {
            try FileManager.default.removeItem(atPath: (rotated.checkpoints as NSString).appendingPathComponent(name))
        }
        // the older file's last record rewritten: its hash is no longer the rotation checkpoint's head
        let older = rotated.log + ".1"
        let original = try rotated.lines(older)
        var rewritten = original
        var fields = try AuditVerifierTests.fields(rewritten[rewritten.count - 1])
        fields["status"] = 999
        rewritten[rewritten.count - 1] = try AuditVerifierTests.line(fields, previous: "").line
        try rotated.write(try AuditVerifierTests.rechain(rewritten, from: rewritten.count - 1), to: older)
        #expect(throws: AuditLog.LogError.self) {
            try AuditLog(path: rotated.log, checkpointing: .init(key: rotated.key, directory: rotated.checkpoints, everyRecords: 4))
        }
        try rotated.write(original, to: older)
        let again = try AuditLog(path: rotated.log, checkpointing: .init(key: rotated.key, directory: rotated.checkpoints, everyRecords: 4))
        try again.close()
    }

    @Test("a torn last line is cut off at start, recorded (count and SHA-256) after the start checkpoint, and the log verifies again")
    func tornTail() throws {
        let fixture = try Fixture(records: 6)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        // a crash mid-write: the shutdown checkpoint never written, the last record's line torn in half
        var lines = Array(try fixture.lines(fixture.log).dropLast())
        let last = lines.removeLast()
        let torn = Array(last.utf8.prefix(last.utf8.count / 2))
        try fixture.removeCheckpointFiles([8])
        try Data((lines.joined(separator: "\n") + "\n").utf8 + torn).write(to: URL(fileURLWithPath: fixture.log))
        let before = try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey, checkpoints: fixture.checkpoints)
        #expect(before.findings.map(\.name) == ["torn-tail", "unanchored-tail"], "\(before.findings)")
        #expect(before.findings.first?.description.contains("restarting the server") == true)

        let reopened = try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.checkpoints, everyRecords: 4))
        #expect(reopened.recoveredTail?.count == torn.count)
        #expect(reopened.recoveredTail?.sha256 == SHA256.hex(torn))
        try reopened.close()
        let after = try fixture.lines(fixture.log)
        // the record before the torn one, the start checkpoint over it, the record of the cut, the shutdown checkpoint
        #expect(after.count == lines.count + 3)
        #expect(Array(after.prefix(lines.count)) == lines)
        let start = try AuditVerifierTests.fields(after[lines.count])
        #expect((start["checkpoint"] as? [String: Any])?["kind"] as? String == "start")
        let cut = try #require(try AuditVerifierTests.fields(after[lines.count + 1])["tornTailRemoved"] as? [String: Any])
        #expect(cut["bytes"] as? Int == torn.count && cut["sha256"] as? String == SHA256.hex(torn))
        #expect(!(try String(contentsOfFile: fixture.log, encoding: .utf8)).contains(String(decoding: torn, as: UTF8.self) + "{"))
        #expect(try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey, checkpoints: fixture.checkpoints).findings == [])
    }

    @Test("a malformed last line that ends with a newline is no crash's: still refused, and verify calls it malformed")
    func terminatedJunk() throws {
        let fixture = try Fixture(records: 6)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        var lines = Array(try fixture.lines(fixture.log).dropLast())
        let last = lines.removeLast()
        try fixture.removeCheckpointFiles([8])
        try fixture.write(lines + [String(last.prefix(last.count / 2))], to: fixture.log)
        #expect(try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey).findings.map(\.name).contains("malformed"))
        let before = try Data(contentsOf: URL(fileURLWithPath: fixture.log))
        #expect(throws: AuditLog.LogError.self) {
            try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.checkpoints, everyRecords: 4))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.log)) == before)
    }

    @Test("a crash tail whose times span past the interval (a wall clock stepped forward) still opens: only its count is held to it")
    func clockStep() throws {
        let fixture = try Fixture(records: 6)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        var lines = Array(try fixture.lines(fixture.log).dropLast())
        try fixture.removeCheckpointFiles([8])
        // the records after the periodic checkpoint of line 6: the clock jumped a day between them
        for (index, time) in [(6, "2026-12-06T10:00:00.000Z"), (7, "2026-12-07T10:00:00.000Z")] {
            var fields = try AuditVerifierTests.fields(lines[index])
            fields["time"] = time
            lines[index] = try AuditVerifierTests.line(fields, previous: "").line
        }
        try fixture.write(try AuditVerifierTests.rechain(lines, from: 6), to: fixture.log)
        let reopened = try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.checkpoints, everyRecords: 4, everySeconds: 60))
        try reopened.close()
        // verify still shows the span, as a finding for whoever knows whether the clock was stepped
        #expect(try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey).findings.map(\.name) == ["missing-checkpoint"])
    }

    @Test("a failed write (disk full) refuses every later record without touching the file, and close signs nothing")
    func failedWrite() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // a log whose every write fails with ENOSPC, and cannot be cut back (a device, not a file): still refusing
        let path = directory.appendingPathComponent("audit.jsonl").path
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/full")
        let log = try AuditLog(path: path)
        #expect(log.refusal == nil)
        #expect(throws: AuditLog.LogError.self) { try log.append(AuditRecord(status: 200)) }
        let refusal = try #require(log.refusal)
        #expect(refusal.contains("until a restart") && refusal.contains(String(cString: strerror(ENOSPC))), "\(refusal)")
        #expect(log.head.seq == 0)
        do {
            try log.append(AuditRecord(status: 503))
            Issue.record("appended after a failed write")
        } catch {
            #expect(error.description == refusal)
        }
        do {
            try log.close()
            Issue.record("closed cleanly after a failed write")
        } catch {
            #expect(error.description.contains("no shutdown checkpoint was signed"), "\(error.description)")
        }
    }
}
