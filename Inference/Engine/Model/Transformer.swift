import Foundation
import GGUF

/// A llama-family decoder (llama, qwen2, qwen3, gemma3) over weights in the memory-mapped GGUF file: RMSNorm, RoPE,
/// grouped-query attention over a KV cache (through a sliding window on the layers that have one), a gated
/// feed-forward block, final norm and logits.
public final class Transformer: @unchecked Sendable {
    // @unchecked: every stored property is a `let` and the weights are only read; a forward pass writes only the
    // caches it is given (one caller's at a time, as the scheduler runs them) and scratch it allocates itself
    public let file: GGUFFile
    public let config: ModelConfig
    public let weights: ModelWeights
    public let workers: Workers
    /// How attention sums: in llama.cpp's non-flash order (`Attention`, the default) or in one pass with an online
    /// softmax (`OnlineAttention`).
    public let attention: AttentionMode
    /// `base^(-2/ropeDimensions)`: each pair of dimensions turns this much slower than the one before, for the
    /// full-attention layers' RoPE base and for the sliding-window layers' own.
    private let thetaScale: Float, slidingThetaScale: Float

    /// The model in `file`, computing on `workers` with the matrix kernels of `kernels` (`KernelSet.detected` unless
    /// told) and attention summed as `attention` says.
    public init(_ file: GGUFFile, workers: Workers, kernels: KernelSet = .detected, attention: AttentionMode = .exact) throws(ModelError) {
        self.file = file
        config = try ModelConfig(file)
        weights = try ModelWeights(file, config, kernels: kernels)
        self.workers = workers
        self.attention = attention
        thetaScale = powf(config.ropeBase, -2 / Float(config.ropeDimensions))
        slidingThetaScale = powf(config.slidingRopeBase, -2 / Float(config.ropeDimensions))
    }

    public convenience init(path: String, workers: Workers, kernels: KernelSet = .detected, attention: AttentionMode = .exact) throws {
        try self.init(GGUFFile.open(path), workers: workers, kernels: kernels, attention: attention)
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

    /// Tokens per pass through the layers: one of the matrices' token chunks (`WeightMatrix.tokenChunk`), sixteen
    /// quads of four.
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
        scale(x, by: config.embeddingScale, count: batch * e)
        let positions = rows.map(\.position)
        for (index, layer) in weights.layers.enumerated() {
            rmsNorm(x, layer.attentionNorm, into: normed, rows: batch)
            WeightMatrix.multiply([layer.query, layer.key, layer.value], normed.pointer, batch: batch,
                                  into: [q.pointer, k.pointer, v.pointer], workers: workers)
            addBias(layer.queryBias, to: q, rows: batch)
            addBias(layer.keyBias, to: k, rows: batch)
            addBias(layer.valueBias, to: v, rows: batch)
            // per-head norms: each head is one row as wide as the norm's weights
            if let norm = layer.queryNorm { rmsNorm(q, norm, into: q, rows: batch * config.heads) }
            if let norm = layer.keyNorm { rmsNorm(k, norm, into: k, rows: batch * config.kvHeads) }
            let sliding = config.slides(index)
            rotate(q, heads: config.heads, positions: positions, sliding: sliding)
            rotate(k, heads: config.kvHeads, positions: positions, sliding: sliding)
            scale(q, by: config.queryScale, count: batch * qd)
            store(k, v, layer: index, rows: rows)
            attend(q, layer: index, rows: rows, window: sliding ? config.slidingWindow : nil, into: attention)
            layer.output.multiply(attention.pointer, batch: batch, into: projected.pointer, workers: workers)
            if let norm = layer.postAttentionNorm { rmsNorm(projected, norm, into: projected, rows: batch) }
            add(projected, to: x, count: batch * e)

            rmsNorm(x, layer.feedForwardNorm, into: normed, rows: batch)
            WeightMatrix.multiply([layer.gate, layer.up], normed.pointer, batch: batch, into: [gate.pointer, up.pointer], workers: workers)
            gateActivation(gate, up, rows: batch)
            layer.down.multiply(gate.pointer, batch: batch, into: projected.pointer, workers: workers)
            if let norm = layer.postFeedForwardNorm { rmsNorm(projected, norm, into: projected, rows: batch) }
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
        if let cap = config.logitSoftcap {
            for i in result.indices { result[i] = tanhf(result[i] / cap) * cap }
        }
        return result
    }

    /// `gate = activation(gate) · up`, elementwise, row by row (ggml's lanes start again at each row).
    private func gateActivation(_ gate: Buffer, _ up: Buffer, rows: Int) {
        let ff = config.feedForward
        switch config.activation {
        case .silu:
            for row in 0..<rows { VectorExp.swiglu(gate.pointer + row * ff, up.pointer + row * ff, count: ff) }
        case .geluTanh:
            Self.geluTable.withUnsafeBufferPointer { table in
                for i in 0..<(rows * ff) { gate.pointer[i] = Self.gelu(gate.pointer[i], table) * up.pointer[i] }
            }
        }
    }

    /// GELU's tanh approximation as ggml computes it on the CPU: looked up in a table of f16 inputs and f16 results
    /// (the input rounded to f16, the result too), and exactly 0 or x beyond ±10. The table is built by C compiled
    /// with contraction, which fuses `1 + 0.044715·x·x` into one multiply-add; so do we, and every one of the 65,536
    /// entries comes out as llama.cpp's.
    @inline(__always)
    static func gelu(_ x: Float, _ table: UnsafeBufferPointer<Float16>) -> Float {
        if x <= -10 { return 0 }
        if x >= 10 { return x }
        return Float(table[Int(Float16(x).bitPattern)])
    }

    /// `gelu`'s table, indexed by the f16 input's bits (built once, 128 KiB).
    static let geluTable: [Float16] = (0..<65536).map { bits in
        let f = Float(Float16(bitPattern: UInt16(bits)))
        return Float16(0.5 * f * (1 + tanhf(0.797_884_56 * f * Float(1).addingProduct(0.044_715 * f, f))))
    }

    private func scale(_ values: Buffer, by factor: Float, count: Int) {
        guard factor != 1 else { return }
        for i in 0..<count { values.pointer[i] *= factor }
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

    /// Rotary position embedding of each head of each row, at that row's position; a sliding-window layer turns
    /// at its own base, without position scaling or frequency factors.
    private func rotate(_ values: Buffer, heads: Int, positions: [Int], sliding: Bool) {
        let d = config.headDimension, pairs = config.ropeDimensions / 2
        let step = sliding ? slidingThetaScale : thetaScale, positionScale = sliding ? 1 : config.ropeScale
        let factors = sliding ? nil : weights.ropeFactors
        var cosines = [Float](repeating: 0, count: pairs), sines = [Float](repeating: 0, count: pairs)
        for (row, position) in positions.enumerated() {
            var theta = Float(position)
            for i in 0..<pairs {
                let angle = positionScale * (theta / (factors?[i] ?? 1))
                cosines[i] = cosf(angle)
                sines[i] = sinf(angle)
                theta *= step
            }
            for head in 0..<heads {
                let h = values.pointer + (row * heads + head) * d
                for i in 0..<pairs {
                    let (a, b) = config.ropeStyle == .adjacent ? (2 * i, 2 * i + 1) : (i, i + pairs)
                    // fused as GCC fuses ggml's rotation in llama-cpp-python's build: the first output fuses
                    // x0·cos onto the rounded x1·sin, the second x0·sin onto the rounded x1·cos (checked against
                    // llama.cpp's rotated queries and keys, every value of every layer)
                    let x0 = h[a], x1 = h[b]
                    h[a] = (-(x1 * sines[i])).addingProduct(x0, cosines[i])
                    h[b] = (x1 * cosines[i]).addingProduct(x0, sines[i])
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
    /// of that row's own cache, or over its last `window` positions (its own included) on a sliding-window layer.
    /// Sums run in llama.cpp's order for one token (`Attention`), or with `.flash` in one pass (`OnlineAttention`);
    /// either way a row gives the same numbers in any batch.
    private func attend(_ q: Buffer, layer: Int, rows: [Row], window: Int?, into out: Buffer) {
        if attention == .flash { return attendOnline(q, layer: layer, rows: rows, window: window, into: out) }
        let d = config.headDimension, kvHeads = config.kvHeads
        let longest = ((rows.map(\.position).max() ?? 0) + 16) / 16 * 16
        let (headsPerPart, parts) = headParts(tiles: rows.count * kvHeads)
        workers.split(rows.count * kvHeads * parts) { items in
            let scratch = Attention.Scratch(positions: longest, width: d, heads: headsPerPart)
            defer { scratch.free() }
            for item in items {
                let r = item / (kvHeads * parts), kvHead = item / parts % kvHeads, part = item % parts
                let row = rows[r], heads = headRange(kvHead: kvHead, part: part, headsPerPart: headsPerPart)
                let length = row.position + 1, offset = (r * config.heads + heads.lowerBound) * d
                Attention.heads(heads.count, queries: q.pointer + offset, keys: row.cache.keys[layer] + kvHead * d,
                                values: row.cache.values[layer] + kvHead * d, stride: config.kvDimension,
                                first: window.map { max(0, length - $0) } ?? 0, length: length, scale: config.scoreScale,
                                scratch: scratch, into: out.pointer + offset)
            }
        }
    }

    /// How each KV head's query heads are shared out: all together, unless `tiles` (units of work that each take a
    /// KV head's heads) would be fewer than `perThread` a thread; then in parts of `headsPerPart`.
    private func headParts(tiles: Int, perThread: Int = 2) -> (headsPerPart: Int, parts: Int) {
        let group = config.heads / config.kvHeads
        let wanted = min(group, max(1, (workers.threads * perThread + tiles - 1) / tiles))
        let headsPerPart = (group + wanted - 1) / wanted
        return (headsPerPart, (group + headsPerPart - 1) / headsPerPart)
    }

    /// The query heads of part `part` of KV head `kvHead`'s, in parts of `headsPerPart`.
    private func headRange(kvHead: Int, part: Int, headsPerPart: Int) -> Range<Int> {
        let group = config.heads / config.kvHeads, first = kvHead * group + part * headsPerPart
        return first..<min(kvHead * group + group, first + headsPerPart)
    }
}

extension Transformer {
    /// `attend` with an online softmax: a tile is a KV head's query heads (or, when tiles would be fewer than two a
    /// thread, a part of them) for a run of up to `OnlineAttention.tokens` consecutive rows of one cache.
    private func attendOnline(_ q: Buffer, layer: Int, rows: [Row], window: Int?, into out: Buffer) {
        let d = config.headDimension, kvHeads = config.kvHeads
        var runs: [Range<Int>] = []
        var start = 0
        for index in rows.indices.dropFirst() where rows[index].cache !== rows[start].cache || index - start == OnlineAttention.tokens {
            runs.append(start..<index)
            start = index
        }
        if !rows.isEmpty { runs.append(start..<rows.count) }
        // one part a thread at most: every part converts its KV head's blocks to f32 again
        let tiles = runs.count * kvHeads, (headsPerPart, parts) = headParts(tiles: tiles, perThread: 1)
        workers.split(tiles * parts) { items in
            let scratch = OnlineAttention.Scratch(queries: OnlineAttention.tokens * headsPerPart, width: d)
            defer { scratch.free() }
            var queries: [OnlineAttention.Query] = []
            queries.reserveCapacity(scratch.capacity)
            for item in items {
                let run = runs[item / (kvHeads * parts)], kvHead = item / parts % kvHeads, part = item % parts
                let heads = headRange(kvHead: kvHead, part: part, headsPerPart: headsPerPart)
                queries.removeAll(keepingCapacity: true)
                for r in run {
                    let length = rows[r].position + 1, first = window.map { max(0, length - $0) } ?? 0
                    for head in heads {
                        let offset = (r * config.heads + head) * d
                        queries.append(.init(row: q.pointer + offset, positions: first..<length, output: out.pointer + offset))
                    }
                }
                let cache = rows[run.lowerBound].cache
                queries.withUnsafeBufferPointer {
                    OnlineAttention.tile($0, keys: cache.keys[layer] + kvHead * d, values: cache.values[layer] + kvHead * d,
                                         stride: config.kvDimension, scale: config.scoreScale, scratch: scratch)
                }
            }
        }
    }
}

/// How attention sums over the cache.
public enum AttentionMode: String, Sendable, CaseIterable {
    /// In llama.cpp's order without flash attention, to the bit (`Attention`): three passes, a score per position.
    case exact
    /// In one pass with an online softmax (`OnlineAttention`), as llama.cpp's `--flash-attn on` does in its own order.
    case flash
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
