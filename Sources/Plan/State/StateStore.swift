import Hashing
import AWS
import Foundation
import Stack

/// Reads and writes one stack's state file: mode 0600, replaced atomically, the previous kept as `.backup`,
/// a checksum verified on every load.
public struct StateStore: StateBackend {
    public let path: String

    public var location: String { path }

    /// Takes the lock file beside the state (`StateLock`).
    public func lock(operation: String, now: Date) throws(LockError) -> any StateLease {
        try StateLock.acquire(statePath: path, operation: operation, now: now)
    }

    public init(path: String) {
        self.path = path
    }

    /// `.deploy/<stack>.state.json` beside the stack file.
    public static func defaultPath(stackFile: String, stackName: String) -> String {
        let directory = (stackFile as NSString).deletingLastPathComponent
        return ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(".deploy/\(stackName).state.json")
    }

    public var backupPath: String { path + ".backup" }

    /// The recorded state, or nil when the stack was never applied.
    public func load() throws(StateError) -> State? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        // a FIFO or a device given as --state is refused, never waited on
        let data: Data
        do {
            data = Data(try RegularFile.contents(path))
        } catch {
            throw StateError(error.isNotRegular ? .notRegularFile : .unreadable, path: path, error.reason)
        }
        return try Self.decode(data, path: path)
    }

    /// Where the state before this one is kept, when it is: a hint names only a backup that exists.
    private static func previous(_ path: String) -> String {
        FileManager.default.fileExists(atPath: path + ".backup") ? "; the previous state is in \(path).backup" : "; no earlier state was kept"
    }

    /// The state in `data`, its format version and checksum checked; `path` names where it came from in errors.
    public static func decode(_ data: Data, path: String) throws(StateError) -> State {
        let state: State
        do {
            state = try JSONDecoder().decode(State.self, from: data)
        } catch {
            throw StateError(.corrupt, path: path, "is not a valid state document (\(Self.reason(error)))" + previous(path))
        }
        guard state.version <= State.currentVersion else {
            throw StateError(.unsupportedVersion, path: path, "has format version \(state.version); this deploy reads up to \(State.currentVersion)")
        }
        guard let recorded = state.checksum else {
            throw StateError(.corrupt, path: path, "has no checksum; it was not written by deploy")
        }
        guard recorded == (try checksum(of: state, path: path)) else {
            throw StateError(.corrupt, path: path, "checksum does not match its content (edited or damaged)" + previous(path))
        }
        return state
    }

    /// Writes `state` with a fresh checksum; the caller has bumped the serial.
    public func write(_ state: State) throws(StateError) {
        let data = try Self.encode(state, path: path)
        do {
            try AtomicFile.makeDirectory((path as NSString).deletingLastPathComponent)
            try AtomicFile.write(data, to: path, mode: 0o600, backup: backupPath)
        } catch {
            throw StateError(.writeFailed, path: path, "\(error)")
        }
    }

    /// The state as a document with its checksum: what is written, locally or (sealed) in a bucket.
    public static func encode(_ state: State, path: String) throws(StateError) -> Data {
        var sealed = state
        sealed.checksum = try checksum(of: state, path: path)
        do {
            return try encoder.encode(sealed)
        } catch {
            throw StateError(.writeFailed, path: path, "cannot be encoded: \(error)")
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func checksum(of state: State, path: String) throws(StateError) -> String {
        var unsealed = state
        unsealed.checksum = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return "sha256:" + Digest.hex(Digest.sha256(try encoder.encode(unsealed)))
        } catch {
            throw StateError(.writeFailed, path: path, "cannot be encoded: \(error)")
        }
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): context.debugDescription
        case DecodingError.keyNotFound(let key, _): "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "\(error)"
        }
    }
}
