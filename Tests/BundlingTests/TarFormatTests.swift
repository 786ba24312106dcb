@testable import Bundling
import Foundation
import Hashing
import Testing

/// The tar headers bundles write, read back by our reader and by Python's tarfile: a name past ustar's 100 bytes
/// (and not ASCII) and a size past its 8 GiB go in a pax header. The data is a hole in a sparse file, so a 9 GiB
/// entry costs no disk.
@Suite("bundle tar format")
struct TarFormatTests {
    static let longName = "Stacks/artifacts/" + String(repeating: "modèle-", count: 20) + "q4_k_m.gguf"
    static let hugeSize: Int64 = 9 << 30

    /// Headers for one file of `size` bytes, then a hole for its data and the end-of-archive marker.
    static func sparseArchive(name: String, size: Int64) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tar-\(UInt32.random(in: 0...UInt32.max)).tar").path
        let headers = Tar.headers(path: name, size: size, mode: 0o644, mtime: 1_764_547_200)
        FileManager.default.createFile(atPath: path, contents: Data(headers))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(Int64(headers.count) + size + Int64(Tar.padding(size))) + UInt64(Tar.endOfArchive.count))
        try handle.close()
        return path
    }

    @Test("a long, non-ASCII name and a 9 GiB size round-trip through pax headers")
    func paxRoundTrip() throws {
        let path = try Self.sparseArchive(name: Self.longName, size: Self.hugeSize)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let entries = try TarReader.entries(try ArchiveSource(path))
        #expect(entries.map(\.path) == [Self.longName])
        #expect(entries.first?.size == Self.hugeSize)
        #expect(entries.first?.offset == Int64(3 * 512), "a pax header and its record block come first")

        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", "import sys, tarfile; m = tarfile.open(sys.argv[1]).getmembers(); print(m[0].name); print(m[0].size)", path]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        python.waitUntilExit()
        let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        #expect(lines == [Substring(Self.longName), Substring(String(Self.hugeSize))], "Python's tarfile reads the same")
    }

    @Test("a short ASCII name under 8 GiB needs no pax header")
    func plainUstar() throws {
        let headers = Tar.headers(path: "Stacks/stack.json5", size: 900, mode: 0o644, mtime: 0)
        #expect(headers.count == 512)
        #expect(TarReader.checksumMatches(headers))
        #expect(TarReader.octal(headers[124..<136]) == 900)
    }

    @Test("pax records count their own length", arguments: [("path", "x"), ("path", String(repeating: "a", count: 95)), ("size", "9663676416")])
    func paxRecordLength(_ key: String, _ value: String) {
        let record = Tar.paxRecord(key, value)
        let text = String(decoding: record, as: UTF8.self)
        #expect(Int(text.prefix { $0 != " " }) == record.count)
        #expect(TarReader.paxRecords(record) == [key: value])
    }

    @Test("Ed25519: a signature verifies with its key only, and not over other bytes")
    func signatures() throws {
        let key = Ed25519.PrivateKey.generate()
        let other = Ed25519.PrivateKey.generate()
        let message = Array("manifest".utf8)
        let signature = key.sign(message)
        #expect(key.publicKey.verify(message, signature: signature))
        #expect(!other.publicKey.verify(message, signature: signature))
        #expect(!key.publicKey.verify(Array("manifesT".utf8), signature: signature))
        let reloaded = try Ed25519.PublicKey(pem: key.publicKey.pem, file: "key.pub")
        #expect(reloaded.fingerprint == key.publicKey.fingerprint && reloaded.fingerprint.hasPrefix("SHA256:"))
        #expect(throws: Ed25519.KeyError.self) { try Ed25519.PublicKey(pem: key.pem, file: "key") }
    }
}
