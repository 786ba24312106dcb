import Synchronization

/// Every state lock this process holds, so that an interrupt arriving before a run has its own graceful stop in place
/// (while it refreshes, plans or waits for a yes) can still give them back instead of leaving a shared lock to run
/// out its lease.
public final class HeldLeases: Sendable {
    public static let shared = HeldLeases()

    private let leases = Mutex<[ObjectIdentifier: any StateLease]>([:])

    func add(_ lease: some StateLease & AnyObject) {
        leases.withLock { $0[ObjectIdentifier(lease)] = lease }
    }

    func remove(_ lease: some StateLease & AnyObject) {
        _ = leases.withLock { $0.removeValue(forKey: ObjectIdentifier(lease)) }
    }

    /// Releases every lock still held; each removes itself as it goes.
    public func releaseAll() async {
        for lease in leases.withLock({ Array($0.values) }) { await lease.release() }
    }

    /// How many locks are held now.
    public var count: Int { leases.withLock { $0.count } }
}
