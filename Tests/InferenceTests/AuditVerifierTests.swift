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
            for index in 0..<records { try audit.append(["route": "/v1/completions", "prompt": "prompt \(index)", "status": 200]) }
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
            let forged = AuditCheckpoint.signed(.periodic, seq: original.seq, head: original.head, signer: Ed25519.PrivateKey.generate())
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
        #expect(directoryKey.intact && directoryKey.anchoredThrough == 17 && directoryKey.key == .directory(fingerprint: fixture.key.publicKey.fingerprint))
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
        try reopened.append(["route": "/health", "status": 200])
        try reopened.close()
        #expect(throws: AuditLog.LogError.self) { try reopened.append(["route": "/health"]) }
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
}
