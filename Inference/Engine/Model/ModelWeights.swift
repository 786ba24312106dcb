import GGUF
import TextSafety

/// The tensors of a llama-family model (llama, qwen2, qwen3, gemma3), checked against the configuration's shapes and copied
/// out of the memory-mapped file, all but a token embedding that is only looked up (`WeightMatrix`'s `resident`),
/// whose rows are read from the file as they are needed.
///
/// Why copy even the small ones: where the page cache holds a file in large folios (ext4 since Linux 6.16), one touch
/// of a page maps the whole folio, and with it pages of the large matrices around it that were copied and given back.
/// A 100-token request to the TinyLlama-shaped Q8_0 left 131 MiB of those mapped again, reached through its norms and
/// its 0.5 MiB K and V matrices (`/proc/PID/pagemap` against the tensors' offsets).
public struct ModelWeights: @unchecked Sendable {
    // @unchecked: every stored property is a `let`, and the f32 vectors they point at (copies owned by `copies`) are
    // written before the initialiser returns and only read after, by any number of threads at once
    public struct Layer: @unchecked Sendable {
        // @unchecked: as the weights', `let`s pointing at vectors written once at load and only read after
        public let attentionNorm: UnsafeBufferPointer<Float>
        public let query: WeightMatrix
        public let key: WeightMatrix
        public let value: WeightMatrix
        public let output: WeightMatrix
        public let queryBias: UnsafeBufferPointer<Float>?
        public let keyBias: UnsafeBufferPointer<Float>?
        public let valueBias: UnsafeBufferPointer<Float>?
        /// Per-head RMS norm weights of queries and keys (one head wide), where the architecture has them.
        public let queryNorm: UnsafeBufferPointer<Float>?
        public let keyNorm: UnsafeBufferPointer<Float>?
        /// Norms of the attention's and the feed-forward block's outputs, where the architecture has them.
        public let postAttentionNorm: UnsafeBufferPointer<Float>?
        public let feedForwardNorm: UnsafeBufferPointer<Float>
        public let gate: WeightMatrix
        public let up: WeightMatrix
        public let down: WeightMatrix
        public let postFeedForwardNorm: UnsafeBufferPointer<Float>?
    }

    public let tokenEmbedding: WeightMatrix
    public let layers: [Layer]
    public let outputNorm: UnsafeBufferPointer<Float>
    /// The output projection; the token embedding when the file has no `output.weight` (tied embeddings).
    public let output: WeightMatrix
    /// Per-dimension RoPE frequency divisors (`rope_freqs.weight`, Llama 3.1), when present.
    public let ropeFactors: UnsafeBufferPointer<Float>?
    /// Owns the f32 vectors above (norms, biases, RoPE factors).
    private let vectors: VectorCopies

    /// The matrices multiply on `kernels`.
    public init(_ file: GGUFFile, _ config: ModelConfig, kernels: KernelSet = .detected) throws(ModelError) {
        let copies = VectorCopies()
        vectors = copies
        func info(_ name: String) throws(ModelError) -> TensorInfo {
            guard let tensor = file.tensor(name) else { throw ModelError("\(file.path): tensor '\(SafeText.quoted(name))' is missing") }
            return tensor
        }
        func matrix(_ name: String, rows: Int, columns: Int, interleavable: Bool = true, resident: Bool = true) throws(ModelError) -> WeightMatrix {
            let tensor = try info(name)
            guard tensor.dimensions == [columns, rows] else {
                throw ModelError("\(file.path): tensor '\(SafeText.quoted(name))' has shape \(tensor.dimensions), expected [\(columns), \(rows)]")
            }
            return try WeightMatrix(name: name, type: tensor.type, rows: rows, columns: columns, data: file.data(tensor), kernels: kernels,
                                    interleavable: interleavable, mapped: file.isMapped, resident: resident)
        }
        func vector(_ name: String, _ count: Int) throws(ModelError) -> UnsafeBufferPointer<Float> {
            let tensor = try info(name)
            guard tensor.type == .f32, tensor.dimensions == [count] else {
                throw ModelError("\(file.path): tensor '\(SafeText.quoted(name))' is \(tensor.type.name) \(tensor.dimensions), expected F32 [\(count)]")
            }
            return copies.copy(file.data(tensor).bindMemory(to: Float.self))
        }
        func optionalVector(_ name: String, _ count: Int) throws(ModelError) -> UnsafeBufferPointer<Float>? {
            file.tensor(name) == nil ? nil : try vector(name, count)
        }
        func vector(_ name: String, _ count: Int, if required: Bool) throws(ModelError) -> UnsafeBufferPointer<Float>? {
            required ? try vector(name, count) : nil
        }
        let e = config.embedding, kv = config.kvDimension, ff = config.feedForward, qd = config.queryDimension
        guard let vocabulary = file.tensor("token_embd.weight")?.dimensions.last else {
            throw ModelError("\(file.path): tensor 'token_embd.weight' is missing")
        }
        // an embedding that is also the output projection is streamed every token; one only looked up is not
        let tied = file.tensor("output.weight") == nil
        tokenEmbedding = try matrix("token_embd.weight", rows: vocabulary, columns: e, interleavable: false, resident: tied)
        outputNorm = try vector("output_norm.weight", e)
        output = tied ? tokenEmbedding : try matrix("output.weight", rows: vocabulary, columns: e)
        ropeFactors = try optionalVector("rope_freqs.weight", config.ropeDimensions / 2)
        var layers: [Layer] = []
        for index in 0..<config.layers {
            let p = "blk.\(index)."
            layers.append(Layer(
                attentionNorm: try vector(p + "attn_norm.weight", e),
                query: try matrix(p + "attn_q.weight", rows: qd, columns: e),
                key: try matrix(p + "attn_k.weight", rows: kv, columns: e),
                value: try matrix(p + "attn_v.weight", rows: kv, columns: e),
                output: try matrix(p + "attn_output.weight", rows: e, columns: qd),
                queryBias: try optionalVector(p + "attn_q.bias", qd),
                keyBias: try optionalVector(p + "attn_k.bias", kv),
                valueBias: try optionalVector(p + "attn_v.bias", kv),
                queryNorm: try vector(p + "attn_q_norm.weight", config.headDimension, if: config.queryKeyNorms),
                keyNorm: try vector(p + "attn_k_norm.weight", config.headDimension, if: config.queryKeyNorms),
                postAttentionNorm: try vector(p + "post_attention_norm.weight", e, if: config.postNorms),
                feedForwardNorm: try vector(p + "ffn_norm.weight", e),
                gate: try matrix(p + "ffn_gate.weight", rows: ff, columns: e),
                up: try matrix(p + "ffn_up.weight", rows: ff, columns: e),
                down: try matrix(p + "ffn_down.weight", rows: e, columns: ff),
                postFeedForwardNorm: try vector(p + "post_ffw_norm.weight", e, if: config.postNorms)))
        }
        self.layers = layers
        file.releasePages()
    }

    /// The number of tokens the model has embeddings (and logits) for.
    public var vocabularySize: Int { tokenEmbedding.rows }

    /// Bytes of weights copied at load into the kernels' own memory (a kernel's layout, or 2 MiB pages; their pages
    /// of the file given back).
    public var repackedBytes: Int {
        let outputs = output.repackedBytes + (output.base == tokenEmbedding.base ? 0 : tokenEmbedding.repackedBytes)
        return layers.reduce(outputs) { sum, layer in
            sum + [layer.query, layer.key, layer.value, layer.output, layer.gate, layer.up, layer.down].reduce(0) { $0 + $1.repackedBytes }
        }
    }
}

/// Copies of a model's f32 vectors, owned for as long as any copy of the weights that point into them.
final class VectorCopies: @unchecked Sendable {
    // @unchecked: `copy` appends only while the weights are being loaded, on the loading thread; after that the
    // buffers are only read (through the weights) and freed in deinit, when nothing can reach them
    private var buffers: [UnsafeMutableBufferPointer<Float>] = []

    func copy(_ source: UnsafeBufferPointer<Float>) -> UnsafeBufferPointer<Float> {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: source.count)
        _ = buffer.initialize(from: source)
        buffers.append(buffer)
        return UnsafeBufferPointer(buffer)
    }

    deinit { buffers.forEach { $0.deallocate() } }
}
