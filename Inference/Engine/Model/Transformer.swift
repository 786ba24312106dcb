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

    /// One sequence's part of a batched step: the tokens to run after what its cache holds.
    public struct Segment: Sendable {
        public var tokens: [Int]
        public var cache: KVCache
        /// Whether to compute the logits of the segment's last token (a prompt chunk that is not the last needs none).
        public var wantsLogits: Bool

        public init(tokens: [Int], cache: KVCache, wantsLogits: Bool = true) {
            self.tokens = tokens
            self.cache = cache
            self.wantsLogits = wantsLogits
        }
    }

    /// Runs several sequences' tokens through the model in one pass, as continuous batching needs: every weight
    /// matrix is read once for all their rows, while each row attends only to its own sequence's cache. Returns, per
    /// segment, the logits of its last token (empty where not wanted). Each row gives the same numbers it would give
    /// alone: the kernels treat rows independently.
    public func forward(segments: [Segment]) throws(ModelError) -> [[Float]] {
        var seen = Set<ObjectIdentifier>()
        for segment in segments {
            guard seen.insert(ObjectIdentifier(segment.cache)).inserted else {
                throw ModelError("two segments of one step share a cache")
            }
            guard segment.cache.count + segment.tokens.count <= segment.cache.capacity else {
                throw ModelError("context full: \(segment.cache.count) + \(segment.tokens.count) tokens exceed the \(segment.cache.capacity) positions of the cache")
            }
            if let bad = segment.tokens.first(where: { $0 < 0 || $0 >= vocabularySize }) {
                throw ModelError("token \(bad) is outside the vocabulary of \(vocabularySize)")
            }
        }
        var rows: [Row] = [], logitRows: [Int] = [], owners: [Int] = []
        for (index, segment) in segments.enumerated() where !segment.tokens.isEmpty {
            for (offset, token) in segment.tokens.enumerated() {
                rows.append(Row(token: token, cache: segment.cache, position: segment.cache.count + offset))
            }
            if segment.wantsLogits {
                logitRows.append(rows.count - 1)
                owners.append(index)
            }
        }
        let logits = run(rows, logitRows: logitRows)
        for segment in segments { segment.cache.append(segment.tokens.count) }
        var result = [[Float]](repeating: [], count: segments.count)
        for (position, owner) in owners.enumerated() {
            result[owner] = Array(logits[(position * vocabularySize)..<((position + 1) * vocabularySize)])
        }
        return result
    }

    /// One row of a pass: a token, the cache of its sequence, and its position there.
    struct Row {
        var token: Int
        var cache: KVCache
        var position: Int
    }

    /// One chunk of `forward`, already checked; `logits` nil computes none.
    private func forwardChunk(_ tokens: [Int], cache: KVCache, logits: Logits?) -> [Float] {
        let rows = tokens.enumerated().map { Row(token: $0.element, cache: cache, position: cache.count + $0.offset) }
        let logitRows: [Int] = switch logits {
        case .all?: Array(rows.indices)
        case .last?: [rows.count - 1]
        case nil: []
        }
        let result = run(rows, logitRows: logitRows)
        cache.append(tokens.count)
        return result
    }

    /// The layers over `rows`, writing each row's keys and values into its cache at its position (the caches'
    /// counts are the caller's to advance); returns the logits of `logitRows`, in order.
    private func run(_ rows: [Row], logitRows: [Int]) -> [Float] {
        let batch = rows.count, e = config.embedding, kv = config.kvDimension, ff = config.feedForward, qd = config.queryDimension
        let x = Buffer(batch * e), normed = Buffer(batch * e), attention = Buffer(batch * qd), projected = Buffer(batch * e)
        let q = Buffer(batch * qd), k = Buffer(batch * kv), v = Buffer(batch * kv)
        let gate = Buffer(batch * ff), up = Buffer(batch * ff)
        defer { [x, normed, attention, projected, q, k, v, gate, up].forEach { $0.free() } }

        for (t, row) in rows.enumerated() {
            weights.tokenEmbedding.row(row.token, into: UnsafeMutableBufferPointer(start: x.pointer + t * e, count: e))
        }
        let positions = rows.map(\.position)
        for (index, layer) in weights.layers.enumerated() {
            rmsNorm(x, layer.attentionNorm, into: normed, rows: batch)
            WeightMatrix.multiply([layer.query, layer.key, layer.value], normed.pointer, batch: batch,
                                  into: [q.pointer, k.pointer, v.pointer], workers: workers)
            addBias(layer.queryBias, to: q, rows: batch)
            addBias(layer.keyBias, to: k, rows: batch)
            addBias(layer.valueBias, to: v, rows: batch)
            rotate(q, heads: config.heads, positions: positions)
            rotate(k, heads: config.kvHeads, positions: positions)
            store(k, v, layer: index, rows: rows)
            attend(q, layer: index, rows: rows, into: attention)
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
        guard !logitRows.isEmpty else { return [] }

        // the rows whose logits are wanted, gathered and normed together
        let picked = Buffer(logitRows.count * e)
        defer { picked.free() }
        for (slot, row) in logitRows.enumerated() { (picked.pointer + slot * e).update(from: x.pointer + row * e, count: e) }
        rmsNorm(picked, weights.outputNorm, into: normed, rows: logitRows.count)
        var result = [Float](repeating: 0, count: logitRows.count * vocabularySize)
        result.withUnsafeMutableBufferPointer { out in
            weights.output.multiply(normed.pointer, batch: logitRows.count, into: out.baseAddress!, workers: workers)
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

    /// Rotary position embedding of each head of each row, at that row's position.
    private func rotate(_ values: Buffer, heads: Int, positions: [Int]) {
        let d = config.headDimension, pairs = config.ropeDimensions / 2
        var cosines = [Float](repeating: 0, count: pairs), sines = [Float](repeating: 0, count: pairs)
        for (row, position) in positions.enumerated() {
            var theta = Float(position)
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

    private func store(_ k: Buffer, _ v: Buffer, layer: Int, rows: [Row]) {
        let kv = config.kvDimension
        for (index, row) in rows.enumerated() {
            let keys = row.cache.keys[layer] + row.position * kv, values = row.cache.values[layer] + row.position * kv
            for i in 0..<kv {
                keys[i] = Float16(k.pointer[index * kv + i])
                values[i] = Float16(v.pointer[index * kv + i])
            }
        }
    }

    /// Causal grouped-query attention: each query head of a row attends to its KV head over positions `0...position`
    /// of that row's own cache.
    /// As in llama.cpp, the query meets the f16 keys rounded to f16, and the probabilities meet the f16 values
    /// rounded to f16: quantised models turn such differences into whole quantisation steps downstream.
    private func attend(_ q: Buffer, layer: Int, rows: [Row], into out: Buffer) {
        let d = config.headDimension, heads = config.heads, kv = config.kvDimension
        let group = heads / config.kvHeads
        let scale = 1 / sqrtf(Float(d))
        let longest = (rows.map(\.position).max() ?? 0) + 1
        workers.split(rows.count * heads) { items in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: longest)
            let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: d)
            let query = UnsafeMutablePointer<Float16>.allocate(capacity: d)
            defer { scores.deallocate(); accumulator.deallocate(); query.deallocate() }
            for item in items {
                let row = item / heads, head = item % heads
                let keys = rows[row].cache.keys[layer], values = rows[row].cache.values[layer]
                let source = q.pointer + (row * heads + head) * d
                for i in 0..<d { query[i] = Float16(source[i]) }
                let kvOffset = (head / group) * d
                let length = rows[row].position + 1
                var maximum = -Float.infinity
                for position in 0..<length {
                    // f16 · f16 summed in f32 lanes, as ggml's vec_dot_f16
                    let dot = FloatDot.f16(UnsafeRawPointer(keys + position * kv + kvOffset), UnsafeRawPointer(query), count: d)
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
                    // each lane still adds its positions in order: the same sums as one dimension at a time
                    Self.addScaled(UnsafeRawPointer(values + position * kv + kvOffset), weight, into: accumulator, count: d)
                }
                (out.pointer + (row * heads + head) * d).update(from: accumulator, count: d)
            }
        }
    }

    /// `accumulator[i] += weight · values[i]` over `count` f16 values, sixteen lanes at a time.
    @inline(__always)
    private static func addScaled(_ values: UnsafeRawPointer, _ weight: Float, into accumulator: UnsafeMutablePointer<Float>, count: Int) {
        let scale = SIMD16<Float>(repeating: weight)
        var i = 0
        while i + 16 <= count {
            let raw = UnsafeMutableRawPointer(accumulator + i)
            var sum = raw.loadUnaligned(as: SIMD16<Float>.self)
            sum.addProduct(floatLanes(values.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<Float16>.self)), scale)
            raw.storeBytes(of: sum, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            accumulator[i] += weight * Float(values.loadUnaligned(fromByteOffset: i * 2, as: Float16.self))
            i += 1
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
