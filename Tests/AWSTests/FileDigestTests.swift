import Foundation
import Hashing
import Testing

/// Streamed SHA-256 of files and of their parts, against the one-shot digest of the same bytes.
@Suite("file digests")
struct FileDigestTests {
    @Test("the FIPS 180-2 vectors, whole and fed in pieces")
    func vectors() {
        let cases = [("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
                     ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                     ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
        for (text, hex) in cases {
            #expect(SHA256.hex(text) == hex)
            var streamed = SHA256()
            for character in text.utf8 { withUnsafeBytes(of: character) { streamed.update($0) } }
            #expect(Hex.encode(streamed.finish()) == hex)
        }
    }

    @Test("parts of a file hash as the slices they are, in one pass that also gives the whole", arguments: [1, 3, 4 << 20, 10 << 20])
    func parts(_ tail: Int) throws {
        let bytes = (0..<(8 << 20) + tail).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let partSize = 4 << 20
        let result = try FileDigest.parts(path: path, partSize: Int64(partSize))
        #expect(result.size == Int64(bytes.count) && result.whole == SHA256.digest(bytes))
        let slices = stride(from: 0, to: bytes.count, by: partSize).map { Array(bytes[$0..<min(bytes.count, $0 + partSize)]) }
        #expect(result.parts == slices.map { SHA256.digest($0) })
        #expect(try FileDigest.summary(path: path).sha256 == result.whole)
        #expect(try FileDigest.sha256(path: path, offset: 5, length: 1000) == SHA256.digest(Array(bytes[5..<1005])))
        #expect(throws: FileDigest.Failure.self) { try FileDigest.sha256(path: path, offset: Int64(bytes.count) - 10, length: 20) }
    }

    @Test("a missing file or a directory is a failure naming it")
    func failures() {
        #expect { try FileDigest.summary(path: "/nonexistent/model.gguf") } throws: { "\($0)".contains("/nonexistent/model.gguf") }
        #expect { try FileDigest.summary(path: "/tmp") } throws: { "\($0)".contains("not a regular file") }
    }
}
