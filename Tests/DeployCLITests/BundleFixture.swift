@testable import Bundling
import DeployTestSupport
import Foundation

/// Signed bundles of the shipped stack made in a scratch directory (in process, with a stand-in for the binaries),
/// and the means to rewrite one entry by entry, as someone holding the archive but not the key could.
struct BundleFixture {
    let directory: String
    let key: String

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-bundles-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        key = directory + "/signing"
        try "#!/bin/sh\necho stand-in\n".write(toFile: directory + "/binary", atomically: true, encoding: .utf8)
        let (code, output) = await CommandLineTests().run(["bundle", "keygen", "--out", key])
        guard code == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["stderr": output.stderr]) }
    }

    /// Another key pair, in the same directory.
    func otherKey(_ name: String) async throws -> String {
        let path = directory + "/" + name
        let (code, _) = await CommandLineTests().run(["bundle", "keygen", "--out", path])
        guard code == 0 else { throw CocoaError(.fileWriteUnknown) }
        return path
    }

    /// A bundle of the shipped stack with release `sequence`, signed with `key` (the fixture's by default), made at
    /// `epoch` (SOURCE_DATE_EPOCH): the same inputs and epoch give the same bundle, another epoch another one.
    func export(_ name: String, sequence: Int64, key: String? = nil, epoch: Int64 = 1_764_547_200) async throws -> String {
        let path = directory + "/" + name
        let (code, output) = await CommandLineTests().run(["bundle", "export", "--stack", ShippedStack.path(), "--out", path,
                                                           "--sign-key", key ?? self.key, "--server", directory + "/binary",
                                                           "--deploy", directory + "/binary", "--sequence", String(sequence)],
                                                          environment: ["HOME": "/nonexistent", "SOURCE_DATE_EPOCH": String(epoch)])
        guard code == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["stderr": output.stderr]) }
        return path
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    typealias Entry = (path: String, data: [UInt8])

    /// The archive's entries, in order, with their data.
    static func entries(_ path: String) throws -> [Entry] {
        let source = try ArchiveSource(path)
        return try TarReader.entries(source).map { entry in
            (entry.path, try source.bytes(at: entry.offset, count: Int(entry.size), what: entry.path))
        }
    }

    /// Writes `entries` as a POSIX tar at `path`, the way export writes (pax headers for long names).
    static func write(_ entries: [Entry], to path: String) throws {
        var bytes: [UInt8] = []
        for entry in entries {
            bytes += Tar.headers(path: entry.path, size: Int64(entry.data.count), mode: 0o644, mtime: 0)
            bytes += entry.data + [UInt8](repeating: 0, count: Tar.padding(Int64(entry.data.count)))
        }
        bytes += Tar.endOfArchive
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A copy of the bundle at `source` with `change` made to its entries, at `name` in the scratch directory.
    func forge(_ source: String, _ name: String, _ change: (inout [Entry]) throws -> Void) throws -> String {
        var entries = try Self.entries(source)
        try change(&entries)
        let path = directory + "/" + name
        try Self.write(entries, to: path)
        return path
    }
}

extension Array where Element == BundleFixture.Entry {
    /// Replaces the data of the entry at `path`.
    mutating func replace(_ path: String, _ change: ([UInt8]) throws -> [UInt8]) rethrows {
        guard let index = firstIndex(where: { $0.path == path }) else { return }
        self[index].data = try change(self[index].data)
    }

    /// Adds an entry among the files, before the manifest and its signature.
    mutating func insertBeforeManifest(_ entry: BundleFixture.Entry) {
        insert(entry, at: firstIndex { $0.path == BundleManifest.path } ?? endIndex)
    }
}

/// A JSON document's bytes with one top-level key set to `value`, keys sorted as deploy writes them.
func rewritingJSON(_ bytes: [UInt8], _ key: String, _ value: Any) throws -> [UInt8] {
    guard var object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { throw CocoaError(.coderReadCorrupt) }
    object[key] = value
    return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) + [10]
}
