import Foundation
@testable import GGUF
import Testing
@testable import InferenceEngine

/// Builds GGUF images byte by byte, so tests can make well-formed files and break them on purpose.
struct GGUFBuilder {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func string(_ text: String) {
        u64(UInt64(text.utf8.count))
        bytes += Array(text.utf8)
    }

    /// A version-3 file: every metadata type, a nested array, and two tensors (F32 4x2, Q8_0 32).
    static func sample(alignment: Int = 32) -> [UInt8] {
        var b = GGUFBuilder()
        b.u32(0x4655_4747); b.u32(3)
        b.u64(2)  // tensors
        b.u64(10)  // metadata
        b.string("general.architecture"); b.u32(8); b.string("llama")
        b.string("general.alignment"); b.u32(4); b.u32(UInt32(alignment))
        b.string("test.u8"); b.u32(0); b.u8(200)
        b.string("test.i16"); b.u32(3); b.bytes += [0xFE, 0xFF]
        b.string("test.f32"); b.u32(6); b.u32(Float(1.5).bitPattern)
        b.string("test.bool"); b.u32(7); b.u8(1)
        b.string("test.i64"); b.u32(11); b.u64(UInt64(bitPattern: -7))
        b.string("test.f64"); b.u32(12); b.u64(Double(0.25).bitPattern)
        b.string("test.strings"); b.u32(9); b.u32(8); b.u64(2); b.string("a"); b.string("é")
        b.string("test.nested"); b.u32(9); b.u32(9); b.u64(2)
        b.u32(4); b.u64(2); b.u32(1); b.u32(2)
        b.u32(4); b.u64(1); b.u32(3)
        b.string("weights"); b.u32(2); b.u64(4); b.u64(2); b.u32(0); b.u64(0)
        b.string("quantized"); b.u32(1); b.u64(32); b.u32(8); b.u64(UInt64(alignment))
        while b.bytes.count % alignment != 0 { b.u8(0) }
        for index in 0..<8 { b.u32(Float(index).bitPattern) }
        while b.bytes.count % alignment != 0 { b.u8(0) }
        b.bytes += Array(repeating: 7, count: 34)
        return b.bytes
    }
}

@Suite("GGUF reader")
struct GGUFTests {
    static func parse(_ bytes: [UInt8]) throws(GGUFError) -> GGUFFile {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("t-\(UUID().uuidString).gguf").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile.open(path)
    }

    @Test("reads every metadata type, nested arrays, tensor infos and data in place", arguments: [32, 64])
    func sample(_ alignment: Int) throws {
        let file = try Self.parse(GGUFBuilder.sample(alignment: alignment))
        #expect(file.version == 3 && file.alignment == alignment)
        #expect(file.keys.first == "general.architecture" && file.string("general.architecture") == "llama")
        #expect(file.metadata["test.u8"] == .uint8(200) && file.metadata["test.i16"] == .int16(-2))
        #expect(file.metadata["test.f32"] == .float32(1.5) && file.metadata["test.bool"] == .bool(true))
        #expect(file.metadata["test.i64"] == .int64(-7) && file.metadata["test.f64"] == .float64(0.25))
        #expect(file.metadata["test.strings"] == .array([.string("a"), .string("é")]))
        #expect(file.metadata["test.nested"] == .array([.array([.uint32(1), .uint32(2)]), .array([.uint32(3)])]))
        let weights = try #require(file.tensor("weights"))
        #expect(weights.dimensions == [4, 2] && weights.type == .f32 && weights.byteCount == 32)
        let values = file.data(weights).withMemoryRebound(to: Float.self) { Array($0) }
        #expect(values == (0..<8).map(Float.init))
        let quantized = try #require(file.tensor("quantized"))
        #expect(quantized.type == .q8_0 && quantized.byteCount == 34 && file.data(quantized).allSatisfy { $0 == 7 })
        #expect(file.dataOffset % alignment == 0)
    }

    @Test("reads a real vocabulary file")
    func vocabulary() throws {
        let file = try GGUFFile.open(TokenizerVectorTests.fixtures.appendingPathComponent("ggml-vocab-llama-spm.gguf").path)
        let vocabulary = try Vocabulary(file)
        #expect(vocabulary.model == "llama" && vocabulary.tokens.count == 32000)
        #expect(vocabulary.bos == 1 && vocabulary.eos == 2 && vocabulary.tokens[3] == "<0x00>")
    }

    @Test("malformed files give one clear error", arguments: [
        ("bad magic", 0, 0x00, "not a GGUF file: bad magic"),
        ("version 1", 4, 1, "GGUF version 1 is not supported"),
        ("huge tensor count", 15, 0x7F, "tensor count"),
        ("unknown value type", 24 + 8 + 20, 99, "unknown metadata value type 99"),
    ])
    func malformed(_ name: String, _ offset: Int, _ byte: UInt8, _ expected: String) {
        var bytes = GGUFBuilder.sample()
        bytes[offset] = byte
        do {
            _ = try Self.parse(bytes)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test("every truncation and a few thousand random corruptions are errors, never crashes")
    func fuzz() {
        let sample = GGUFBuilder.sample()
        for length in 0..<sample.count {
            do {
                _ = try Self.parseInMemory(Array(sample[..<length]))
                Issue.record("a file cut at \(length) bytes was accepted")
            } catch {}
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var bytes = sample
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? Self.parseInMemory(bytes)
        }
    }

    /// Parses from memory, skipping the file system, for the fuzz loop.
    static func parseInMemory(_ bytes: [UInt8]) throws(GGUFError) -> GGUFFile {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 64)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        defer { buffer.deallocate() }
        guard bytes.count >= 24 else { throw GGUFError(path: "memory", offset: 0, message: "too short") }
        return try GGUFFile(path: "memory", base: UnsafeRawPointer(buffer), size: bytes.count, owned: false)
    }
}
