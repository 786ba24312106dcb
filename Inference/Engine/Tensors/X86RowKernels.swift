#if arch(x86_64)
import InferenceKernelsAVX2
import InferenceKernelsAVX512

// The row kernels of the x86 kernel modules, over the activations' widened forms (which carry the int8 values and
// int16 sums these kernels read beside the int16 values the portable kernels read).

extension QuantizedDot {
    /// The parts of a widened Q8_0 row the x86 kernels read.
    @inline(__always)
    static func x86Row(_ b: UnsafeRawPointer, blocks: Int) -> Q8Row {
        Q8Row(widened: b, blocks: blocks)
    }
}

extension KQuantDot {
    /// The parts of a widened Q8_K row the x86 kernels read.
    @inline(__always)
    static func x86Row(_ b: UnsafeRawPointer, blocks: Int) -> Q8KRow {
        Q8KRow(values: b + blocks * 580, scales: (b + blocks * 512).assumingMemoryBound(to: Float.self), sums: b + blocks * 836)
    }
}

/// One instruction set's kernel for one weight type, over the x86 modules' activation rows.
protocol X86Entry {
    associatedtype Row
    static func row(_ b: UnsafeRawPointer, blocks: Int) -> Row
    static var blockElements: Int { get }
    /// `scratch` holds 5 · (`blocks` + 8) floats.
    static func one(_ w: UnsafeRawPointer, _ y: Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float
    static func four(_ w: UnsafeRawPointer, _ y0: Row, _ y1: Row, _ y2: Row, _ y3: Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float>
    /// Two weight rows · one activation row.
    static func two(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float>
    /// Weight rows `rows`, `rowBytes` apart from `w`, · `count` activation rows (a multiple of four) `stride` bytes
    /// apart from `tokens`; row r's result for token t goes to `output[t · outputStride + r]`. `scratch` holds
    /// `QuantizedDot.scratchFloats(blocks:)` floats.
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                     scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int)
}

extension X86Entry {
    static func two(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        SIMD2(one(w0, y, blocks: blocks, scratch: scratch), one(w1, y, blocks: blocks, scratch: scratch))
    }
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                     scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        for r in 0..<rows {
            for t in Swift.stride(from: 0, to: count, by: 4) {
                @inline(__always) func y(_ i: Int) -> Row { row(tokens + (t + i) * stride, blocks: blocks) }
                let results = four(w + r * rowBytes, y(0), y(1), y(2), y(3), blocks: blocks, scratch: scratch)
                for i in 0..<4 { output[(t + i) * outputStride + r] = results[i] }
            }
        }
    }
}

protocol X86SmallEntry: X86Entry where Row == Q8Row {}
extension X86SmallEntry {
    static func row(_ b: UnsafeRawPointer, blocks: Int) -> Q8Row { QuantizedDot.x86Row(b, blocks: blocks) }
    static var blockElements: Int { 32 }
}

protocol X86KEntry: X86Entry where Row == Q8KRow {}
extension X86KEntry {
    static func row(_ b: UnsafeRawPointer, blocks: Int) -> Q8KRow { KQuantDot.x86Row(b, blocks: blocks) }
    static var blockElements: Int { 256 }
}

/// The row kernel of an x86 entry.
enum X86RowKernel<Entry: X86Entry>: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        let blocks = columns / Entry.blockElements
        return Entry.one(w, Entry.row(x, blocks: blocks), blocks: blocks, scratch: scratch)
    }
    static func dot(_ w: UnsafeRawPointer, _ x: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        let blocks = columns / Entry.blockElements
        return Entry.four(w, Entry.row(x[0], blocks: blocks), Entry.row(x[1], blocks: blocks), Entry.row(x[2], blocks: blocks),
                          Entry.row(x[3], blocks: blocks), blocks: blocks, scratch: scratch)
    }
    static func dot(rows w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        let blocks = columns / Entry.blockElements
        return Entry.two(w0, w1, Entry.row(x, blocks: blocks), blocks: blocks, scratch: scratch)
    }
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, _ x: TokenRows, columns: Int, scratch: UnsafeMutablePointer<Float>,
                     output: UnsafeMutablePointer<Float>, outputStride: Int) {
        Entry.tile(w, rowBytes: rowBytes, rows: rows, tokens: x.first, stride: x.stride, count: x.count, blocks: columns / Entry.blockElements,
                   scratch: scratch, output: output, outputStride: outputStride)
    }
}

/// A 32-value block type through the AVX2 module, specialised here (the engine is built for Haswell too).
enum AVX2Small<Unpack: SmallBlockUnpack>: X86SmallEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { SmallBlockKernels<AVX2Dot, Unpack>.dot(w, y, blocks: blocks, scratch: scratch) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        SmallBlockKernels<AVX2Dot, Unpack>.dot(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch)
    }
    static func two(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        SmallBlockKernels<AVX2Dot, Unpack>.dot(w0, w1, y, blocks: blocks, scratch: scratch)
    }
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                     scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        SmallBlockKernels<AVX2Dot, Unpack>.tile(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks,
                                                scratch: scratch, output: output, outputStride: outputStride)
    }
}

enum AVX2Q4K: X86KEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8KRow, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { KQuantKernels.q4K(w, y, blocks: blocks) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        KQuantKernels.q4K(w, y0, y1, y2, y3, blocks: blocks)
    }
}

enum AVX2Q6K: X86KEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8KRow, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { KQuantKernels.q6K(w, y, blocks: blocks) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        KQuantKernels.q6K(w, y0, y1, y2, y3, blocks: blocks)
    }
}

// The AVX-512 module's entry points (built for Cascade Lake, called only when the CPU has it).
enum AVX512Q8_0: X86SmallEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { AVX512Kernels.q8_0(w, y, blocks: blocks, scratch: scratch) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> { AVX512Kernels.q8_0(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch) }
    static func two(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> { AVX512Kernels.q8_0(w0, w1, y, blocks: blocks, scratch: scratch) }
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                     scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        AVX512Kernels.q8_0(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks, scratch: scratch,
                            output: output, outputStride: outputStride)
    }
}
enum AVX512Q4_0: X86SmallEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { AVX512Kernels.q4_0(w, y, blocks: blocks, scratch: scratch) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> { AVX512Kernels.q4_0(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch) }
    static func two(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> { AVX512Kernels.q4_0(w0, w1, y, blocks: blocks, scratch: scratch) }
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                     scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        AVX512Kernels.q4_0(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks, scratch: scratch,
                            output: output, outputStride: outputStride)
    }
}
enum AVX512Q5_0: X86SmallEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { AVX512Kernels.q5_0(w, y, blocks: blocks, scratch: scratch) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> { AVX512Kernels.q5_0(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch) }
    static func two(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> { AVX512Kernels.q5_0(w0, w1, y, blocks: blocks, scratch: scratch) }
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                     scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        AVX512Kernels.q5_0(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks, scratch: scratch,
                            output: output, outputStride: outputStride)
    }
}
enum AVX512Q4_1: X86SmallEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { AVX512Kernels.q4_1(w, y, blocks: blocks, scratch: scratch) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> { AVX512Kernels.q4_1(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch) }
    static func two(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> { AVX512Kernels.q4_1(w0, w1, y, blocks: blocks, scratch: scratch) }
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                     scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        AVX512Kernels.q4_1(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks, scratch: scratch,
                            output: output, outputStride: outputStride)
    }
}
enum AVX512Q5_1: X86SmallEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { AVX512Kernels.q5_1(w, y, blocks: blocks, scratch: scratch) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> { AVX512Kernels.q5_1(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch) }
    static func two(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> { AVX512Kernels.q5_1(w0, w1, y, blocks: blocks, scratch: scratch) }
    static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                     scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        AVX512Kernels.q5_1(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks, scratch: scratch,
                            output: output, outputStride: outputStride)
    }
}
enum AVX512Q4K: X86KEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8KRow, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { AVX512Kernels.q4K(w, y, blocks: blocks) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> { AVX512Kernels.q4K(w, y0, y1, y2, y3, blocks: blocks) }
}
enum AVX512Q6K: X86KEntry {
    static func one(_ w: UnsafeRawPointer, _ y: Q8KRow, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float { AVX512Kernels.q6K(w, y, blocks: blocks) }
    static func four(_ w: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> { AVX512Kernels.q6K(w, y0, y1, y2, y3, blocks: blocks) }
}

extension WeightMatrix {
    /// Rows `range` through the x86 kernels, when `kernels` has one for this type; false leaves them to the
    /// portable ones.
    func x86Rows(_ range: Range<Int>, _ activations: UnsafeMutableRawPointer, _ activationBytes: Int, _ batch: Int,
                 _ output: UnsafeMutablePointer<Float>) -> Bool {
        func go<Entry: X86Entry>(_: Entry.Type) { run(X86RowKernel<Entry>.self, range, activations, activationBytes, batch, output) }
        switch (kernels, type) {
        case (.avx2, .q8_0): go(AVX2Small<Q8_0Unpack>.self)
        case (.avx2, .q4_0): go(AVX2Small<Q4_0Unpack>.self)
        case (.avx2, .q5_0): go(AVX2Small<Q5_0Unpack>.self)
        case (.avx2, .q4_1): go(AVX2Small<Q4_1Unpack>.self)
        case (.avx2, .q5_1): go(AVX2Small<Q5_1Unpack>.self)
        case (.avx2, .q4_K): go(AVX2Q4K.self)
        case (.avx2, .q6_K): go(AVX2Q6K.self)
        case (.avx512, .q8_0): go(AVX512Q8_0.self)
        case (.avx512, .q4_0): go(AVX512Q4_0.self)
        case (.avx512, .q5_0): go(AVX512Q5_0.self)
        case (.avx512, .q4_1): go(AVX512Q4_1.self)
        case (.avx512, .q5_1): go(AVX512Q5_1.self)
        case (.avx512, .q4_K): go(AVX512Q4K.self)
        case (.avx512, .q6_K): go(AVX512Q6K.self)
        default: return false
        }
        return true
    }
}
extension WeightMatrix {
    /// Rows `range` (whole groups of 8) of a matrix repacked for `InterleavedQ4_0` or `InterleavedQ4K`.
    func interleavedRows(_ repacked: RepackedRows, _ range: Range<Int>, _ activations: UnsafeMutableRawPointer, _ activationBytes: Int,
                         _ batch: Int, _ output: UnsafeMutablePointer<Float>) {
        if type == .q4_K {
            let blocks = columns / 256
            groups(repacked, range, blocks * InterleavedQ4K<AVX2Dot>.groupBlockBytes, batch, output,
                   { KQuantDot.x86Row(activations + $0 * activationBytes, blocks: blocks) },
                   one: { kernels == .avx512 ? AVX512Kernels.q4Kx8($0, $1, blocks: blocks) : InterleavedQ4K<AVX2Dot>.dot($0, $1, blocks: blocks) },
                   four: { kernels == .avx512 ? AVX512Kernels.q4Kx8($0, $1, $2, $3, $4, blocks: blocks) : InterleavedQ4K<AVX2Dot>.dot($0, $1, $2, $3, $4, blocks: blocks) },
                   twoGroups: kernels == .avx512 ? { AVX512Kernels.q4Kx16($0, $1, $2, $3, $4, $5, blocks: blocks) } : nil)
        } else {
            let blocks = columns / 32
            groups(repacked, range, blocks * InterleavedQ4_0<AVX2Dot>.groupBlockBytes, batch, output,
                   { QuantizedDot.x86Row(activations + $0 * activationBytes, blocks: blocks) },
                   one: { kernels == .avx512 ? AVX512Kernels.q4_0x8($0, $1, blocks: blocks) : InterleavedQ4_0<AVX2Dot>.dot($0, $1, blocks: blocks) },
                   four: { kernels == .avx512 ? AVX512Kernels.q4_0x8($0, $1, $2, $3, $4, blocks: blocks) : InterleavedQ4_0<AVX2Dot>.dot($0, $1, $2, $3, $4, blocks: blocks) },
                   twoGroups: kernels == .avx512 ? { AVX512Kernels.q4_0x16($0, $1, $2, $3, $4, $5, blocks: blocks) } : nil)
        }
    }

    /// Each group of eight rows in `range` against the batch: four tokens at a time, then one, every group's eight
    /// results stored together. With `twoGroups`, groups go in pairs through it for the tokens in fours.
    @inline(__always)
    private func groups<Row>(_ repacked: RepackedRows, _ range: Range<Int>, _ groupBytes: Int, _ batch: Int, _ output: UnsafeMutablePointer<Float>,
                             _ row: (Int) -> Row, one: (UnsafeRawPointer, Row) -> SIMD8<Float>,
                             four: (UnsafeRawPointer, Row, Row, Row, Row) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>),
                             twoGroups: ((UnsafeRawPointer, UnsafeRawPointer, Row, Row, Row, Row) -> AVX512Kernels.GroupPairs)? = nil) {
        precondition(range.lowerBound % 8 == 0 && range.upperBound % 8 == 0, "interleaved rows go in whole groups")
        @inline(__always) func store(_ values: SIMD8<Float>, _ t: Int, _ group: Int) {
            UnsafeMutableRawPointer(output + t * rows + group * 8).storeBytes(of: values, as: SIMD8<Float>.self)
        }
        let end = range.upperBound / 8
        var group = range.lowerBound / 8
        while group < end {
            let weights = UnsafeRawPointer(repacked.base + group * groupBytes)
            var t = 0
            if let twoGroups, group + 1 < end, batch >= 4 {
                let second = weights + groupBytes
                while t + 4 <= batch {
                    let results = twoGroups(weights, second, row(t), row(t + 1), row(t + 2), row(t + 3))
                    @inline(__always) func storeBoth(_ pair: InterleavedQ4K16.Pair, _ t: Int) {
                        store(pair.0, t, group)
                        store(pair.1, t, group + 1)
                    }
                    storeBoth(results.0, t)
                    storeBoth(results.1, t + 1)
                    storeBoth(results.2, t + 2)
                    storeBoth(results.3, t + 3)
                    t += 4
                }
                while t < batch {
                    store(one(weights, row(t)), t, group)
                    store(one(second, row(t)), t, group + 1)
                    t += 1
                }
                group += 2
                continue
            }
            while t + 4 <= batch {
                let results = four(weights, row(t), row(t + 1), row(t + 2), row(t + 3))
                store(results.0, t, group)
                store(results.1, t + 1, group)
                store(results.2, t + 2, group)
                store(results.3, t + 3, group)
                t += 4
            }
            while t < batch {
                store(one(weights, row(t)), t, group)
                t += 1
            }
            group += 1
        }
    }
}
#endif
