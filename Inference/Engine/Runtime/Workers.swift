import Foundation
import Dispatch
import Synchronization

/// Runs data-parallel work on a fixed number of threads: the work is cut into a few chunks per thread, which the
/// threads of a `SpinPool` claim (the caller's thread among them).
public struct Workers: Sendable {
    public let threads: Int

    public init(threads: Int) {
        self.threads = max(1, threads)
    }

    /// The machine's active processor count.
    public static var available: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Calls `body` with disjoint ranges covering `0..<count`, in parallel; returns when all are done. The work is cut
    /// into a few chunks per thread, which the threads claim as they finish the last: a thread slowed by something
    /// else on the machine (a server's connection threads, its clients) then holds up a chunk, not a whole half.
    /// Every element is computed the same whichever thread takes it, so results do not depend on the split.
    public func split(_ count: Int, minimumPerPart: Int = 1, _ body: (Range<Int>) -> Void) {
        let minimum = max(1, minimumPerPart)
        let threads = min(self.threads, max(1, count / minimum))
        guard threads > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        let chunks = min(threads * 4, max(1, count / minimum))
        let next = Atomic<Int>(0)
        func claim(_: Int) {
            while true {
                let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard chunk < chunks else { return }
                let lower = count * chunk / chunks, upper = count * (chunk + 1) / chunks
                if lower < upper { body(lower..<upper) }
            }
        }
        // the pool's spinning threads; while another caller holds them (another model, a test beside this one), this
        // thread alone: more threads than cores, spinning, would only take turns
        if !SpinPool.shared(threads: self.threads).run(claim) { claim(0) }
    }
}
