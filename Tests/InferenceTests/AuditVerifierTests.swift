import Foundation
import Hashing
import Testing
@testable import InferenceService

/// The audit verifier against each way an attacker who holds the log's files can change them: every tamper case is
/// a vector, and each must be found and named; the untouched log verifies.
@Suite("audit chain verifier")
struct AuditVerifierTests {
    /// A log of `records` records written through `AuditLog` with checkpoints every 4 records, stopped cleanly,
    /// and a copy of its checkpoint directory as shipped off the node.
    struct Fixture {
        let directory: URL
        let log: String
        let checkpoints: String
        let shipped: String
        let key: Ed25519.PrivateKey

        init(records: Int = 12, maxBytes: Int = 1 << 30) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            log = directory.appendingPathComponent("audit.jsonl").path
            checkpoints = log + ".checkpoints"
            shipped = directory.appendingPathComponent("shipped").path
            key = Ed25519.PrivateKey.generate()
            let audit = try AuditLog(path: log, maxBytes: maxBytes,
                                     checkpointing: .init(key: key, directory: checkpoints, everyRecords: 4, everySeconds: 3600))
            for index in 0..<records { try audit.append(AuditRecord(route: "/v1/completions", status: 200, prompt: .text("prompt \(index)"))) }
            try audit.close()
            try FileManager.default.copyItem(atPath: checkpoints, toPath: shipped)
        }

        /// The log's files, oldest first.
        var files: [String] {
            var files = [log]
            var generation = 1
            while FileManager.default.fileExists(atPath: "\(log).\(generation)") {
                files.insert("\(log).\(generation)", at: 0)
                generation += 1
            }
            return files
        }

        func removeCheckpointFiles(_ seqs: [Int]) throws {
            for seq in seqs { try FileManager.default.removeItem(atPath: (checkpoints as NSString).appendingPathComponent(AuditCheckpoint.fileName(seq: seq))) }
        }

        func lines(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        }

        func write(_ lines: [String], to path: String) throws {
            try (lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        }

        func verify(_ files: [String]? = nil, shipped: Bool = false, key: Ed25519.PublicKey? = nil) throws -> AuditVerification {
            try AuditVerifier.verify(files ?? self.files, publicKey: key ?? self.key.publicKey, checkpoints: shipped ? self.shipped : checkpoints)
        }
    }

    /// The record's fields without its hash.
    static func fields(_ line: String) throws -> [String: Any] {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        object["hash"] = nil
        return object
    }

    /// `fields` as a line of the chain after `previous`, hashed as `AuditLog` hashes: what an attacker with the
    /// files can compute.
    static func line(_ fields: [String: Any], previous: String) throws -> (line: String, hash: String) {
        var fields = fields
        fields["prev"] = previous
        let body = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
        let hash = SHA256.hex(Array(body))
        return ("{\"hash\":\"\(hash)\"," + String(decoding: body.dropFirst(), as: UTF8.self), hash)
    }

    /// Every line from `start` on re-hashed so that each names the one before: the chain recomputed.
    static func rechain(_ lines: [String], from start: Int) throws -> [String] {
        var lines = lines
        var previous = AuditLog.genesis
        if start > 0 {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[start - 1].utf8)) as? [String: Any])
            previous = try #require(object["hash"] as? String)
        }
        for index in start..<lines.count {
            let rebuilt = try line(try fields(lines[index]), previous: previous)
            lines[index] = rebuilt.line
            previous = rebuilt.hash
        }
        return lines
    }

    static func seq(_ line: String) throws -> Int { try #require(try fields(line)["seq"] as? Int) }

    /// The log without its checkpoint records (but the first, with `keepFirst`), the record at `edit` given another
    /// prompt, every record renumbered and rehashed: what someone without the key can make of it.
    static func stripCheckpoints(_ lines: [String], keepFirst: Bool, edit: Int) throws -> [String] {
        var kept = lines.enumerated().filter { !$0.element.contains("\"checkpoint\":") || (keepFirst && $0.offset == 0) }.map(\.element)
        var fields = try AuditVerifierTests.fields(kept[edit])
        fields["prompt"] = "a prompt never sent"
        kept[edit] = try line(fields, previous: "").line
        for index in kept.indices {
            var fields = try AuditVerifierTests.fields(kept[index])
            fields["seq"] = index + 1
            kept[index] = try line(fields, previous: "").line
        }
        return try rechain(kept, from: 0)
    }

    /// A record whose `seq` is the JSON text given, chained after `previous`: any number, or no number at all.
    static func raw(seq: String, previous: String) -> (line: String, hash: String) {
        let body = "{\"prev\":\"\(previous)\",\"route\":\"/v1/models\",\"seq\":\(seq),\"status\":200}"
        let hash = SHA256.hex(body)
        return ("{\"hash\":\"\(hash)\"," + body.dropFirst(), hash)
    }

    /// JSON sequence numbers no record or checkpoint may carry: out of range, negative, not integers, not numbers.
    static let badSequenceNumbers = ["9223372036854775807", "9223372036854775806", "9007199254740993", "18446744073709551616", "1e300",
                                     "-1", "-9223372036854775808", "0", "3.5", "true", "\"3\"", "null", "[1]"]

    /// One way of tampering with a log of 12 records (3 periodic checkpoints, a start and a shutdown one: 17 lines).
    struct Case: CustomStringConvertible, Sendable {
        var description: String
        var expected: String
        var shipped = false
        var change: @Sendable (Fixture) throws -> Void
    }

    static let cases: [Case] = [
        Case(description: "a record edited in place", expected: "edited") { fixture in
            var lines = try fixture.lines(fixture.log)
            lines[2] = lines[2].replacingOccurrences(of: "prompt 1", with: "prompt X")
            try fixture.write(lines, to: fixture.log)
        },
        Case(description: "a record deleted from the middle", expected: "broken-link") { fixture in
            var lines = try fixture.lines(fixture.log)
            lines.remove(at: 3)
            try fixture.write(lines, to: fixture.log)
        },
        Case(description: "two records swapped", expected: "broken-link") { fixture in
            var lines = try fixture.lines(fixture.log)
            lines.swapAt(2, 3)
            try fixture.write(lines, to: fixture.log)
        },
        Case(description: "a forged record appended after the shutdown checkpoint, its hash chained", expected: "appended") { fixture in
            var lines = try fixture.lines(fixture.log)
            var fields = try AuditVerifierTests.fields(lines[2])
            fields["seq"] = try seq(lines[lines.count - 1]) + 1
            fields["prompt"] = "forged"
            let last = try #require(try JSONSerialization.jsonObject(with: Data(lines[lines.count - 1].utf8)) as? [String: Any])["hash"] as? String
            lines.append(try line(fields, previous: try #require(last)).line)
            try fixture.write(lines, to: fixture.log)
        },
        Case(description: "the last three records deleted", expected: "removed-tail") { fixture in
            try fixture.write(Array(try fixture.lines(fixture.log).dropLast(3)), to: fixture.log)
        },
        Case(description: "the log cut short and its checkpoint directory emptied, checked against the shipped copy", expected: "removed-tail",
             shipped: true) { fixture in
            try fixture.write(Array(try fixture.lines(fixture.log).dropLast(6)), to: fixture.log)
            try FileManager.default.removeItem(atPath: fixture.checkpoints)
        },
        Case(description: "the first three records deleted", expected: "removed-head") { fixture in
            try fixture.write(Array(try fixture.lines(fixture.log).dropFirst(3)), to: fixture.log)
        },
        Case(description: "a record edited and every later hash recomputed", expected: "rewritten") { fixture in
            var lines = try fixture.lines(fixture.log)
            lines[2] = lines[2].replacingOccurrences(of: "prompt 1", with: "prompt X")
            try fixture.write(try rechain(lines, from: 2), to: fixture.log)
        },
        Case(description: "a record deleted, the rest renumbered and rehashed", expected: "rewritten") { fixture in
            var lines = try fixture.lines(fixture.log)
            lines.remove(at: 2)
            for index in 2..<lines.count {
                var fields = try AuditVerifierTests.fields(lines[index])
                fields["seq"] = index + 1
                lines[index] = try line(fields, previous: "").line
            }
            try fixture.write(try rechain(lines, from: 2), to: fixture.log)
        },
        Case(description: "the tail cut and forged records put in its place past the shipped checkpoints", expected: "appended",
             shipped: true) { fixture in
            var lines = Array(try fixture.lines(fixture.log).dropLast(7))
            var next = try seq(lines[lines.count - 1]) + 1
            for _ in 0..<9 {
                var fields = try AuditVerifierTests.fields(lines[1])
                fields["seq"] = next
                fields["prompt"] = "forged"
                lines.append(try line(fields, previous: "").line)
                next += 1
            }
            try fixture.write(try rechain(lines, from: lines.count - 9), to: fixture.log)
        },
        Case(description: "a checkpoint signed by another key, the chain recomputed", expected: "forged-checkpoint") { fixture in
            var lines = try fixture.lines(fixture.log)
            let index = try #require(lines.firstIndex { $0.contains("\"kind\":\"periodic\"") })
            var fields = try AuditVerifierTests.fields(lines[index])
            let object = try #require(fields["checkpoint"] as? [String: Any])
            let original = try #require(AuditCheckpoint(object: object))
            let forged = AuditCheckpoint.signed(.periodic, seq: original.seq, head: original.head, interval: try #require(original.interval),
                                               signer: Ed25519.PrivateKey.generate())
            fields["checkpoint"] = forged.object
            lines[index] = try line(fields, previous: "").line
            try fixture.write(try rechain(lines, from: index), to: fixture.log)
        },
        Case(description: "a checkpoint's signature taken from another checkpoint", expected: "forged-checkpoint") { fixture in
            var lines = try fixture.lines(fixture.log)
            let indices = lines.indices.filter { lines[$0].contains("\"checkpoint\":") }
            var fields = try AuditVerifierTests.fields(lines[indices[1]])
            var checkpoint = try #require(fields["checkpoint"] as? [String: Any])
            let other = try #require(try AuditVerifierTests.fields(lines[indices[2]])["checkpoint"] as? [String: Any])
            checkpoint["signature"] = other["signature"]
            fields["checkpoint"] = checkpoint
            lines[indices[1]] = try line(fields, previous: "").line
            try fixture.write(try rechain(lines, from: indices[1]), to: fixture.log)
        },
        Case(description: "every checkpoint record but the first removed, a record edited, the chain renumbered and recomputed",
             expected: "missing-checkpoint") { fixture in
            try fixture.write(try stripCheckpoints(try fixture.lines(fixture.log), keepFirst: true, edit: 2), to: fixture.log)
        },
        Case(description: "a log made up with no checkpoint at all", expected: "missing-start") { fixture in
            try fixture.write(try stripCheckpoints(try fixture.lines(fixture.log), keepFirst: false, edit: 0), to: fixture.log)
        },
        Case(description: "the shutdown checkpoint and the last records cut (checked against the node's own directory)",
             expected: "unanchored-tail") { fixture in
            try fixture.write(Array(try fixture.lines(fixture.log).dropLast(2)), to: fixture.log)
            // the attacker removes the files that would show the cut
            try fixture.removeCheckpointFiles([15, 16])
        },
        Case(description: "a shipped checkpoint file rewritten", expected: "forged-checkpoint", shipped: true) { fixture in
            let path = (fixture.shipped as NSString).appendingPathComponent(AuditCheckpoint.fileName(seq: 5))
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "\"kind\":\"periodic\"", with: "\"kind\":\"shutdown\"").write(toFile: path, atomically: true, encoding: .utf8)
        },
    ]

    @Test("the untouched log verifies, every record anchored by the shutdown checkpoint")
    func intact() throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        for shipped in [false, true] {
            let result = try fixture.verify(shipped: shipped)
            #expect(result.findings == [])
            #expect(result.records == 17 && result.firstSeq == 1 && result.lastSeq == 17)
            #expect(result.anchoredThrough == 17 && result.unanchored == 0 && result.endsWithShutdown)
            #expect(result.anchor?.kind == .shutdown && result.logCheckpoints == 5 && result.shippedCheckpoints == 5)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: fixture.checkpoints).sorted()
        #expect(names == ["audit-key.pub.pem"] + [0, 5, 10, 15, 16].map(AuditCheckpoint.fileName(seq:)))
        // without a key nothing is anchored; with the directory's key it is, and the result says whose key it was
        let unkeyed = try AuditVerifier.verify(fixture.files)
        #expect(unkeyed.intact && unkeyed.anchoredThrough == 0 && unkeyed.key == .none)
        let directoryKey = try AuditVerifier.verify(fixture.files, checkpoints: fixture.checkpoints)
        #expect(directoryKey.intact && directoryKey.anchoredThrough == 17 && directoryKey.key == .directory(fingerprint: fixture.key.publicKey.openSSHFingerprint))
    }

    @Test("each tampering is found and named", arguments: cases)
    func tampered(_ tamper: Case) throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        try tamper.change(fixture)
        let result = try fixture.verify(shipped: tamper.shipped)
        #expect(!result.intact)
        #expect(result.findings.map(\.name).contains(tamper.expected), "\(result.findings.map(\.description))")
    }

    @Test("checkpoints checked against another key than the signer's are all forged")
    func wrongKey() throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let result = try fixture.verify(key: Ed25519.PrivateKey.generate().publicKey)
        #expect(result.findings.count == 10 && result.findings.allSatisfy { $0.name == "forged-checkpoint" })
        #expect(result.anchoredThrough == 0)
    }

    @Test("rotated files: all of them verify; leaving out the oldest or a middle one is a missing rotated file")
    func rotation() throws {
        let fixture = try Fixture(records: 40, maxBytes: 4096)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let files = fixture.files
        #expect(files.count >= 3)
        let whole = try fixture.verify()
        #expect(whole.findings == [] && whole.anchoredThrough == whole.lastSeq)
        for omitted in [0, 1] {
            var given = files
            given.remove(at: omitted)
            #expect(try fixture.verify(given).findings.map(\.name).contains("missing-rotated-file"), "without file \(omitted)")
        }
        #expect(!(try fixture.verify(files.reversed()).intact))
        // every rotated file after the first starts with a rotation checkpoint
        for file in files.dropFirst() { #expect(try fixture.lines(file).first?.contains("\"kind\":\"rotation\"") == true) }
    }

    @Test("a restart continues the numbering; the next record after a shutdown is a start checkpoint")
    func restart() throws {
        let fixture = try Fixture(records: 3)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let reopened = try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.checkpoints, everyRecords: 4))
        try reopened.append(AuditRecord(route: "/health", status: 200))
        try reopened.close()
        #expect(throws: AuditLog.LogError.self) { try reopened.append(AuditRecord(route: "/health")) }
        let result = try fixture.verify()
        #expect(result.findings == [] && result.lastSeq == 8 && result.anchoredThrough == 8)
        // a checkpoint directory that holds more than the log is refused: the log was cut short or replaced
        try fixture.write(Array(try fixture.lines(fixture.log).dropLast(2)), to: fixture.log)
        #expect(throws: AuditLog.LogError.self) {
            try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.checkpoints))
        }
        // and so is a directory of another key
        try FileManager.default.removeItem(atPath: fixture.log)
        #expect(throws: AuditLog.LogError.self) {
            try AuditLog(path: fixture.log, checkpointing: .init(key: Ed25519.PrivateKey.generate(), directory: fixture.checkpoints))
        }
    }

    @Test("a record with an extreme or malformed sequence number is a finding, never a trap", arguments: badSequenceNumbers)
    func extremeRecordSequence(_ seq: String) throws {
        let fixture = try Fixture(records: 2)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        var lines = try fixture.lines(fixture.log)
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lines[lines.count - 1].utf8)) as? [String: Any])["hash"] as? String
        let forged = Self.raw(seq: seq, previous: try #require(last))
        lines.append(forged.line)
        // and one more after it, whose seq + 1 would overflow were the bad one taken as a number
        lines.append(Self.raw(seq: "9223372036854775807", previous: forged.hash).line)
        try fixture.write(lines, to: fixture.log)
        for live in [false, true] {
            let result = try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey, checkpoints: fixture.shipped, live: live)
            #expect(!result.intact && result.findings.map(\.name).contains("malformed"), "\(result.findings.map(\.description))")
            #expect(result.anchoredThrough <= 4 && result.lastSeq == 4, "the last record read is the shutdown checkpoint")
        }
        // a server refuses to continue such a log, keyed or not, with an error and not a trap
        #expect(throws: AuditLog.LogError.self) { try AuditLog(path: fixture.log) }
        #expect(throws: AuditLog.LogError.self) { try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.checkpoints)) }
    }

    @Test("a checkpoint file with an extreme or malformed sequence number is a forged checkpoint, never a trap",
          arguments: badSequenceNumbers + ["4.0"])
    func extremeCheckpointSequence(_ seq: String) throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let source = (fixture.shipped as NSString).appendingPathComponent(AuditCheckpoint.fileName(seq: 15))
        let text = try String(contentsOfFile: source, encoding: .utf8).replacingOccurrences(of: "\"seq\":15", with: "\"seq\":\(seq)")
        for name in [AuditCheckpoint.fileName(seq: Int.max), AuditCheckpoint.fileName(seq: 0), "checkpoint-99999999999999999999.json"] {
            let path = (fixture.shipped as NSString).appendingPathComponent(name)
            try? FileManager.default.removeItem(atPath: path)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let result = try fixture.verify(shipped: true)
        #expect(!result.intact && result.findings.map(\.name).contains("forged-checkpoint"), "\(result.findings.map(\.description))")
        // serve, given that directory, refuses it: its names run past the log's end
        #expect(throws: AuditLog.LogError.self) { try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.shipped)) }
    }

    @Test("a log that does not end with a shutdown checkpoint: its last records are unanchored, a finding unless --live within an interval")
    func liveTail() throws {
        let fixture = try Fixture(records: 6)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        // a crash after 2 records past the periodic checkpoint of record 5 (lines: start, 4, periodic, 2, shutdown)
        try fixture.write(Array(try fixture.lines(fixture.log).dropLast(1)), to: fixture.log)
        let times = try fixture.lines(fixture.log).compactMap { try AuditVerifierTests.fields($0)["time"] as? String }
        #expect(times.isEmpty, "the fixture's records carry no time: only the count bounds them")
        let stopped = try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey)
        #expect(stopped.findings.map(\.name) == ["unanchored-tail"] && stopped.anchoredThrough == 6 && stopped.lastSeq == 8)
        let live = try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey, live: true)
        #expect(live.findings == [] && live.unanchored == 2)
        // more records than the interval after the last checkpoint: not what a running server leaves
        var lines = try fixture.lines(fixture.log)
        for _ in 0..<3 {
            let previous = try #require(try JSONSerialization.jsonObject(with: Data(lines[lines.count - 1].utf8)) as? [String: Any])["hash"] as? String
            lines.append(Self.raw(seq: String(try Self.seq(lines[lines.count - 1]) + 1), previous: try #require(previous)).line)
        }
        try fixture.write(lines, to: fixture.log)
        let long = try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey, live: true)
        #expect(long.findings.map(\.name).contains("unanchored-tail") && long.findings.map(\.name).contains("missing-checkpoint"))
        // records whose time is older than one interval are overdue for a running server
        var timed = Array(try fixture.lines(fixture.log).prefix(9))
        var fields = try AuditVerifierTests.fields(timed[8])
        fields["time"] = "2026-01-01T00:00:00.000Z"
        timed[8] = try Self.line(fields, previous: "").line
        try fixture.write(try Self.rechain(timed, from: 8), to: fixture.log)
        #expect(try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey, live: true).findings.map(\.name) == ["unanchored-tail"])
        let now = try #require(ISO8601DateFormatter().date(from: "2026-01-01T00:00:05Z"))
        #expect(try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey, live: true, now: now).findings == [])
    }

    @Test("records spanning more than a checkpoint's seconds with none between are a missing checkpoint")
    func timeInterval() throws {
        let fixture = try Fixture(records: 0)
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        try FileManager.default.removeItem(atPath: fixture.log)
        try FileManager.default.removeItem(atPath: fixture.checkpoints)
        // records whose times say they came an hour and a minute apart with no checkpoint between, though the server
        // (every 3600 s) would have written one: what a log with a time-based checkpoint removed looks like
        let log = try AuditLog(path: fixture.log, checkpointing: .init(key: fixture.key, directory: fixture.checkpoints, everyRecords: 4, everySeconds: 3600))
        for time in ["2026-12-06T10:00:00.000Z", "2026-12-06T10:59:00.000Z", "2026-12-06T11:01:00.000Z"] {
            try log.append(AuditRecord(time: time, route: "/v1/models", status: 200, latencyMs: 5))
        }
        try log.close()
        let result = try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey)
        #expect(result.findings.map(\.name) == ["missing-checkpoint"], "\(result.findings.map(\.description))")
        #expect(result.anchoredThrough == 1, "only the start checkpoint's record is before the run in doubt")
        // within the interval (and its slack), the same records are intact
        let near = try Fixture(records: 0)
        defer { try? FileManager.default.removeItem(at: near.directory) }
        try FileManager.default.removeItem(atPath: near.log)
        try FileManager.default.removeItem(atPath: near.checkpoints)
        let nearLog = try AuditLog(path: near.log, checkpointing: .init(key: near.key, directory: near.checkpoints, everyRecords: 4, everySeconds: 3600))
        for time in ["2026-12-06T10:00:00.000Z", "2026-12-06T11:00:05.000Z"] { try nearLog.append(AuditRecord(time: time, route: "/v1/models")) }
        try nearLog.close()
        #expect(try AuditVerifier.verify(near.files, publicKey: near.key.publicKey).findings == [])
    }

    @Test("with findings, nothing a finding puts in doubt is reported anchored")
    func anchorStopsAtTheFirstFinding() throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        var lines = try fixture.lines(fixture.log)
        lines[8] = lines[8].replacingOccurrences(of: "prompt 6", with: "prompt X")
        try fixture.write(lines, to: fixture.log)
        let edited = try fixture.verify()
        #expect(edited.findings.map(\.name) == ["edited"] && edited.anchoredThrough == 6 && edited.anchor?.seq == 5)
        // the launder of F1, checked without the server: every record after the start checkpoint is in doubt
        try fixture.write(try Self.stripCheckpoints(try fixture.lines(fixture.log), keepFirst: true, edit: 2), to: fixture.log)
        let stripped = try AuditVerifier.verify(fixture.files, publicKey: fixture.key.publicKey)
        #expect(!stripped.intact && stripped.anchoredThrough <= 1, "\(stripped.findings.map(\.description))")
    }
}
