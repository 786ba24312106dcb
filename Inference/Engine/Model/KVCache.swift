/// The keys and values of every position processed so far, per layer, stored as f16 (as llama.cpp's default cache
/// does): `capacity` positions of `kvDimension` values each.
public final class KVCache: @unchecked Sendable {
    // @unchecked: a cache belongs to one sequence, and only the task running that sequence's forward passes reads or
    // writes it (its rows and `count`); it crosses threads only when handed over with the sequence, never shared
    public let capacity: Int
    public let kvDimension: Int
    let keys: [UnsafeMutablePointer<Float16>]
    let values: [UnsafeMutablePointer<Float16>]
    /// Positions filled so far.
    public private(set) var count = 0

    public init(layers: Int, capacity: Int, kvDimension: Int) {
        self.capacity = capacity
        self.kvDimension = kvDimension
        keys = (0..<layers).map { _ in .allocate(capacity: capacity * kvDimension) }
        values = (0..<layers).map { _ in .allocate(capacity: capacity * kvDimension) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Bytes the cache holds.
    public var byteCount: Int { keys.count * 2 * capacity * kvDimension * MemoryLayout<Float16>.size }

    /// Forgets every position from `length` on, so that a prompt sharing a prefix reuses the rest.
    public func truncate(to length: Int) {
        count = min(count, max(0, length))
    }

    func append(_ positions: Int) {
        count += positions
    }
}
