import Foundation
import Dispatch

/// Runs data-parallel work on a fixed number of threads: the work is cut into as many parts as there are threads,
/// and each part runs on its own thread of Dispatch's pool (the caller's thread takes one).
public struct Workers: Sendable {
    public let threads: Int

    public init(threads: Int) {
        self.threads = max(1, threads)
    }

    /// The machine's active processor count.
    public static var available: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Calls `body` with disjoint ranges covering `0..<count`, in parallel; returns when all are done.
    public func split(_ count: Int, minimumPerPart: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = min(threads, max(1, count / max(1, minimumPerPart)))
        guard parts > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        // the parts touch disjoint memory by contract, which the compiler cannot see through raw pointers
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let lower = count * part / parts, upper = count * (part + 1) / parts
                if lower < upper { work.value(lower..<upper) }
            }
        }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
