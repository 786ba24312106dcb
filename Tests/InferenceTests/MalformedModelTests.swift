import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// Files that are valid GGUF but not a usable model: refused with one short, terminal-safe message.
@Suite("malformed models")
struct MalformedModelTests {
    /// A file with `metadata` (each a key and a writer of its typed value) and no tensors.
    static func file(_ metadata: [(String, (inout GGUFBuilder) -> Void)], tensorNames: [String] = []) throws -> GGUFFile {
        var b = GGUFBuilder()
        b.u32(0x4655_4747); b.u32(3)
        b.u64(UInt64(tensorNames.count))
        b.u64(UInt64(metadata.count))
        for (key, write) in metadata { b.string(key); write(&b) }
        for name in tensorNames { b.string(name); b.u32(1); b.u64(32); b.u32(0); b.u64(0) }
        while b.bytes.count % 32 != 0 { b.u8(0) }
        if !tensorNames.isEmpty { b.bytes += Array(repeating: 0, count: 128) }
        return try GGUFTests.parse(b.bytes)
    }

    static func u32(_ value: UInt32) -> (inout GGUFBuilder) -> Void { { b in b.u32(4); b.u32(value) } }
    static func string(_ value: String) -> (inout GGUFBuilder) -> Void { { b in b.u32(8); b.string(value) } }
    static func strings(_ values: [String]) -> (inout GGUFBuilder) -> Void {
        { b in b.u32(9); b.u32(8); b.u64(UInt64(values.count)); for value in values { b.string(value) } }
    }

    @Test("a hostile tensor name is quoted on one short line")
    func hostileName() {
        let name = "blk.0\n\u{1B}[2J\u{1B}[31mfake: all good\n" + String(repeating: "A", count: 5_000)
        do {
            _ = try Self.file([], tensorNames: [name, name])
            Issue.record("a duplicate tensor was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains("duplicate tensor"))
            #expect(!message.contains("\n") && !message.contains("\u{1B}"), "\(message.prefix(200))")
            #expect(message.utf8.count < 400, "\(message.utf8.count) bytes")
            #expect(message.contains("\\n\\u{1B}[2J"))
        }
    }

    @Test("a special token id outside the vocabulary is refused", arguments: ["bos", "eos", "eot", "unknown"])
    func specialOutOfRange(_ key: String) throws {
        let file = try Self.file([
            ("tokenizer.ggml.model", Self.string("llama")),
            ("tokenizer.ggml.tokens", Self.strings(["<unk>", "<s>", "</s>", "a"])),
            ("tokenizer.ggml.\(key)_token_id", Self.u32(4)),
        ])
        #expect { _ = try Vocabulary(file) } throws: { error in
            "\(error)".contains("tokenizer.ggml.\(key)_token_id is 4, outside the vocabulary of 4 tokens")
        }
    }

    static var llamaShape: [(String, (inout GGUFBuilder) -> Void)] {
        [
        ("general.architecture", string("llama")), ("llama.embedding_length", u32(64)), ("llama.block_count", u32(1)),
        ("llama.feed_forward_length", u32(128)), ("llama.attention.head_count", u32(4)),
        ]
    }

    @Test("inconsistent dimensions are refused", arguments: [
        ("llama.rope.dimension_count", UInt32(0), "RoPE over 0 of 16"),
        ("llama.rope.dimension_count", UInt32(3), "RoPE over 3 of 16"),
        ("llama.rope.dimension_count", UInt32(32), "RoPE over 32 of 16"),
        ("llama.attention.head_count_kv", UInt32(3), "4 heads and 3 KV heads"),
        ("llama.attention.head_count_kv", UInt32(0), "4 heads and 0 KV heads"),
        ("llama.attention.key_length", UInt32(0), "key_length must be positive"),
        ("llama.attention.value_length", UInt32(8), "value length of 8"),
    ])
    func inconsistent(_ key: String, _ value: UInt32, _ expected: String) throws {
        let file = try Self.file(Self.llamaShape + [(key, Self.u32(value))])
        #expect { _ = try ModelConfig(file) } throws: { error in "\(error)".contains(expected) }
    }

    @Test("a hostile architecture name is quoted")
    func hostileArchitecture() throws {
        let file = try Self.file([("general.architecture", Self.string("\u{1B}]0;owned\u{7}" + String(repeating: "x", count: 1_000)))])
        #expect { _ = try ModelConfig(file) } throws: { error in
            let text = "\(error)"
            return !text.contains("\u{1B}") && text.contains("\\u{1B}]0;owned\\u{7}") && text.utf8.count < 400
        }
    }
}
