import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `deploy` binary and captures what it prints.
enum DeployProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Killed for running past the `timeout` given to `run`.
        var timedOut = false

        func json() throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
            guard let dictionary = object as? [String: Any] else { throw CocoaError(.coderReadCorrupt) }
            return dictionary
        }
    }

    /// The binary beside the test bundle (swift build puts every product in one folder), or DEPLOY_BINARY.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["DEPLOY_BINARY"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "Contents"
            || directory.lastPathComponent == "MacOS" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("deploy")
    }

    /// Runs `deploy` (or another `executable`) to completion, or, with `timeout`, kills it with SIGKILL once that many
    /// seconds have passed (a hang then fails a test instead of blocking it).
    static func run(_ arguments: [String], environment: [String: String], executable: URL = binary, timeout: Double? = nil) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let watch = TimeoutWatch()
        if let timeout {
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if watch.expire() { Glibc.kill(pid, SIGKILL) }
            }
        }
        // stderr is drained on another thread, so that a chatty child never blocks on a full pipe
        let stderrBox = DataBox()
        let reader = Thread { stderrBox.data = err.fileHandleForReading.readDataToEndOfFile(); stderrBox.done.signal() }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        stderrBox.done.wait()
        let stderr = stderrBox.data
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self),
                      timedOut: watch.finish() && process.terminationReason == .uncaughtSignal)
    }
}

/// Whether a run's time ran out before it finished: whichever of the two comes first wins.
final class TimeoutWatch: @unchecked Sendable {
    // @unchecked: both flags are only touched under `lock`
    private let lock = NSLock()
    private var finished = false
    private var expired = false

    /// The time is up: true (kill it) unless the process already finished.
    func expire() -> Bool {
        lock.withLock {
            expired = !finished
            return expired
        }
    }

    /// The process finished: returns whether its time had run out first.
    func finish() -> Bool {
        lock.withLock {
            finished = true
            return expired
        }
    }
}

/// Where the stderr reader thread leaves what it read.
final class DataBox: @unchecked Sendable {
    // @unchecked: written once by the reader thread before `done` is signalled, read only after waiting on it
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}

extension DeployProcess {
    /// Runs `deploy` and kills it with SIGKILL as soon as `kill` says so for a line of its output (or after `delay`
    /// seconds, when given); returns whether it was killed before it finished, and what it printed.
    static func runKilling(_ arguments: [String], environment: [String: String], delay: Double? = nil, signal: Int32 = SIGKILL,
                           kill shouldKill: (Int, String) -> Bool) throws -> (killed: Bool, output: String, status: Int32) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let pid = process.processIdentifier
        if let delay {
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { Glibc.kill(pid, signal) }
        }
        var output = ""
        var pending = ""
        var lineNumber = 0
        var killed = false
        while true {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            pending += String(decoding: data, as: UTF8.self)
            while let newline = pending.firstIndex(of: "\n") {
                let line = String(pending[..<newline])
                pending.removeSubrange(...newline)
                output += line + "\n"
                lineNumber += 1
                if !killed, shouldKill(lineNumber, line) {
                    Glibc.kill(pid, signal)
                    killed = true
                }
            }
        }
        process.waitUntilExit()
        return (process.terminationReason == .uncaughtSignal, output, process.terminationStatus)
    }
}
