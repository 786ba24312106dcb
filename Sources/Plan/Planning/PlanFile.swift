import Hashing
import AWS
import Foundation
import Stack
import TextSafety
import Diagnostics

/// A saved plan (`deploy plan --out FILE`): the plan, plus what it was made from so that apply can refuse it
/// once the stack, the templates or the state have moved on.
///
/// It holds no attribute values beyond the rendered plan (sensitive ones left out); apply re-evaluates the
/// stack, whose digest must still match, and so never needs a secret from this file.
public struct PlanFile: Codable, Sendable {
    public static let format = "deploy.planfile/1"

    public var format: String
    public var created: String
    /// The stack file, as an absolute path, so that the plan applies from any directory.
    public var stackFile: String
    /// The templates directory the plan was made with (absolute), when one was named.
    public var templatesDirectory: String?
    public var stackName: String
    public var stackDigest: String
    /// The state the plan was made against; nil when there was none.
    public var lineage: String?
    public var serial: Int?
    public var statePath: String
    /// Each planned action as `kind address`, to compare with a fresh plan.
    public var actions: [String]
    /// A digest of every value the plan sets (`Plan.valuesDigest`): an artifact whose contents changed, or a live
    /// value that moved, changes it while the actions stay the same. Absent from plan files written before it.
    public var values: String?
    public var summary: String
    /// SHA-256 of everything above, so that a damaged or edited plan is refused as such.
    public var checksum: String?

    public init(plan: Plan, stackFile: String, templatesDirectory: String? = nil, statePath: String, created: Date = Date()) {
        format = Self.format
        self.created = ISO8601DateFormatter().string(from: created)
        self.stackFile = Paths.absolute(stackFile)
        self.templatesDirectory = templatesDirectory.map(Paths.absolute)
        stackName = plan.stack.name
        stackDigest = plan.stackDigest
        lineage = plan.lineage
        serial = plan.serial
        self.statePath = statePath.hasPrefix("s3://") ? statePath : Paths.absolute(statePath)
        actions = plan.actions.filter { $0.kind != .noop }.map { "\($0.kind.rawValue) \($0.address)" }
        values = plan.valuesDigest
        summary = plan.summary
    }

    /// A plan file that cannot be used at all: unreadable, damaged, edited, or not a plan.
    public struct DamagedError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "the plan file '\(SafeText.quoted(path))' \(reason); run deploy plan --out again" }
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

    /// Checks that `plan`, made now under the lock, would do exactly what this file showed: the same actions on the
    /// same resources, setting the same values.
    public func checkSame(as plan: Plan) throws(StaleError) {
        let current = plan.actions.filter { $0.kind != .noop }.map { "\($0.kind.rawValue) \($0.address)" }
        guard current == actions else {
            // the file's checksum holds and the stack and state are those it was made from: only the account moved
            throw StaleError(reason: "the account changed since it was made (a refresh now plans something else)")
        }
        if let values, values != plan.valuesDigest {
            throw StaleError(reason: "the values it would set changed since it was made (an artifact's contents, or a value read "
                + "from the account)")
        }
    }

    public func write(to path: String) throws {
        var sealed = self
        sealed.checksum = try computedChecksum()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let directory = (path as NSString).deletingLastPathComponent
        try AtomicFile.makeDirectory(directory)
        try AtomicFile.write(try encoder.encode(sealed), to: path, mode: 0o600)
    }

    /// The checksum of the file's content, its own field left out.
    func computedChecksum() throws -> String {
        var unsealed = self
        unsealed.checksum = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return "sha256:" + Digest.hex(Digest.sha256(try encoder.encode(unsealed)))
    }

    /// Reads a saved plan and verifies its checksum; anything else is a `DamagedError` naming what is wrong.
    public static func read(_ path: String) throws(DamagedError) -> PlanFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DamagedError(path: path, reason: "does not exist")
        }
        guard !isDirectory.boolValue else { throw DamagedError(path: path, reason: "is a directory") }
        let data: Data
        do {
            data = Data(try RegularFile.contents(path))
        } catch {
            throw DamagedError(path: path, reason: error.reason)
        }
        let file: PlanFile
        do {
            file = try JSONDecoder().decode(PlanFile.self, from: data)
        } catch {
            throw DamagedError(path: path, reason: "is damaged or not a deploy plan (\(Self.reason(error)))")
        }
        guard file.format == format else {
            throw DamagedError(path: path, reason: "is a '\(SafeText.quoted(file.format))' file, not \(format)")
        }
        guard let recorded = file.checksum else { throw DamagedError(path: path, reason: "has no checksum; it was not written by deploy plan") }
        guard let actual = try? file.computedChecksum(), actual == recorded else {
            throw DamagedError(path: path, reason: "does not match its checksum: it was edited or damaged after deploy plan wrote it")
        }
        return file
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted: "not valid JSON"
        case DecodingError.keyNotFound(let key, _): "'\(key.stringValue)' is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        default: "unreadable"
        }
    }
}

extension PlanFile.StaleError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}

extension PlanFile.DamagedError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
