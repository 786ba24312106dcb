import Hashing
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The append-only record of every request, refused ones included, as JSON Lines. Each record starts with its own
/// SHA-256 (over the rest of its line) and carries the hash of the record before it, so an edited, deleted,
/// inserted or reordered line breaks the chain where it happened. Every record is synced to disk before the
/// response goes out; past `maxBytes` the file is rotated, and the new file's first record carries the old file's
/// last hash.
public final class AuditLog: Sendable {
    /// Hashes stand in for the prompt and the completion with `digest`; `full` keeps the text.
    public enum Content: String, Sendable { case full, digest }

    public struct LogError: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    public let content: Content
    public let maxBytes: Int
    private struct Open {
        var descriptor: Int32
        var size: Int
        var lastHash: String
    }
    private let file: Mutex<Open>

    /// The hash a chain starts from.
    public static let genesis = String(repeating: "0", count: 64)

    public init(path: String, content: Content = .full, maxBytes: Int = 256 * 1024 * 1024) throws(LogError) {
        self.path = path
        self.content = content
        self.maxBytes = maxBytes
        var last = try Self.lastHash(path)
        if last == nil { last = try Self.lastHash(Self.rotatedPath(path, 1)) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LogError(description: "cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        var status = stat()
        fstat(descriptor, &status)
        file = Mutex(Open(descriptor: descriptor, size: Int(status.st_size), lastHash: last ?? Self.genesis))
    }

    deinit {
        file.withLock { if $0.descriptor >= 0 { Glibc.close($0.descriptor) } }
    }

    /// Appends one record (a JSON object of strings, numbers, bools and nested objects), chained to the one before,
    /// and syncs it to disk.
    public func append(_ record: [String: Any]) throws(LogError) {
        try file.withLock { (open: inout Open) throws(LogError) in
            var fields = record
            fields["prev"] = open.lastHash
            guard let body = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
                throw LogError(description: "an audit record could not be encoded")
            }
            let hash = SHA256.hex(Array(body))
            let line = Array("{\"hash\":\"\(hash)\",".utf8) + body.dropFirst() + [10]
            if open.size > 0, open.size + line.count > maxBytes { try rotate(&open) }
            let written = line.withUnsafeBytes { Glibc.write(open.descriptor, $0.baseAddress, $0.count) }
            guard written == line.count, fsync(open.descriptor) == 0 else {
                throw LogError(description: "cannot write the audit log \(path): \(String(cString: strerror(errno)))")
            }
            open.size += line.count
            open.lastHash = hash
        }
    }

    /// `path.1` is the newest rotated file, `path.2` the one before, and so on.
    static func rotatedPath(_ path: String, _ generation: Int) -> String { "\(path).\(generation)" }

    private func rotate(_ open: inout Open) throws(LogError) {
        var generation = 1
        while FileManager.default.fileExists(atPath: Self.rotatedPath(path, generation)) { generation += 1 }
        while generation > 1 {
            rename(Self.rotatedPath(path, generation - 1), Self.rotatedPath(path, generation))
            generation -= 1
        }
        guard rename(path, Self.rotatedPath(path, 1)) == 0 else {
            throw LogError(description: "cannot rotate the audit log \(path): \(String(cString: strerror(errno)))")
        }
        Glibc.close(open.descriptor)
        // never left naming the closed descriptor: deinit would close it again, by then perhaps another file's
        open.descriptor = -1
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LogError(description: "cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        open.descriptor = descriptor
        open.size = 0
    }

    /// The hash of the last record in `path`, nil when the file is missing or empty.
    static func lastHash(_ path: String) throws(LogError) -> String? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let hash = parse(String(line))?.hash else {
            throw LogError(description: "the audit log \(path) does not end in a record of its chain; move it aside to start a new one")
        }
        return hash
    }

    /// A line's own hash, the hash it names as the one before, and whether its hash matches its content.
    static func parse(_ line: String) -> (hash: String, previous: String, intact: Bool)? {
        let prefix = "{\"hash\":\""
        guard line.hasPrefix(prefix), line.count > prefix.count + 66 else { return nil }
        let hashStart = line.index(line.startIndex, offsetBy: prefix.count)
        let hashEnd = line.index(hashStart, offsetBy: 64)
        let hash = String(line[hashStart..<hashEnd])
        guard line[hashEnd...].hasPrefix("\",") else { return nil }
        let body = "{" + line[line.index(hashEnd, offsetBy: 2)...]
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let previous = object["prev"] as? String else { return nil }
        return (hash, previous, SHA256.hex(body) == hash)
    }

    /// What `audit verify` found.
    public struct Verification: Sendable, Equatable {
        public var records: Int
        /// The first line that breaks the chain, as `file:line: reason`; nil when all is intact.
        public var failure: String?
    }

    /// Verifies `paths` in order (older rotated files first): every line's hash matches its content and names the
    /// line before it; across files, a file's first record names the previous file's last.
    public static func verify(_ paths: [String]) -> Verification {
        var previous: String?
        var records = 0
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                return Verification(records: records, failure: "\(path): cannot be read")
            }
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                if line.isEmpty, index == lines.count - 1 { break }
                let number = index + 1
                guard let parsed = parse(String(line)) else {
                    return Verification(records: records, failure: "\(path):\(number): not a record of the chain")
                }
                guard parsed.intact else {
                    return Verification(records: records, failure: "\(path):\(number): the record was changed (its hash does not match its content)")
                }
                // the very first record may continue a rotated file that was not given; every later one names its predecessor
                if let previous, parsed.previous != previous {
                    return Verification(records: records, failure: "\(path):\(number): the record before it is missing, extra or out of order")
                }
                previous = parsed.hash
                records += 1
            }
        }
        return Verification(records: records, failure: nil)
    }
}
