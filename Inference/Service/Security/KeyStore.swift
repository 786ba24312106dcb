import Hashing
import Foundation
import Synchronization
import TextSafety
#if canImport(Glibc)
import Glibc
import Diagnostics
#endif

/// API keys: a JSON file mapping the SHA-256 of each key to the identity it stands for (a user or a team). Keys
/// never rest in clear; `add` shows a new key once. The running server re-reads the file when it changes, so a
/// revoked key stops working within a second, without a restart.
public final class KeyStore: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var sha256: String
        public var created: String
    }

    struct File: Codable {
        var format = "inference-server.keys/1"
        var keys: [Entry]
    }

    public struct KeyError: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    private struct Loaded {
        var byHash: [String: String] = [:]
        var stamp: FileStamp?
        var checked = ContinuousClock.now - .seconds(10)
    }
    private let loaded = Mutex(Loaded())

    public init(path: String) throws(KeyError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw KeyError(description: "the keys file \(path) does not exist; create one with: inference-server keys add NAME --keys \(path)")
        }
        try reload(force: true)
    }

    /// The identity a presented key belongs to, or nil. Re-reads the file at most once a second when it changed.
    public func identity(forKey key: String) -> String? {
        try? reload(force: false)
        let hash = SHA256.hex(key)
        return loaded.withLock { $0.byHash[hash] }
    }

    private func reload(force: Bool) throws(KeyError) {
        let due = loaded.withLock { state -> Bool in
            guard force || ContinuousClock.now - state.checked >= .seconds(1) else { return false }
            state.checked = ContinuousClock.now
            return true
        }
        guard due else { return }
        let stamp = FileStamp(path)
        if !force, loaded.withLock({ $0.stamp == stamp }) { return }
        let entries = try Self.read(path)
        loaded.withLock { state in
            state.byHash = Dictionary(entries.map { ($0.sha256, $0.name) }) { first, _ in first }
            state.stamp = stamp
        }
    }

    static func read(_ path: String) throws(KeyError) -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        do {
            return try JSONDecoder().decode(File.self, from: data).keys
        } catch {
            throw KeyError(description: "the keys file \(path) is not a keys file written by inference-server")
        }
    }

    /// Creates a key for `name`, records its hash, and returns the key: the only time it exists in clear.
    public static func add(name: String, path: String, now: Date = Date()) throws(KeyError) -> String {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw KeyError(description: "a key name is 1 to 64 letters, digits and - _ . @, not '\(SafeText.quoted(name))'")
        }
        var entries = FileManager.default.fileExists(atPath: path) ? try read(path) : []
        guard !entries.contains(where: { $0.name == name }) else {
            throw KeyError(description: "a key named \(name) exists; revoke it first to replace it")
        }
        var generator = SystemRandomNumberGenerator()
        let key = "sk-" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        entries.append(Entry(name: name, sha256: SHA256.hex(key), created: ISO8601DateFormatter().string(from: now)))
        try write(entries, to: path)
        return key
    }

    /// Removes `name`'s key; the running server refuses it within a second.
    public static func revoke(name: String, path: String) throws(KeyError) {
        var entries = try read(path)
        guard entries.contains(where: { $0.name == name }) else { throw KeyError(description: "no key named \(name) in \(path)") }
        entries.removeAll { $0.name == name }
        try write(entries, to: path)
    }

    public static func list(path: String) throws(KeyError) -> [Entry] { try read(path) }

    /// Replaces the file atomically, readable by its owner only (`OwnerOnlyFile`).
    private static func write(_ entries: [Entry], to path: String) throws(KeyError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(File(keys: entries)) else { throw KeyError(description: "cannot encode the keys") }
        if let failure = OwnerOnlyFile.replace(path, with: data) { throw KeyError(description: failure) }
    }
}

/// What tells a changed file from an unchanged one without reading it.
struct FileStamp: Equatable, Sendable {
    var inode: UInt64
    var size: Int64
    var modified: Int
    var modifiedNanoseconds: Int

    init?(_ path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        modified = status.st_mtim.tv_sec
        modifiedNanoseconds = status.st_mtim.tv_nsec
    }
}

extension KeyStore.KeyError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
