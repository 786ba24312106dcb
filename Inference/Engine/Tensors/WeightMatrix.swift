import GGUF
import TextSafety

/// A 2-D weight tensor used in place, in its stored type: `rows` output features, each a row of `columns`
/// inputs (GGUF's first dimension). Multiplying never expands it to f32.
public struct WeightMatrix: @unchecked Sendable {
    // @unchecked: every stored property is a `let`; `base` and the repacked copies point at rows that are written
    // once, before the initialiser returns, and only read after (by any number of threads at once)
    public let name: String
    public let type: TensorType
    /// `type`, as the dequantiser that reads single rows knows it (checked when the matrix is made).
    let dequantized: Dequantize.Format
    public let rows: Int
    public let columns: Int
    public let format: ActivationFormat
    public let rowBytes: Int
    /// The instruction set the products run on.
    public let kernels: KernelSet
    /// Whether Q4_0 products follow llama.cpp's interleaved kernels' order (a multiple of 8 rows) rather than
    /// `vec_dot`'s. (Q4_K's kernels always follow its interleaved one.)
    let interleavedOrder: Bool
    /// The rows repacked eight at a time (Q4_0 and Q4_K of a multiple of 8 rows on the x86 sets).
    let interleaved: RepackedRows?
    /// The other rows of a file mapping, copied as they are (into 2 MiB pages where they fill them).
    let resident: RepackedRows?
    let base: UnsafeRawPointer

    /// Wraps `data`, which must hold exactly `rows` rows of `columns` values of `type`; products run on `kernels`
    /// (`KernelSet.detected` unless told), which must be available. `interleavable` false keeps the rows in place and
    /// in `vec_dot` order whatever their type and count, as llama.cpp keeps the token embedding (which a tied output
    /// projection multiplies by). `mapped` says `data` lies in a read-only file mapping, whose pages of rows copied
    /// into a kernel's layout, or as they are into 2 MiB pages, may then be given back; `resident` false keeps rows
    /// that are only looked up in the file, where only the rows read are ever in memory (the token embedding of a
    /// model with its own output projection).
    public init(name: String, type: TensorType, rows: Int, columns: Int, data: UnsafeRawBufferPointer,
                kernels: KernelSet = .detected, interleavable: Bool = true, mapped: Bool = false, resident: Bool = true) throws(ModelError) {
        precondition(kernels.isAvailable, "the \(kernels) kernels need an instruction set this CPU lacks")
        guard let format = ActivationFormat(weights: type) else {
            throw ModelError("tensor '\(SafeText.quoted(name))' has type \(type.name); supported are F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K")
        }
        guard let dequantized = Dequantize.Format(type) else {
            throw ModelError("tensor '\(SafeText.quoted(name))' has type \(type.name), which has no dequantiser")
        }
        let (elements, blockBytes) = type.block
        guard columns % elements == 0, columns % format.blockElements == 0 else {
            throw ModelError("tensor '\(SafeText.quoted(name))' has \(columns) columns, not a whole number of \(type.name) blocks")
        }
        guard data.count == rows * columns / elements * blockBytes, let base = data.baseAddress else {
            throw ModelError("tensor '\(SafeText.quoted(name))' holds \(data.count) bytes, not \(rows) x \(columns) \(type.name) values")
        }
        self.name = name
        self.type = type
        self.dequantized = dequantized
        self.rows = rows
        self.columns = columns
        self.format = format
        self.rowBytes = columns / elements * blockBytes
        self.kernels = kernels
        interleavedOrder = interleavable && type == .q4_0 && rows % 8 == 0
        interleaved = interleavable ? RepackedRows.interleaved(type, base, rows: rows, rowBytes: rowBytes, kernels: kernels, mapped: mapped) : nil
        self.resident = interleaved == nil && resident ? RepackedRows.resident(base, bytes: data.count, mapped: mapped) : nil
        self.base = UnsafeRawPointer(self.resident?.base ?? UnsafeMutableRawPointer(mutating: base))
    }

    /// Bytes of this matrix copied out of its file into the kernels' own memory (repacked, or as they are into 2 MiB
    /// pages), the file's pages given back; none when it is used in place.
    public var repackedBytes: Int { (interleaved ?? resident)?.byteCount ?? 0 }

    /// Row `index` as f32 values (an embedding lookup).
    public func row(_ index: Int, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(index >= 0 && index < rows && output.count == columns)
        Dequantize.run(format: dequantized, UnsafeRawBufferPointer(start: base + index * rowBytes, count: rowBytes), into: output)
    }

    /// `output[t][r] = Σ_c self[r][c] · input[t][c]` for `batch` rows of input, on `workers`.
    public func multiply(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>, workers: Workers) {
        Self.multiply([self], input, batch: batch, into: [output], workers: workers)
    }

    /// Several matrices over the same input (q, k and v; gate and up): the input is converted once when they take
    /// the same activation format, and all their rows are shared out among the threads in one parallel step.
    public static func multiply(_ matrices: [WeightMatrix], _ input: UnsafePointer<Float>, batch: Int,
                                into outputs: [UnsafeMutablePointer<Float>], workers: Workers) {
        guard let first = matrices.first else { return }
        guard matrices.allSatisfy({ $0.format == first.format && $0.columns == first.columns }) else {
            for (matrix, output) in zip(matrices, outputs) { multiply([matrix], input, batch: batch, into: [output], workers: workers) }
            return
        }
        let format = first.format, columns = first.columns
        let activationBytes = format.rowBytes(columns)
        let activations = UnsafeMutableRawPointer.allocate(byteCount: max(1, activationBytes * batch), alignment: 64)
        defer { activations.deallocate() }
        workers.split(batch) { tokens in
            for t in tokens {
                format.convert(UnsafeBufferPointer(start: input + t * columns, count: columns), into: activations + t * activationBytes)
            }
        }
        let total = matrices.reduce(0) { $0 + $1.rows }
        // matrices in interleaved order are shared out in whole groups of 8 rows, so every share ends on a group
        let granularity = matrices.contains(where: { $0.interleavedOrder || $0.interleaved != nil }) ? 8 : 1
        if granularity > 1, !matrices.allSatisfy({ $0.rows % granularity == 0 }) {
            for (matrix, output) in zip(matrices, outputs) { multiply([matrix], input, batch: batch, into: [output], workers: workers) }
            return
        }
        // the threads share the rows and, where the rows alone would leave each share too few, the tokens too: item i
        // is rows unit i % units of token part i / units, so a share's items run along rows within a token part
        let units = total / granularity, parts = tokenParts(rows: total, batch: batch, threads: workers.threads)
        workers.split(units * parts, minimumPerPart: max(1, 4 / granularity)) { items in
            var item = items.lowerBound
            while item < items.upperBound {
                let part = item / units, first = item % units, last = min(units, first + items.upperBound - item)
                let tokens = tokenRange(part, of: parts, batch: batch)
                let rows = first * granularity..<last * granularity
                var offset = 0
                for (matrix, output) in zip(matrices, outputs) {
                    let lower = max(rows.lowerBound, offset), upper = min(rows.upperBound, offset + matrix.rows)
                    if lower < upper, !tokens.isEmpty {
                        matrix.rows(lower - offset..<upper - offset, activations + tokens.lowerBound * activationBytes, activationBytes,
                                    tokens.count, output + tokens.lowerBound * matrix.rows)
                    }
                    offset += matrix.rows
                }
                item += last - first
            }
        }
    }

    /// Parts the tokens of a product are cut into for the threads: one, unless sharing the rows alone would give the
    /// pool's shares (about four a thread) fewer than `rowsPerShare` rows each, as small matrices on many cores do;
    /// then as many as bring the shares up to it, of sixteen tokens or more each.
    static func tokenParts(rows: Int, batch: Int, threads: Int) -> Int {
        guard threads > 1, batch >= 32 else { return 1 }
        let wanted = (threads * 4 * rowsPerShare + rows - 1) / rows
        return max(1, min(wanted, batch / 16))
    }

    /// Part `part` of `parts` of `0..<batch`, cut on multiples of four tokens (the tiles' quads); the last ends at
    /// `batch`.
    static func tokenRange(_ part: Int, of parts: Int, batch: Int) -> Range<Int> {
        let quads = batch / 4
        let lower = quads * part / parts * 4, upper = part == parts - 1 ? batch : quads * (part + 1) / parts * 4
        return lower..<upper
    }

    /// Rows below which a thread's share of a product is cut across the tokens instead: a share of 32 rows still
    /// passes eight 4-row tiles over each token chunk.
    static let rowsPerShare = 32

    /// Rows `range` of the product, on the calling thread.
    private func rows(_ range: Range<Int>, _ activations: UnsafeMutableRawPointer, _ activationBytes: Int, _ batch: Int,
                      _ output: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        if let interleaved {
            interleavedRows(interleaved, range, activations, activationBytes, batch, output)
            return
        }
        if x86Rows(range, activations, activationBytes, batch, output) { return }
        #endif
        if interleavedOrder {
            run(Q4_0InterleavedKernel.self, range, activations, activationBytes, batch, output)
            return
        }
        switch type {
        case .f32: run(F32Kernel.self, range, activations, activationBytes, batch, output)
        case .f16: run(F16Kernel.self, range, activations, activationBytes, batch, output)
        case .bf16: run(BF16Kernel.self, range, activations, activationBytes, batch, output)
        case .q8_0: run(Q8_0Kernel.self, range, activations, activationBytes, batch, output)
        case .q4_0: run(Q4_0Kernel.self, range, activations, activationBytes, batch, output)
        case .q5_0: run(Q5_0Kernel.self, range, activations, activationBytes, batch, output)
        case .q4_1: run(Q4_1Kernel.self, range, activations, activationBytes, batch, output)
        case .q5_1: run(Q5_1Kernel.self, range, activations, activationBytes, batch, output)
        case .q4_K: run(Q4KKernel.self, range, activations, activationBytes, batch, output)
        case .q5_K: run(Q5KKernel.self, range, activations, activationBytes, batch, output)
        case .q2_K: run(Q2KKernel.self, range, activations, activationBytes, batch, output)
        case .q3_K: run(Q3KKernel.self, range, activations, activationBytes, batch, output)
        case .q6_K: run(Q6KKernel.self, range, activations, activationBytes, batch, output)
        default: preconditionFailure("unsupported types are refused in init")
        }
    }

    /// Tokens go in chunks: each tile of weight rows is read from memory once per chunk and stays in the first-level
    /// cache while the chunk's tokens, which stay in the second, pass it four at a time.
    func run<Kernel: RowKernel>(_: Kernel.Type, _ range: Range<Int>, _ activations: UnsafeMutableRawPointer,
                                        _ activationBytes: Int, _ batch: Int, _ output: UnsafeMutablePointer<Float>) {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: QuantizedDot.scratchFloats(blocks: columns / 32))
        defer { scratch.deallocate() }
        if batch == 1 {
            // one token (generation): weight rows in pairs
            var r = range.lowerBound
            while r + 2 <= range.upperBound {
                let two = Kernel.dot(rows: base + r * rowBytes, base + (r + 1) * rowBytes, activations, columns: columns, scratch: scratch)
                output[r] = two[0]
                output[r + 1] = two[1]
                r += 2
            }
            if r < range.upperBound { output[r] = Kernel.dot(base + r * rowBytes, activations, columns: columns, scratch: scratch) }
            return
        }
        var start = 0
        while start < batch {
            let end = min(batch, start + WeightMatrix.tokenChunk)
            let quads = (end - start) / 4 * 4
            if quads > 0 {
                Kernel.tile(base + range.lowerBound * rowBytes, rowBytes: rowBytes, rows: range.count,
                            TokenRows(activations + start * activationBytes, stride: activationBytes, count: quads), columns: columns,
                            scratch: scratch, output: output + start * rows + range.lowerBound, outputStride: rows)
            }
            for row in range {
                for token in (start + quads)..<end {
                    output[token * rows + row] = Kernel.dot(base + row * rowBytes, activations + token * activationBytes, columns: columns, scratch: scratch)
                }
            }
            start = end
        }
    }
}

extension WeightMatrix {
    /// Tokens per chunk of prompt processing: the chunk's activations (about 2-4 KB a token for 2,048 columns) stay
    /// in a 1 MiB second-level cache while every tile of rows passes them; 32 and 128 measured slower on TinyLlama's
    /// shape (Zen 4, `bench -p 512`).
    static let tokenChunk = 64
}

extension ActivationFormat {
    /// The block a row of this format is made of.
    var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q8_0: 32
        case .q8_K: 256
        }
    }
}

/// One weight type's row · activation dot product, as a type so that the matrix loop is specialised for it. `scratch`
/// holds `QuantizedDot.scratchFloats(blocks:)` floats for kernels that need room, allocated once per run of rows.
protocol RowKernel {
    static func dot(_ weights: UnsafeRawPointer, _ activations: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float
    /// One weight row against four activation rows; kernels that can reuse the unpacked weights do.
    static func dot(_ weights: UnsafeRawPointer, _ activations: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float>
    /// Two weight rows against one activation row; kernels whose sums are latency-bound interleave the two.
    static func dot(rows w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ activations: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float>
    /// Weight rows `rows`, `rowBytes` apart from `w`, against a multiple of four activation rows (a tile of prompt
    /// processing): row r's result for token t goes to `output[t · outputStride + r]`.
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, _ activations: TokenRows, columns: Int, scratch: UnsafeMutablePointer<Float>,
                     output: UnsafeMutablePointer<Float>, outputStride: Int)
}

extension RowKernel {
    static func dot(_ weights: UnsafeRawPointer, _ activations: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        SIMD4(dot(weights, activations[0], columns: columns, scratch: scratch), dot(weights, activations[1], columns: columns, scratch: scratch),
              dot(weights, activations[2], columns: columns, scratch: scratch), dot(weights, activations[3], columns: columns, scratch: scratch))
    }
    static func dot(rows w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ activations: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        SIMD2(dot(w0, activations, columns: columns, scratch: scratch), dot(w1, activations, columns: columns, scratch: scratch))
    }
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, _ activations: TokenRows, columns: Int, scratch: UnsafeMutablePointer<Float>,
                     output: UnsafeMutablePointer<Float>, outputStride: Int) {
        for r in 0..<rows {
            for t in stride(from: 0, to: activations.count, by: 4) {
                let results = dot(w + r * rowBytes, FourRows(activations[t], stride: activations.stride), columns: columns, scratch: scratch)
                for i in 0..<4 { output[(t + i) * outputStride + r] = results[i] }
            }
        }
    }
}

enum F32Kernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float { FloatDot.f32(w, x, count: columns) }
}

enum F16Kernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float { FloatDot.f16(w, x, count: columns) }
}

enum BF16Kernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float { FloatDot.bf16(w, x, count: columns) }
}

enum Q8_0Kernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        QuantizedDot.q8_0(w, x, blocks: columns / 32, scratch: scratch)
    }
    static func dot(_ w: UnsafeRawPointer, _ x: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        QuantizedDot.q8_0(w, x, blocks: columns / 32, scratch: scratch)
    }
}

enum Q4_0InterleavedKernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        QuantizedDot.q4_0Interleaved(w, x, blocks: columns / 32)
    }
}

enum Q4KKernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float { KQuantDot.q4K(w, x, blocks: columns / 256) }
    static func dot(_ w: UnsafeRawPointer, _ x: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> { KQuantDot.q4K(w, x, blocks: columns / 256) }
}

enum Q6KKernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float { KQuantDot.q6K(w, x, blocks: columns / 256) }
    static func dot(_ w: UnsafeRawPointer, _ x: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> { KQuantDot.q6K(w, x, blocks: columns / 256) }
}
