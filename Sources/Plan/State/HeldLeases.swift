import Synchronization

/// Every state lock this process holds, so that an interrupt arriving before a run has its own graceful stop in place
/// (while it refreshes, plans or waits for a yes) can still give them back instead of leaving a shared lock to run
/// out its lease.
public final class HeldLeases: Sendable {
    public static let shared = HeldLeases()

    private let leases = Mutex<[ObjectIdentifier: any StateLease]>([:])
    private let writes = Mutex(0)

    func add(_ lease: some StateLease & AnyObject) {
        leases.withLock { $0[ObjectIdentifier(lease)] = lease }
    }

    func remove(_ lease: some StateLease & AnyObject) {
        _ = leases.withLock { $0.removeValue(forKey: ObjectIdentifier(lease)) }
    }

    /// A state write has started: locks are not given back under it.
    func beginWrite() { writes.withLock { $0 += 1 } }

    func endWrite() { writes.withLock { $0 -= 1 } }

    /// Releases every lock still held, once no state write is on its way (so that none lands after its lock is
    /// gone); each lock removes itself as it goes.
    public func releaseAll() async {
        while writes.withLock({ $0 }) > 0 { try? await Task.sleep(nanoseconds: 20_000_000) }
        for lease in leases.withLock({ Array($0.values) }) { await lease.release() }
    }

    /// How many locks are held now.
    public var count: Int { leases.withLock { $0.count } }
}
