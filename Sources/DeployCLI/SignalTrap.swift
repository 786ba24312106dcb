import Dispatch
import Foundation
import Provision
#if canImport(Glibc)
import Glibc
#endif

enum SignalTrap {
    /// SIGINT and SIGTERM stop the run gently: nothing new is launched, running calls finish, state is written.
    /// The handler only stores to an atomic: a signal can land on any thread, and on Linux a dispatch signal source
    /// misses those that land on threads not blocking it. A timer reports the stop.
    static func install(_ stop: StopFlag, _ console: Console) -> [any DispatchSourceProtocol] {
        _ = StopFlag.signalled.load(ordering: .relaxed)  // initialised here, never first touched inside the handler
        for number in [SIGINT, SIGTERM] {
            signal(number) { _ in StopFlag.signalled.store(true, ordering: .relaxed) }
        }
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
