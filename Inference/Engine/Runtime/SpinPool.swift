import Foundation
import Dispatch
import Synchronization

/// Persistent threads for the forward pass's parallel steps, which come a hundred times a token and last
/// microseconds each: a thread that has finished one spins a while for the next instead of sleeping (waking a
/// sleeping thread costs about as much as the step itself), and sleeps when none comes. The caller runs part 0.
final class SpinPool: @unchecked Sendable {
    // @unchecked: `job` is the only unsynchronised state. One caller at a time holds the pool (`busy`); it writes
    // `job` before bumping `generation` (sequentially consistent) and clears it only after every thread has
    // decremented `pending` (acquiring): a thread reads `job` only between seeing the new generation and its decrement
    let threads: Int
    /// Bumped once per job; a thread runs a job when it sees a value it has not run.
    private let generation = Atomic<Int>(0)
    /// Threads still running the current job.
    private let pending = Atomic<Int>(0)
    private let busy = Mutex<Bool>(false)
    private var job: (@Sendable (Int) -> Void)?
    private let states: [Sleeper]

    /// A thread's way to sleep: state 1 while it is (about to be) asleep; whoever moves it from 1 to 0 decides
    /// whether the semaphore is signalled (the caller, when it publishes a job) or not (the thread, on seeing the
    /// job itself before sleeping).
    private final class Sleeper: Sendable {
        let state = Atomic<Int>(0)
        let semaphore = DispatchSemaphore(value: 0)
    }

    /// How long a thread spins for the next job before sleeping.
    static let spinNanoseconds: UInt64 = 200_000

    init(threads: Int) {
        self.threads = max(1, threads)
        states = (1..<max(1, threads)).map { _ in Sleeper() }
        for index in 1..<self.threads {
            let thread = Thread { [unowned self] in self.work(index) }
            thread.name = "inference-\(index)"
            thread.start()
        }
    }

    /// Runs `body(part)` for every part in `0..<threads`, part 0 on the calling thread; returns when all are
    /// done. False, with nothing run, when another caller holds the pool.
    func run(_ body: (Int) -> Void) -> Bool {
        guard busy.withLock({ held in
            if held { return false }
            held = true
            return true
        }) else { return false }
        defer { busy.withLock { $0 = false } }
        withoutActuallyEscaping(body) { body in
            // the parts touch disjoint memory by contract, which the compiler cannot see through raw pointers
            let shared = unsafeBitCast(body, to: (@Sendable (Int) -> Void).self)
            job = shared
            pending.store(threads - 1, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            for sleeper in states where sleeper.state.compareExchange(expected: 1, desired: 0, ordering: .sequentiallyConsistent).exchanged {
                sleeper.semaphore.signal()
            }
            body(0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 { Self.pause(&spins) }
            job = nil
        }
        return true
    }

    private func work(_ index: Int) {
        let sleeper = states[index - 1]
        var seen = 0
        while true {
            var current = generation.load(ordering: .acquiring)
            if current == seen {
                let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
                var spins = 0
                while current == seen {
                    Self.pause(&spins)
                    if spins & 63 == 0, DispatchTime.now().uptimeNanoseconds > deadline {
                        sleeper.state.store(1, ordering: .sequentiallyConsistent)
                        if generation.load(ordering: .sequentiallyConsistent) == seen
                            || !sleeper.state.compareExchange(expected: 1, desired: 0, ordering: .sequentiallyConsistent).exchanged {
                            sleeper.semaphore.wait()
                        }
                        spins = 0
                    }
                    current = generation.load(ordering: .acquiring)
                }
            }
            seen = current
            job?(index)
            pending.wrappingSubtract(1, ordering: .releasing)
        }
    }

    /// A spin step. After the first thousand, every 64th step yields the core: when there are more runnable
    /// threads than cores (tests side by side, a server's connections), the thread being waited for may be the one
    /// that needs it. (`_mm_pause` is a builtin Swift can declare but not link.)
    @inline(__always)
    static func pause(_ spins: inout Int) {
        spins &+= 1
        if spins > 1_000, spins & 63 == 0 { sched_yield() }
    }

    /// One pool per thread count, for the life of the process.
    static func shared(threads: Int) -> SpinPool {
        pools.withLock { pools in
            if let pool = pools[threads] { return pool }
            let pool = SpinPool(threads: threads)
            pools[threads] = pool
            return pool
        }
    }

    private static let pools = Mutex<[Int: SpinPool]>([:])
}
