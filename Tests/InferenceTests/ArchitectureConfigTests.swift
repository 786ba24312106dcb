import GGUF
import Testing
@testable import InferenceEngine

/// The rules each architecture adds to the GGUF metadata, as llama.cpp applies them (llama-model.cpp and
/// src/models/gemma3.cpp): which layers slide, their RoPE base, the attention scale, the norms and the activation.
@Suite("architecture rules")
struct ArchitectureConfigTests {
    typealias M = MalformedModelTests

    static func gemma3(layers: UInt32, window: UInt32 = 512, extra: [(String, (inout GGUFBuilder) -> Void)] = []) throws -> GGUFFile {
        try M.file([
            ("general.architecture", M.string("gemma3")), ("gemma3.embedding_length", M.u32(640)),
            ("gemma3.block_count", M.u32(layers)), ("gemma3.feed_forward_length", M.u32(2048)),
            ("gemma3.attention.head_count", M.u32(4)), ("gemma3.attention.head_count_kv", M.u32(1)),
            ("gemma3.attention.key_length", M.u32(256)), ("gemma3.attention.value_length", M.u32(256)),
            ("gemma3.attention.sliding_window", M.u32(window)),
        ] + extra)
    }

    static func bools(_ values: [Bool]) -> (inout GGUFBuilder) -> Void {
        { b in b.u32(9); b.u32(7); b.u64(UInt64(values.count)); for value in values { b.u8(value ? 1 : 0) } }
    }

    @Test("gemma3: five sliding layers then a global one, a 512 window, RoPE 10,000 locally, queries scaled by 1/sqrt(head)")
    func gemma3Defaults() throws {
        let config = try ModelConfig(Self.gemma3(layers: 18))
        #expect((0..<18).filter { !config.slides($0) } == [5, 11, 17])
        #expect(config.slidingWindow == 512)
        #expect(config.slidingRopeBase == 10_000)
        #expect(config.queryScale == 1 / 16 && config.scoreScale == 1)
        #expect(config.embeddingScale == Float(640).squareRoot())
        #expect(config.queryKeyNorms && config.postNorms && config.activation == .geluTanh && config.ropeStyle == .halves)
        #expect(config.queryDimension == 1024 && config.kvDimension == 256)
        #expect(config.logitSoftcap == nil)
    }

    @Test("gemma3 27B (62 layers) scales queries by 1/sqrt(embedding / heads), as llama.cpp does")
    func gemma3Large() throws {
        let config = try ModelConfig(Self.gemma3(layers: 62))
        #expect(config.queryScale == 1 / Float(160).squareRoot())
    }

    @Test("the sliding pattern, the local RoPE base and the logit soft cap come from the file when it has them")
    func gemma3Overrides() throws {
        let periodic = try ModelConfig(Self.gemma3(layers: 4, extra: [
            ("gemma3.attention.sliding_window_pattern", M.u32(2)), ("gemma3.rope.freq_base_swa", M.u32(5000)),
            ("gemma3.final_logit_softcapping", M.u32(30)),
        ]))
        #expect((0..<4).map(periodic.slides) == [true, false, true, false])
        #expect(periodic.slidingRopeBase == 5000 && periodic.logitSoftcap == 30)
        let flags = try ModelConfig(Self.gemma3(layers: 3, extra: [("gemma3.attention.sliding_window_pattern", Self.bools([false, true, true]))]))
        #expect((0..<3).map(flags.slides) == [false, true, true])
        let none = try ModelConfig(Self.gemma3(layers: 3, window: 0))
        #expect(none.slidingWindow == nil && !none.slides(0))
    }

    @Test("a sliding pattern that does not cover every layer, or is not a number or flags, is refused", arguments: ["too few flags", "not a pattern"])
    func badPattern(_ label: String) throws {
        let value = label == "too few flags" ? Self.bools([true, false]) : M.string("every sixth")
        let file = try Self.gemma3(layers: 3, extra: [("gemma3.attention.sliding_window_pattern", value)])
        #expect(throws: ModelError.self, "\(label)") { _ = try ModelConfig(file) }
    }

    @Test("qwen3 and qwen2 rotate halves; only qwen3 norms queries and keys; llama keeps adjacent pairs and SiLU", arguments: ["llama", "qwen2", "qwen3"])
    func llamaFamily(_ architecture: String) throws {
        let config = try ModelConfig(M.file([
            ("general.architecture", M.string(architecture)), ("\(architecture).embedding_length", M.u32(64)),
            ("\(architecture).block_count", M.u32(2)), ("\(architecture).feed_forward_length", M.u32(128)),
            ("\(architecture).attention.head_count", M.u32(4)),
        ]))
        #expect(config.ropeStyle == (architecture == "llama" ? .adjacent : .halves))
        #expect(config.queryKeyNorms == (architecture == "qwen3"))
        #expect(config.attentionBiases == (architecture == "qwen2"))
        #expect(config.activation == .silu && !config.postNorms && config.slidingWindow == nil)
        #expect(config.queryScale == 1 && config.scoreScale == 1 / Float(16).squareRoot())
    }
}
