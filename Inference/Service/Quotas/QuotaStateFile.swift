import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The quota counters on disk, beside the audit log, so that a restart does not hand every key a fresh budget.
/// Each change is written by one background queue, coalesced: a request never waits for the disk. The file is
/// replaced atomically (`OwnerOnlyFile`). Reservations of requests in flight at a crash are read
/// back as used: what a request may have used counts until it is known it did not.
public final class QuotaStateFile: Sendable {
    struct File: Codable {
        static let currentFormat = "inference-server.quotas/1"
        var format = currentFormat
        var identities: [String: QuotaUsage]
    }

    public struct StateError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public let path: String
    /// Hears of a write that failed, and of the first that succeeds after (nil), to report it: counters that are not
    /// kept would be a fresh budget for every key at the next restart.
    private let onWriteOutcome: @Sendable (String?) -> Void
    private let queue = DispatchQueue(label: "inference-server.quotas")
    private let pending = Atomic<Bool>(false)
    private let failure = Mutex<String?>(nil)
    private let opened = Mutex<QuotaLedger?>(nil)

    public init(path: String, onWriteOutcome: @escaping @Sendable (String?) -> Void = { _ in }) {
        self.path = path
        self.onWriteOutcome = onWriteOutcome
    }

    /// The ledger over the counters in the file (none when it does not exist yet).
    public func openLedger(now: Date = Date()) throws(StateError) -> QuotaLedger {
        var usage: [String: QuotaUsage] = [:]
        if let data = FileManager.default.contents(atPath: path) {
            guard let file = try? JSONDecoder().decode(File.self, from: data), file.format == File.currentFormat else {
                throw StateError(description: "the quota counters \(path) are not a file written by inference-server; move it away to start "
                                     + "every key's counters from zero")
            }
            let instant = QuotaClock.instant(now)
            for (identity, var mine) in file.identities {
                let crashed = mine.reservedTokens
                mine.reserved = [:]
                mine.advance(to: instant)
                if crashed > 0 { mine.record(tokens: crashed, at: instant) }
                usage[identity] = mine
            }
        }
        // written once now: a path that cannot be written stops the start, not the next restart's counters
        write(usage)
        if let failure = lastFailure { throw StateError(description: "the quota counters cannot be kept: \(failure)") }
        // the file and its ledger live as long as the server: the cycle between them is never collected, by design
        let ledger = QuotaLedger(usage: usage) { [self] in schedule() }
        opened.withLock { $0 = ledger }
        return ledger
    }

    /// The last write's failure, if the last write failed (it is retried at the next change).
    public var lastFailure: String? { failure.withLock { $0 } }

    private func schedule() {
        guard !pending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { [self] in
            pending.store(false, ordering: .releasing)
            if let ledger = opened.withLock({ $0 }) { write(ledger.snapshot) }
        }
    }

    /// Waits for the writes scheduled so far (at shutdown).
    public func flush() { queue.sync {} }

    private func write(_ usage: [String: QuotaUsage]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(File(identities: usage)) else { return }
        record(OwnerOnlyFile.replace(path, with: data))
    }

    private func record(_ message: String?) {
        let changed = failure.withLock { old -> Bool in
            defer { old = message }
            return old != message
        }
        if changed { onWriteOutcome(message) }
    }
}
