/// Which connections hold the server's slots, by client address, and which of them may be reclaimed. A connection
/// that has not yet sent a whole request (a fresh one, one between requests on keep-alive, one dripping its headers
/// or body) is waiting; one whose request is being answered is busy. When every slot is taken, a new connection
/// takes the slot of the connection that has waited longest, as servers under slowloris attacks do (nginx reuses
/// idle keep-alive connections the same way): otherwise idle sockets from a few addresses, each within its
/// per-address cap, would lock every other client out for as long as their deadlines allow. Only when every slot
/// is busy is a new connection turned away. At its own address's cap, a new connection takes the slot of that
/// address's own longest-waiting one (a client's pool replacing a connection it has dropped before the server has
/// noticed), and is turned away only when all of that address's connections are busy.
struct ConnectionTable {
    struct Entry {
        let host: String
        let descriptor: Int32
        /// When it began waiting for its next request; nil while a request is being answered.
        var waitingSince: ContinuousClock.Instant?
    }

    enum Admission: Equatable {
        /// Admitted as `id`; `reclaimed` is the descriptor of the waiting connection whose slot it took, which the
        /// caller shuts down (its thread then finds itself gone and closes it).
        case admitted(id: UInt64, reclaimed: Int32?)
        /// Every one of its address's connections is busy answering a request.
        case overClientLimit
        /// Every slot is busy answering a request.
        case full
    }

    let capacity: Int
    let perClientLimit: Int
    private(set) var entries: [UInt64: Entry] = [:]
    private(set) var perClient: [String: Int] = [:]
    private var lastID: UInt64 = 0

    init(capacity: Int, perClientLimit: Int) {
        self.capacity = max(1, capacity)
        self.perClientLimit = max(1, perClientLimit)
    }

    var count: Int { entries.count }

    mutating func admit(host: String, descriptor: Int32, now: ContinuousClock.Instant) -> Admission {
        var reclaimed: Int32?
        if perClient[host, default: 0] >= perClientLimit {
            guard let victim = longestWaiting(from: host) else { return .overClientLimit }
            reclaimed = entries[victim]?.descriptor
            remove(victim)
        } else if entries.count >= capacity {
            guard let victim = longestWaiting() else { return .full }
            reclaimed = entries[victim]?.descriptor
            remove(victim)
        }
        lastID += 1
        entries[lastID] = Entry(host: host, descriptor: descriptor, waitingSince: now)
        perClient[host, default: 0] += 1
        return .admitted(id: lastID, reclaimed: reclaimed)
    }

    /// The connection waits for its next request from `now` (after a response on a kept-alive connection).
    mutating func waiting(_ id: UInt64, since now: ContinuousClock.Instant) {
        entries[id]?.waitingSince = now
    }

    /// A whole request has arrived: its slot is no longer reclaimable. False if it was reclaimed before.
    mutating func busy(_ id: UInt64) -> Bool {
        guard entries[id] != nil else { return false }
        entries[id]?.waitingSince = nil
        return true
    }

    /// Frees the connection's slot; false if it was reclaimed before (and its slot already taken).
    @discardableResult
    mutating func remove(_ id: UInt64) -> Bool {
        guard let entry = entries.removeValue(forKey: id) else { return false }
        let left = perClient[entry.host, default: 1] - 1
        perClient[entry.host] = left > 0 ? left : nil
        return true
    }

    /// The waiting connection (from `host`, if given) that has waited longest (the lower id on a tie: it was
    /// accepted first).
    private func longestWaiting(from host: String? = nil) -> UInt64? {
        var best: (id: UInt64, since: ContinuousClock.Instant)?
        for (id, entry) in entries {
            guard let since = entry.waitingSince, host == nil || entry.host == host else { continue }
            if let current = best, (current.since, current.id) < (since, id) { continue }
            best = (id, since)
        }
        return best?.id
    }
}
