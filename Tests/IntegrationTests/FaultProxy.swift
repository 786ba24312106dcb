import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// scripts/fault-proxy running in front of the local endpoint for one test.
final class FaultProxy {
    let process = Process()
    let url: String
    let logPath: String
    private let directory: URL

    init(target: String, throttle: Double = 0, unavailable: Double = 0, drop: Double = 0, dropAfter: Double = 0, latencyMS: Double = 0,
         seed: Int = 7) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fault-proxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let portFile = directory.appendingPathComponent("port").path
        logPath = directory.appendingPathComponent("requests.jsonl").path
        process.executableURL = StackFixture.repository.appendingPathComponent("scripts/fault-proxy")
        process.arguments = ["--target", target, "--port-file", portFile, "--throttle", "\(throttle)", "--unavailable", "\(unavailable)",
                             "--drop", "\(drop)", "--drop-after", "\(dropAfter)", "--latency", "\(latencyMS)", "--seed", "\(seed)", "--log", logPath]
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: portFile) {
            guard Date() < deadline, process.isRunning else { throw CocoaError(.fileReadNoSuchFile) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        url = "http://127.0.0.1:\(try String(contentsOfFile: portFile, encoding: .utf8))"
    }

    /// How many requests got each fault ("none" for those forwarded).
    func faults() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n") {
            let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            counts[(entry?["fault"] as? String) ?? "none", default: 0] += 1
        }
        return counts
    }

    deinit {
        // SIGKILL: a child of the test runner may inherit an ignored SIGTERM
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
