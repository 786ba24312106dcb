import Foundation
import Testing
@testable import Plan

/// Rollback protection: the state keeps each signer's last bundle, and a bundle from that signer is applied only
/// with a higher sequence, or again while its own apply is unfinished; `--allow-downgrade` lets the rest through.
@Suite("bundle admission")
struct BundleAdmissionTests {
    static let signer = "SHA256:signer"
    static let other = "SHA256:other"

    static func release(_ sequence: Int64, manifest: String = "m", signer: String = signer) -> BundleRelease {
        BundleRelease(bundleID: "id-\(manifest)", manifestSHA256: manifest, sequence: sequence, signer: signer)
    }

    static func state(_ records: [BundleRecord]) -> State {
        var state = State(stack: "acme", account: "123456789012", region: "eu-west-1", lineage: "lin-1")
        state.bundles = records.isEmpty ? nil : records
        return state
    }

    static func record(_ sequence: Int64, manifest: String = "m", completed: Bool = true, signer: String = signer) -> BundleRecord {
        BundleRecord(bundleID: "id-\(manifest)", manifestSHA256: manifest, sequence: sequence, signer: signer,
                     started: "2026-01-01T00:00:00Z", completed: completed)
    }

    enum Outcome: Sendable, Equatable { case first, newer, resumed, refusedReplay, refusedRollback }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var records: [BundleRecord]
        var release: BundleRelease
        var outcome: Outcome
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "nothing on record", records: [], release: release(5), outcome: .first),
        Case(name: "a higher sequence", records: [record(5)], release: release(6, manifest: "n"), outcome: .newer),
        Case(name: "the same bundle again once applied: a replay", records: [record(5)], release: release(5), outcome: .refusedReplay),
        Case(name: "the same bundle, its apply unfinished", records: [record(5, completed: false)], release: release(5), outcome: .resumed),
        Case(name: "another bundle with the same sequence", records: [record(5)], release: release(5, manifest: "n"), outcome: .refusedRollback),
        Case(name: "another bundle with the same sequence, the first unfinished", records: [record(5, completed: false)],
             release: release(5, manifest: "n"), outcome: .refusedRollback),
        Case(name: "an older sequence", records: [record(5)], release: release(4, manifest: "n"), outcome: .refusedRollback),
        Case(name: "an older sequence while a newer apply is unfinished", records: [record(5, completed: false)],
             release: release(4, manifest: "n"), outcome: .refusedRollback),
        Case(name: "an older sequence from another signer", records: [record(5)], release: release(1, manifest: "n", signer: other),
             outcome: .first),
        Case(name: "each signer compared with its own record", records: [record(9, manifest: "a", signer: other), record(5)],
             release: release(6, manifest: "n"), outcome: .newer),
        Case(name: "an older sequence, another signer newer", records: [record(3, manifest: "a", signer: other), record(5)],
             release: release(4, manifest: "n"), outcome: .refusedRollback),
    ]

    @Test("a bundle is admitted only when newer than its signer's last, or to finish its own apply", arguments: cases)
    func admission(_ test: Case) throws {
        let state = Self.state(test.records)
        let outcome: Outcome
        do {
            switch try state.admit(test.release, allowDowngrade: false) {
            case .first: outcome = .first
            case .newer: outcome = .newer
            case .resumed: outcome = .resumed
            case .downgrade: Issue.record("a downgrade without --allow-downgrade"); return
            }
        } catch {
            outcome = error.isReplay ? .refusedReplay : .refusedRollback
            #expect(error.description.contains("Nothing was changed"))
            #expect(error.description.contains("--allow-downgrade"))
            #expect(error.description.contains(error.isReplay ? "replay" : "not newer than sequence \(error.recorded.sequence)"))
        }
        #expect(outcome == test.outcome)
        // what is refused without the flag is let through with it, as a downgrade from the record
        if test.outcome == .refusedReplay || test.outcome == .refusedRollback {
            let admission = try state.admit(test.release, allowDowngrade: true)
            #expect(admission == .downgrade(from: try #require(state.bundleRecord(signer: test.release.signer))))
        }
    }

    @Test("started, then completed; a downgrade keeps the sequence it went below; other signers' records stay")
    func recording() throws {
        var state = Self.state([Self.record(9, manifest: "a", signer: Self.other), Self.record(5)])
        let older = Self.release(3, manifest: "n")
        let admission = try state.admit(older, allowDowngrade: true)
        state.recordBundleStarted(older, admission: admission, at: Date(timeIntervalSince1970: 1_764_547_200))
        var record = try #require(state.bundleRecord(signer: Self.signer))
        #expect(record.sequence == 3 && record.manifestSHA256 == "n" && !record.completed)
        #expect(record.downgradedFrom == 5)
        #expect(record.started == "2025-12-01T00:00:00Z")
        // interrupted, then run again: the same bundle continues, without the flag, and keeps what was recorded
        let resumed = try state.admit(older, allowDowngrade: false)
        #expect(resumed == .resumed(record))
        state.recordBundleStarted(older, admission: resumed, at: Date())
        #expect(state.bundleRecord(signer: Self.signer) == record)
        state.recordBundleCompleted(older)
        record.completed = true
        #expect(state.bundleRecord(signer: Self.signer) == record)
        #expect(state.bundleRecord(signer: Self.other)?.sequence == 9)
        #expect(state.bundles?.map(\.signer) == [Self.other, Self.signer].sorted())
        // completing another export changes nothing
        state.recordBundleCompleted(Self.release(3, manifest: "x"))
        #expect(state.bundleRecord(signer: Self.signer) == record)
        #expect(throws: BundleRollbackError.self) { try state.admit(older, allowDowngrade: false) }
    }

    @Test("a state written before bundle records loads and keeps its checksum; records round-trip")
    func storage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-bundle-state-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StateStore(path: directory + "/state.json")
        var state = Self.state([])
        state.serial = 1
        try store.write(state)
        let written = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(!written.contains("bundles"), "an old state's document is unchanged: older deploys read it and its checksum holds")
        #expect(try store.load()?.bundles == nil)
        state.recordBundleStarted(Self.release(7), admission: .first)
        state.serial = 2
        try store.write(state)
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(text.contains("\"manifest_sha256\" : \"m\"") && text.contains("\"sequence\" : 7") && text.contains("\"signer\" : \"SHA256:signer\""))
        #expect(try store.load()?.bundles == state.bundles)
    }
}
