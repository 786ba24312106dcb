import Foundation
import Hashing

/// What this machine remembers of each shared state: the newest snapshot it has read or written. A snapshot older
/// than that, or another with the same serial, is refused on read, so a state put back in the bucket (an old
/// version copied over the current one) cannot roll a run back unseen.
///
/// Kept under `$XDG_CACHE_HOME/deploy/state-seen` (else `~/.cache/...`), one file per state URL, mode 0600.
public struct SeenSnapshots: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The cache directory the environment names.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> SeenSnapshots {
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".cache")
        return SeenSnapshots(directory: (base as NSString).appendingPathComponent("deploy/state-seen"))
    }

    struct Record: Codable {
        var url: String
        var serial: Int
        var sha256: String
    }

    /// The file that remembers `url`.
    public func path(for url: String) -> String {
        (directory as NSString).appendingPathComponent(String(SHA256.hex(url).prefix(32)) + ".json")
    }

    /// The newest snapshot of `url` seen here, if any.
    public func newest(_ url: String) -> SealedSnapshot.Seen? {
        guard let bytes = try? RegularFile.contents(path(for: url), limit: 1 << 16),
              let record = try? JSONDecoder().decode(Record.self, from: Data(bytes)), record.url == url else { return nil }
        return SealedSnapshot.Seen(serial: record.serial, sha256: record.sha256)
    }

    /// Remembers `seen` for `url` unless a newer snapshot is remembered already.
    public func record(_ seen: SealedSnapshot.Seen, for url: String) throws {
        if let known = newest(url), known.serial > seen.serial { return }
        let data = try JSONEncoder().encode(Record(url: url, serial: seen.serial, sha256: seen.sha256))
        try AtomicFile.makeDirectory(directory)
        try AtomicFile.write(data, to: path(for: url), mode: 0o600)
    }
}
