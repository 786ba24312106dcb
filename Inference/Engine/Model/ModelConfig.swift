import GGUF
import TextSafety

/// A transformer's shape and settings, read from GGUF metadata under its architecture's prefix
/// (`llama.embedding_length`, `qwen2.attention.head_count`, …), with each architecture's fixed rules as llama.cpp
/// applies them.
public struct ModelConfig: Sendable, Equatable {
    /// How RoPE pairs up the dimensions of a head: adjacent pairs (llama) or halves (NeoX: qwen2, qwen3, gemma3).
    public enum RopeStyle: Sendable { case adjacent, halves }

    /// The feed-forward block's gate: SiLU (SwiGLU, llama and qwen) or GELU's tanh approximation (GeGLU, gemma3).
    public enum Activation: Sendable { case silu, geluTanh }

    public var architecture: String
    public var embedding: Int
    public var layers: Int
    public var feedForward: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDimension: Int
    public var ropeDimensions: Int
    public var ropeBase: Float
    /// Positions are multiplied by this before rotation (1 / linear scaling factor).
    public var ropeScale: Float
    public var ropeStyle: RopeStyle
    public var rmsEpsilon: Float
    public var contextLength: Int
    /// q, k and v projections carry biases (qwen2).
    public var attentionBiases: Bool
    /// Each head's query and key pass through an RMS norm of their own before RoPE (`attn_q_norm`, `attn_k_norm`:
    /// qwen3, gemma3).
    public var queryKeyNorms: Bool
    /// The attention's and the feed-forward block's outputs are RMS-normed before they join the residual
    /// (`post_attention_norm`, `post_ffw_norm`: gemma3).
    public var postNorms: Bool
    public var activation: Activation
    /// Token embeddings are multiplied by this before the first layer (gemma3: the square root of the width).
    public var embeddingScale: Float
    /// Queries are multiplied by this before they meet the keys (gemma3), and the scores by `scoreScale` after;
    /// llama.cpp scales either the query or the scores, and which one moves the f16 rounding of the query.
    public var queryScale: Float
    public var scoreScale: Float
    /// How many positions a sliding-window layer sees, its own included (gemma3's local layers); nil when none.
    public var slidingWindow: Int?
    /// Which layers attend through the sliding window; the others attend to every earlier position.
    public var slidingLayers: [Bool]
    /// The RoPE base of the sliding-window layers, which do not scale positions (llama.cpp's
    /// `rope_freq_base_train_swa`, 10,000 unless the file says otherwise).
    public var slidingRopeBase: Float
    /// Logits pass through `cap · tanh(logit / cap)` when set (`final_logit_softcapping`).
    public var logitSoftcap: Float?

    public static let architectures = ["llama", "qwen2", "qwen3", "gemma3"]

    public init(_ file: GGUFFile) throws(ModelError) {
        guard let architecture = file.string("general.architecture") else {
            throw ModelError("\(file.path): no general.architecture")
        }
        guard Self.architectures.contains(architecture) else {
            throw ModelError("\(file.path): architecture '\(SafeText.quoted(architecture))' is not supported (supported: \(Self.architectures.joined(separator: ", ")))")
        }
        func int(_ key: String) throws(ModelError) -> Int {
            guard let value = file.int("\(architecture).\(key)"), value > 0 else {
                throw ModelError("\(file.path): \(architecture).\(key) is missing or not a positive integer")
            }
            return value
        }
        self.architecture = architecture
        embedding = try int("embedding_length")
        layers = try int("block_count")
        feedForward = try int("feed_forward_length")
        heads = try int("attention.head_count")
        kvHeads = file.int("\(architecture).attention.head_count_kv") ?? heads
        // heads are embedding / heads wide unless the file says otherwise (Gemma 3 and Qwen 3 do)
        let keyLength = file.int("\(architecture).attention.key_length")
        guard kvHeads > 0, heads % kvHeads == 0, keyLength != nil || embedding % heads == 0 else {
            throw ModelError("\(file.path): \(heads) heads and \(kvHeads) KV heads do not divide an embedding of \(embedding)")
        }
        headDimension = keyLength ?? embedding / heads
        guard headDimension > 0 else { throw ModelError("\(file.path): \(architecture).attention.key_length must be positive") }
        if let valueLength = file.int("\(architecture).attention.value_length"), valueLength != headDimension {
            throw ModelError("\(file.path): a value length of \(valueLength) other than the key length (\(headDimension)) is not supported")
        }
        ropeDimensions = file.int("\(architecture).rope.dimension_count") ?? headDimension
        guard ropeDimensions > 0, ropeDimensions % 2 == 0, ropeDimensions <= headDimension else {
            throw ModelError("\(file.path): RoPE over \(ropeDimensions) of \(headDimension) head dimensions is not possible")
        }
        ropeBase = Float(file.float("\(architecture).rope.freq_base") ?? 10_000)
        guard ropeBase.isFinite, ropeBase > 0 else {
            throw ModelError("\(file.path): \(architecture).rope.freq_base must be a positive number, not \(ropeBase)")
        }
        switch file.string("\(architecture).rope.scaling.type") ?? "none" {
        case "none":
            ropeScale = 1
        case "linear":
            let factor = Float(file.float("\(architecture).rope.scaling.factor") ?? 1)
            ropeScale = factor > 0 ? 1 / factor : 1
        case let other:
            throw ModelError("\(file.path): RoPE scaling '\(SafeText.quoted(other))' is not supported (none and linear are)")
        }
        ropeStyle = architecture == "llama" ? .adjacent : .halves
        rmsEpsilon = Float(file.float("\(architecture).attention.layer_norm_rms_epsilon") ?? 1e-5)
        guard rmsEpsilon.isFinite, rmsEpsilon >= 0 else {
            throw ModelError("\(file.path): \(architecture).attention.layer_norm_rms_epsilon must be a number of 0 or more, not \(rmsEpsilon)")
        }
        contextLength = file.int("\(architecture).context_length") ?? 2048
        attentionBiases = architecture == "qwen2"
        queryKeyNorms = architecture == "qwen3" || architecture == "gemma3"
        let gemma = architecture == "gemma3"
        postNorms = gemma
        activation = gemma ? .geluTanh : .silu
        embeddingScale = gemma ? Float(embedding).squareRoot() : 1
        if gemma {
            // Gemma 3 27B scales by its embedding over heads, the others by the head width (llama.cpp, after
            // gemma_pytorch's config)
            queryScale = 1 / Float(layers == 62 ? embedding / heads : headDimension).squareRoot()
            scoreScale = 1
        } else {
            queryScale = 1
            scoreScale = 1 / Float(headDimension).squareRoot()
        }
        let window = gemma ? file.int("\(architecture).attention.sliding_window") ?? 0 : 0
        slidingWindow = window > 0 ? window : nil
        slidingLayers = try Self.slidingLayers(file, architecture: architecture, layers: layers, windowed: window > 0)
        slidingRopeBase = Float(file.float("\(architecture).rope.freq_base_swa") ?? 10_000)
        guard slidingRopeBase.isFinite, slidingRopeBase > 0 else {
            throw ModelError("\(file.path): \(architecture).rope.freq_base_swa must be a positive number, not \(slidingRopeBase)")
        }
        let softcap = Float(file.float("\(architecture).final_logit_softcapping") ?? 0)
        logitSoftcap = softcap > 0 && softcap.isFinite ? softcap : nil
    }

    /// Which layers slide: `attention.sliding_window_pattern` as one flag per layer, or as a period n where every
    /// n-th layer attends fully (gemma3's default is 6: five local layers, then a global one).
    private static func slidingLayers(_ file: GGUFFile, architecture: String, layers: Int, windowed: Bool) throws(ModelError) -> [Bool] {
        guard windowed else { return Array(repeating: false, count: layers) }
        let key = "\(architecture).attention.sliding_window_pattern"
        if let flags = file.metadata[key]?.arrayValue {
            let values = flags.compactMap(\.boolValue)
            guard values.count == flags.count, values.count >= layers else {
                throw ModelError("\(file.path): \(key) must hold a true or false for each of the \(layers) layers")
            }
            return Array(values.prefix(layers))
        }
        let period = file.metadata[key] == nil ? 6 : file.int(key) ?? -1
        guard period >= 0 else { throw ModelError("\(file.path): \(key) must be a whole number of layers or one flag per layer") }
        return (0..<layers).map { period == 0 || $0 % period < period - 1 }
    }

    /// Whether layer `index` attends through the sliding window.
    public func slides(_ index: Int) -> Bool { slidingWindow != nil && slidingLayers[index] }

    /// Dimensions of the keys (and values) of one position, over all KV heads.
    public var kvDimension: Int { kvHeads * headDimension }

    /// Dimensions of the queries (and the attention's output) of one position, over all heads: the embedding width
    /// unless the heads are wider or narrower than embedding / heads.
    public var queryDimension: Int { heads * headDimension }
}
