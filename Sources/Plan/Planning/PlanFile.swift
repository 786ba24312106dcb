import Foundation
import Stack

/// A saved plan (`deploy plan --out FILE`): the plan, plus what it was made from so that apply can refuse it
/// once the stack, the templates or the state have moved on.
///
/// It holds no attribute values beyond the rendered plan (sensitive ones left out); apply re-evaluates the
/// stack, whose digest must still match, and so never needs a secret from this file.
public struct PlanFile: Codable, Sendable {
    public static let format = "deploy.planfile/1"

    public var format: String
    public var created: String
    public var stackFile: String
    public var stackName: String
    public var stackDigest: String
    /// The state the plan was made against; nil when there was none.
    public var lineage: String?
    public var serial: Int?
    public var statePath: String
    /// Each planned action as `kind address`, to compare with a fresh plan.
    public var actions: [String]
    public var summary: String

    public init(plan: Plan, stackFile: String, statePath: String, created: Date = Date()) {
        format = Self.format
        self.created = ISO8601DateFormatter().string(from: created)
        self.stackFile = stackFile
        stackName = plan.stack.name
        stackDigest = plan.stackDigest
        lineage = plan.lineage
        serial = plan.serial
        self.statePath = statePath
        actions = plan.actions.filter { $0.kind != .noop }.map { "\($0.kind.rawValue) \($0.address)" }
        summary = plan.summary
    }

    /// Why the plan can no longer be applied.
    public struct StaleError: Error, Sendable, CustomStringConvertible {
        public var reason: String
        public init(reason: String) { self.reason = reason }
        public var description: String { "the saved plan is stale: \(reason); run deploy plan again" }
    }

    /// Checks the plan against the stack's current digest and state.
    public func checkCurrent(stackDigest current: String, state: State?) throws(StaleError) {
        guard current == stackDigest else {
            throw StaleError(reason: "the stack file or a template changed since it was made")
        }
        switch (lineage, state) {
        case (nil, nil):
            return
        case (nil, .some(let state)):
            throw StaleError(reason: "it was made before any state existed; the state is now at serial \(state.serial)")
        case (.some, nil):
            throw StaleError(reason: "the state it was made against no longer exists")
        case (.some(let lineage), .some(let state)):
            guard lineage == state.lineage else {
                throw StaleError(reason: "the state has a different lineage (\(state.lineage), the plan's is \(lineage))")
            }
            guard serial == state.serial else {
                throw StaleError(reason: "the state was written since (serial \(state.serial), the plan's is \(serial ?? 0))")
            }
        }
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let directory = (path as NSString).deletingLastPathComponent
        try AtomicFile.makeDirectory(directory)
        try AtomicFile.write(try encoder.encode(self), to: path, mode: 0o600)
    }

    /// Reads a saved plan; a file that is not one is reported as such.
    public static func read(_ path: String) throws -> PlanFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StaleError(reason: "cannot read '\(path)'")
        }
        let file = try JSONDecoder().decode(PlanFile.self, from: data)
        guard file.format == format else { throw StaleError(reason: "'\(path)' is a \(file.format) file, not \(format)") }
        return file
    }
}
