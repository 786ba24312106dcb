import Foundation

/// A llama-family decoder (llama, qwen2) over weights in the memory-mapped GGUF file: RMSNorm, RoPE,
/// grouped-query attention over a KV cache, SwiGLU feed-forward, final norm and logits.
public final class Transformer: @unchecked Sendable {
    public let file: GGUFFile
    public let config: ModelConfig
    public let weights: ModelWeights
    public var workers: Workers
    /// `ropeBase^(-2/ropeDimensions)`: each pair of dimensions turns this much slower than the one before.
    private let thetaScale: Float

    public init(_ file: GGUFFile, workers: Workers) throws(ModelError) {
        self.file = file
        config = try ModelConfig(file)
        weights = try ModelWeights(file, config)
        self.workers = workers
        thetaScale = powf(config.ropeBase, -2 / Float(config.ropeDimensions))
    }

    public convenience init(path: String, workers: Workers) throws {
        try self.init(GGUFFile.open(path), workers: workers)
    }

    public var vocabularySize: Int { weights.vocabularySize }

    /// A cache for up to `capacity` positions (the model's context length when nil).
    public func makeCache(capacity: Int? = nil) -> KVCache {
        KVCache(layers: config.layers, capacity: capacity ?? config.contextLength, kvDimension: config.kvDimension)
    }

    /// Which positions of a batch to compute logits for.
    public enum Logits: Sendable { case last, all }

    /// Runs `tokens` through the model after the positions already in `cache`, appends their keys and values to it,
    /// and returns the logits of the last token, or of every token (`tokens.count` rows of `vocabularySize`).
    public func forward(_ tokens: [Int], cache: KVCache, logits: Logits = .last) throws(ModelError) -> [Float] {
        guard !tokens.isEmpty else { return [] }
        guard cache.count + tokens.count <= cache.capacity else {
            throw ModelError("context full: \(cache.count) + \(tokens.count) tokens exceed the \(cache.capacity) positions of the cache")
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw ModelError("token \(bad) is outside the vocabulary of \(vocabularySize)")
        }
        // long prompts go through in chunks, which bounds the scratch memory (a chunk's activations) whatever the length
        var result: [Float] = []
        var offset = 0
        while offset < tokens.count {
            let end = min(tokens.count, offset + Self.chunk)
            let chunkLogits = forwardChunk(Array(tokens[offset..<end]), cache: cache, logits: end == tokens.count ? logits : (logits == .all ? .all : nil))
            result += chunkLogits
            offset = end
        }
        return result
    }

    /// Tokens per pass through the layers: enough to fill the 16-token tiles many times over.
    static let chunk = 64

    /// One chunk of `forward`, already checked; `logits` nil computes none.
    private func forwardChunk(_ tokens: [Int], cache: KVCache, logits: Logits?) -> [Float] {
        let batch = tokens.count, e = config.embedding, kv = config.kvDimension, ff = config.feedForward
        let start = cache.count
        let x = Buffer(batch * e), normed = Buffer(batch * e), attention = Buffer(batch * e), projected = Buffer(batch * e)
        let q = Buffer(batch * e), k = Buffer(batch * kv), v = Buffer(batch * kv)
        let gate = Buffer(batch * ff), up = Buffer(batch * ff)
        defer { [x, normed, attention, projected, q, k, v, gate, up].forEach { $0.free() } }

        for (t, token) in tokens.enumerated() {
            weights.tokenEmbedding.row(token, into: UnsafeMutableBufferPointer(start: x.pointer + t * e, count: e))
        }
        for (index, layer) in weights.layers.enumerated() {
            rmsNorm(x, layer.attentionNorm, into: normed, rows: batch)
            WeightMatrix.multiply([layer.query, layer.key, layer.value], normed.pointer, batch: batch,
                                  into: [q.pointer, k.pointer, v.pointer], workers: workers)
            addBias(layer.queryBias, to: q, rows: batch)
            addBias(layer.keyBias, to: k, rows: batch)
            addBias(layer.valueBias, to: v, rows: batch)
            rotate(q, heads: config.heads, rows: batch, start: start)
            rotate(k, heads: config.kvHeads, rows: batch, start: start)
            store(k, v, layer: index, cache: cache, rows: batch, start: start)
            attend(q, layer: index, cache: cache, rows: batch, start: start, into: attention)
            layer.output.multiply(attention.pointer, batch: batch, into: projected.pointer, workers: workers)
            add(projected, to: x, count: batch * e)

            rmsNorm(x, layer.feedForwardNorm, into: normed, rows: batch)
            WeightMatrix.multiply([layer.gate, layer.up], normed.pointer, batch: batch, into: [gate.pointer, up.pointer], workers: workers)
            for i in 0..<(batch * ff) {
                let g = gate.pointer[i]
                gate.pointer[i] = g / (1 + expf(-g)) * up.pointer[i]
            }
            layer.down.multiply(gate.pointer, batch: batch, into: projected.pointer, workers: workers)
            add(projected, to: x, count: batch * e)
        }
        cache.append(batch)
        guard let logits else { return [] }

        let first = logits == .all ? 0 : batch - 1, rows = batch - first
        rmsNorm(Buffer(pointer: x.pointer + first * e), weights.outputNorm, into: normed, rows: rows)
        var result = [Float](repeating: 0, count: rows * vocabularySize)
        result.withUnsafeMutableBufferPointer { out in
            weights.output.multiply(normed.pointer, batch: rows, into: out.baseAddress!, workers: workers)
        }
        return result
    }

    /// `out = x / sqrt(mean(x²) + ε) · weight`, row by row; the mean is summed in double, as ggml does.
    private func rmsNorm(_ x: Buffer, _ weight: UnsafeBufferPointer<Float>, into out: Buffer, rows: Int) {
        let n = weight.count
        for row in 0..<rows {
            let input = x.pointer + row * n, output = out.pointer + row * n
            var sum: Double = 0
            for i in 0..<n { sum += Double(input[i] * input[i]) }
            let scale = 1 / sqrtf(Float(sum / Double(n)) + config.rmsEpsilon)
            for i in 0..<n { output[i] = input[i] * scale * weight[i] }
        }
    }

    private func addBias(_ bias: UnsafeBufferPointer<Float>?, to values: Buffer, rows: Int) {
        guard let bias else { return }
        for row in 0..<rows {
            for i in 0..<bias.count { values.pointer[row * bias.count + i] += bias[i] }
        }
    }

    private func add(_ values: Buffer, to target: Buffer, count: Int) {
        for i in 0..<count { target.pointer[i] += values.pointer[i] }
    }

    /// Rotary position embedding of each head of each row, at positions `start + row`.
    private func rotate(_ values: Buffer, heads: Int, rows: Int, start: Int) {
        let d = config.headDimension, pairs = config.ropeDimensions / 2
        var cosines = [Float](repeating: 0, count: pairs), sines = [Float](repeating: 0, count: pairs)
        for row in 0..<rows {
            var theta = Float(start + row)
            for i in 0..<pairs {
                let angle = config.ropeScale * (theta / (weights.ropeFactors?[i] ?? 1))
                cosines[i] = cosf(angle)
                sines[i] = sinf(angle)
                theta *= thetaScale
            }
            for head in 0..<heads {
                let h = values.pointer + (row * heads + head) * d
                for i in 0..<pairs {
                    let (a, b) = config.ropeStyle == .adjacent ? (2 * i, 2 * i + 1) : (i, i + pairs)
                    let x0 = h[a], x1 = h[b]
                    h[a] = x0 * cosines[i] - x1 * sines[i]
                    h[b] = x0 * sines[i] + x1 * cosines[i]
                }
            }
        }
    }

    private func store(_ k: Buffer, _ v: Buffer, layer: Int, cache: KVCache, rows: Int, start: Int) {
        let kv = config.kvDimension
        let keys = cache.keys[layer] + start * kv, values = cache.values[layer] + start * kv
        for i in 0..<(rows * kv) {
            keys[i] = Float16(k.pointer[i])
            values[i] = Float16(v.pointer[i])
        }
    }

    /// Causal grouped-query attention: each query head attends to its KV head over positions `0...start + row`.
    /// As in llama.cpp, the query meets the f16 keys rounded to f16, and the probabilities meet the f16 values
    /// rounded to f16: quantised models turn such differences into whole quantisation steps downstream.
    private func attend(_ q: Buffer, layer: Int, cache: KVCache, rows: Int, start: Int, into out: Buffer) {
        let d = config.headDimension, heads = config.heads, kv = config.kvDimension
        let group = heads / config.kvHeads
        let scale = 1 / sqrtf(Float(d))
        let keys = cache.keys[layer], values = cache.values[layer]
        workers.split(rows * heads) { items in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: start + rows)
            let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: d)
            let query = UnsafeMutablePointer<Float>.allocate(capacity: d)
            defer { scores.deallocate(); accumulator.deallocate(); query.deallocate() }
            for item in items {
                let row = item / heads, head = item % heads
                let source = q.pointer + (row * heads + head) * d
                for i in 0..<d { query[i] = Float(Float16(source[i])) }
                let kvOffset = (head / group) * d
                let length = start + row + 1
                var maximum = -Float.infinity
                for position in 0..<length {
                    let key = keys + position * kv + kvOffset
                    var dot: Float = 0
                    for i in 0..<d { dot += query[i] * Float(key[i]) }
                    scores[position] = dot * scale
                    maximum = max(maximum, scores[position])
                }
                var total: Double = 0
                for position in 0..<length {
                    scores[position] = expf(scores[position] - maximum)
                    total += Double(scores[position])
                }
                let normaliser = Float(1 / total)
                accumulator.initialize(repeating: 0, count: d)
                for position in 0..<length {
                    let weight = Float(Float16(scores[position] * normaliser))
                    let value = values + position * kv + kvOffset
                    for i in 0..<d { accumulator[i] += weight * Float(value[i]) }
                }
                (out.pointer + (row * heads + head) * d).update(from: accumulator, count: d)
            }
        }
    }
}

/// A scratch array of floats owned by one forward pass.
struct Buffer {
    let pointer: UnsafeMutablePointer<Float>

    init(_ count: Int) {
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    init(pointer: UnsafeMutablePointer<Float>) {
        self.pointer = pointer
    }

    func free() { pointer.deallocate() }
}
