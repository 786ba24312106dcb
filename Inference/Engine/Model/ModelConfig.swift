import TextSafety

/// A transformer's shape and settings, read from GGUF metadata under its architecture's prefix
/// (`llama.embedding_length`, `qwen2.attention.head_count`, …).
public struct ModelConfig: Sendable, Equatable {
    /// How RoPE pairs up the dimensions of a head: adjacent pairs (llama) or halves (NeoX, used by qwen2).
    public enum RopeStyle: Sendable { case adjacent, halves }

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

    public static let architectures = ["llama", "qwen2"]

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
        ropeStyle = architecture == "qwen2" ? .halves : .adjacent
        rmsEpsilon = Float(file.float("\(architecture).attention.layer_norm_rms_epsilon") ?? 1e-5)
        guard rmsEpsilon.isFinite, rmsEpsilon >= 0 else {
            throw ModelError("\(file.path): \(architecture).attention.layer_norm_rms_epsilon must be a number of 0 or more, not \(rmsEpsilon)")
        }
        contextLength = file.int("\(architecture).context_length") ?? 2048
        attentionBiases = architecture == "qwen2"
    }

    /// Dimensions of the keys (and values) of one position, over all KV heads.
    public var kvDimension: Int { kvHeads * headDimension }

    /// Dimensions of the queries (and the attention's output) of one position, over all heads: the embedding width
    /// unless the heads are wider or narrower than embedding / heads.
    public var queryDimension: Int { heads * headDimension }
}
