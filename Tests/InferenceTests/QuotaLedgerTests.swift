import Foundation
import Testing
@testable import InferenceService
import Guardrails

/// Quotas under concurrency, across window boundaries and across a restart.
@Suite("quota ledger")
struct QuotaLedgerTests {
    static let now = Date(timeIntervalSince1970: 1_796_601_600) // 2026-12-07T00:00:00Z

    @Test func thirtyTwoThreadsRacingOneBudgetNeverPassIt() async {
        let limits = { var limits = QuotaLimits(); limits.tokensPerMinute = 1000; return limits }()
        let ledger = QuotaLedger()
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<32 {
                group.addTask {
                    guard case .success(let hold) = ledger.reserve(identity: "k", requestId: "r\(index)", tokens: 90, limits: limits, now: Self.now) else {
                        return false
                    }
                    ledger.settle(hold, usedTokens: 90, now: Self.now)
                    return true
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 11, "1000 / 90 = 11 requests, however they interleave")
        #expect(ledger.used(by: "k", now: Self.now).minute == 990)
    }

    @Test func aReservationHoldsItsMostUntilSettledThenGivesBackTheRest() {
        var limits = QuotaLimits()
        limits.tokensPerMinute = 100
        let ledger = QuotaLedger()
        guard case .success(let first) = ledger.reserve(identity: "k", requestId: "a", tokens: 80, limits: limits, now: Self.now) else {
            Issue.record("first refused"); return
        }
        guard case .failure(let refusal) = ledger.reserve(identity: "k", requestId: "b", tokens: 30, limits: limits, now: Self.now) else {
            Issue.record("second admitted while the first holds 80"); return
        }
        #expect(refusal.limit == "tokens_per_minute" && refusal.retryAfter == 1, "only a request in flight holds it: retry soon")
        ledger.settle(first, usedTokens: 20, now: Self.now)
        guard case .success = ledger.reserve(identity: "k", requestId: "b", tokens: 30, limits: limits, now: Self.now) else {
            Issue.record("the unused 60 were not given back"); return
        }
    }

    /// Each limit, what it refuses, and the Retry-After it gives (nil: the request can never fit).
    @Test func eachLimitRefusesWithItsNameAndWhenToRetry() {
        func limits(_ change: (inout QuotaLimits) -> Void) -> QuotaLimits {
            var limits = QuotaLimits()
            change(&limits)
            return limits
        }
        let cases: [(QuotaLimits, Int, String, Int?)] = [
            (limits { $0.requestsPerMinute = 2 }, 1, "requests_per_minute", 60),
            (limits { $0.tokensPerMinute = 150 }, 100, "tokens_per_minute", 60),
            (limits { $0.tokensPerDay = 150 }, 100, "tokens_per_day", 86_400),
            (limits { $0.tokensPerMonth = 150 }, 100, "tokens_per_month", 25 * 86_400),  // to 2027-01-01
            (limits { $0.tokensPerMinute = 50 }, 100, "tokens_per_minute", nil),
        ]
        for (limit, tokens, name, retry) in cases {
            let ledger = QuotaLedger()
            for index in 0..<2 {
                if case .success(let hold) = ledger.reserve(identity: "k", requestId: "r\(index)", tokens: tokens, limits: limit, now: Self.now) {
                    ledger.settle(hold, usedTokens: tokens, now: Self.now)
                }
            }
            guard case .failure(let refusal) = ledger.reserve(identity: "k", requestId: "last", tokens: tokens, limits: limit, now: Self.now) else {
                Issue.record("\(name) admitted a third request"); continue
            }
            #expect(refusal.limit == name && refusal.retryAfter == retry, "\(name): \(refusal)")
        }
    }

    @Test func theMinuteSlidesAndTheDayTurnsAtMidnight() {
        var limits = QuotaLimits()
        limits.tokensPerMinute = 100
        limits.tokensPerDay = 250
        let ledger = QuotaLedger()
        func spend(_ at: Date, _ id: String) -> Bool {
            guard case .success(let hold) = ledger.reserve(identity: "k", requestId: id, tokens: 100, limits: limits, now: at) else { return false }
            ledger.settle(hold, usedTokens: 100, now: at)
            return true
        }
        let evening = Self.now.addingTimeInterval(-150)
        #expect(spend(evening, "a"))
        #expect(!spend(evening.addingTimeInterval(59), "b"))
        #expect(spend(evening.addingTimeInterval(60), "c"))
        #expect(!spend(evening.addingTimeInterval(125), "d"), "the day's 250 would be passed")
        #expect(spend(Self.now, "e"), "a new UTC day")
    }

    /// Counters that cannot be written stop the start; a link planted at the temporary name is not followed.
    @Test func countersThatCannotBeKeptStopTheStart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quotas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: QuotaStateFile.StateError.self) { try QuotaStateFile(path: directory.appendingPathComponent("missing/q").path).openLedger() }
        #expect(throws: QuotaStateFile.StateError.self) { try QuotaStateFile(path: directory.path).openLedger() }
        let victim = directory.appendingPathComponent("victim")
        try Data("keep".utf8).write(to: victim)
        let path = directory.appendingPathComponent("q").path
        try FileManager.default.createSymbolicLink(atPath: path + ".tmp-\(getpid())", withDestinationPath: victim.path)
        _ = try QuotaStateFile(path: path).openLedger()
        #expect(try String(contentsOf: victim, encoding: .utf8) == "keep")
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func countersSurviveARestartAndACrashCountsWhatWasHeld() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quotas-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var limits = QuotaLimits()
        limits.tokensPerDay = 1000
        let file = QuotaStateFile(path: path)
        let ledger = try file.openLedger(now: Self.now)
        guard case .success(let done) = ledger.reserve(identity: "k", requestId: "a", tokens: 300, limits: limits, now: Self.now),
              case .success = ledger.reserve(identity: "k", requestId: "b", tokens: 400, limits: limits, now: Self.now) else {
            Issue.record("refused"); return
        }
        ledger.settle(done, usedTokens: 100, now: Self.now)
        file.flush()
        #expect(file.lastFailure == nil)
        // "b" never settles: the server died with it in flight
        let restarted = try QuotaStateFile(path: path).openLedger(now: Self.now)
        #expect(restarted.used(by: "k", now: Self.now).day == 500)
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: QuotaStateFile.StateError.self) { try QuotaStateFile(path: path).openLedger() }
    }
}
