import Dispatch
import Foundation
import Plan
import Provision
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public enum SignalTrap {
    /// Above zero while a run is changing things: a signal then stops it gently (`install`) or waits for the change
    /// to finish (`deferring`); at zero it ends the process at once (`installEarly`).
    static let executing = Atomic<Int>(0)
    /// The signal that arrived while no run was changing things, 0 if none.
    static let early = Atomic<Int32>(0)

    /// What SIGINT and SIGTERM do at any time: only atomic stores, since a signal can land on any thread.
    static let handler: @convention(c) (Int32) -> Void = { number in
        if SignalTrap.executing.load(ordering: .relaxed) == 0 { SignalTrap.early.store(number, ordering: .relaxed) }
        StopFlag.signalled.store(true, ordering: .relaxed)
    }

    /// For the `deploy` process, before any command runs: a signal that arrives while nothing is being changed (a
    /// plan refreshing, a prompt waiting) gives back every state lock held, so that a shared lock does not sit out
    /// its lease, and exits 130 (SIGINT) or 143 (SIGTERM). Once a run starts changing things, `install` takes over.
    public static func installEarly(environment: [String: String]) {
        let console = Console.standard(environment: environment)
        _ = StopFlag.signalled.load(ordering: .relaxed)
        _ = early.load(ordering: .relaxed)
        for number in [SIGINT, SIGTERM] { signal(number, handler) }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "deploy.early-signals"))
        timer.schedule(deadline: .now(), repeating: .milliseconds(50))
        let reported = LockedReport()
        timer.setEventHandler {
            let number = early.load(ordering: .relaxed)
            guard number != 0, reported.first() else { return }
            if HeldLeases.shared.count > 0 { console.err("Interrupted: giving back the state lock.") }
            let code = 128 + number
            DispatchQueue.global().asyncAfter(deadline: .now() + 10) { exit(code) }
            Task {
                await HeldLeases.shared.releaseAll()
                exit(code)
            }
        }
        timer.resume()
        earlyTimer = timer
    }

    /// Runs `body`, a change to a state (an edit, a push, a restore), without letting an interrupt cut it short: a
    /// signal during it is ignored, and the change finishes and reports as it would have.
    static func deferring<T>(_ body: () async throws -> T) async rethrows -> T {
        executing.add(1, ordering: .relaxed)
        defer { executing.subtract(1, ordering: .relaxed) }
        return try await body()
    }

    /// Kept for the life of the process; set once, at its start, before any other thread runs.
    nonisolated(unsafe) private static var earlyTimer: (any DispatchSourceProtocol)?

    /// SIGINT and SIGTERM stop the run gently: nothing new is launched, running calls finish, state is written.
    /// The handler only stores to an atomic: a signal can land on any thread, and on Linux a dispatch signal source
    /// misses those that land on threads not blocking it. A timer reports the stop.
    static func install(_ stop: StopFlag, _ console: Console) -> [any DispatchSourceProtocol] {
        _ = StopFlag.signalled.load(ordering: .relaxed)  // initialised here, never first touched inside the handler
        executing.add(1, ordering: .relaxed)
        for number in [SIGINT, SIGTERM] { signal(number, handler) }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "deploy.signals"))
        timer.schedule(deadline: .now(), repeating: .milliseconds(50))
        let reported = LockedReport()
        timer.setEventHandler {
            if StopFlag.signalled.load(ordering: .relaxed), reported.first() {
                stop.stop()
                console.err("Interrupted: launching nothing new; waiting for running calls to finish and the state to be written.")
            }
        }
        timer.resume()
        return [timer]
    }
}

extension SignalTrap {
    /// The trap's timers, from the moment a run starts changing things until the run is over.
    final class Armed: @unchecked Sendable {
        // @unchecked: `sources` is only touched under `lock`
        private let lock = NSLock()
        private var sources: [any DispatchSourceProtocol] = []

        func arm(_ installed: [any DispatchSourceProtocol]) { lock.withLock { sources += installed } }

        func cancel() {
            lock.withLock {
                if !sources.isEmpty { SignalTrap.executing.subtract(1, ordering: .relaxed) }
                sources.forEach { $0.cancel() }
                sources = []
            }
        }
    }
}

/// True the first time it is asked, false after.
final class LockedReport: @unchecked Sendable {
    // @unchecked: `done` is only touched under `lock`
    private let lock = NSLock()
    private var done = false

    func first() -> Bool {
        lock.withLock {
            defer { done = true }
            return !done
        }
    }
}
