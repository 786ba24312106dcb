#if arch(x86_64)
import _Builtin_intrinsics.intel
import InferenceKernelsAVX2
import CKernelIntrinsics

/// AVX-512 VNNI's int8 dot: one 256-bit `vpdpbusd`, as ggml's x86 kernels use it when the CPU has AVX512-VNNI and
/// AVX512-VL; the same integers as AVX2's two instructions.
enum VNNIDot: Int8Dot {
    @inline(__always)
    static func unsignedSigned(_ a: __m256i, _ b: __m256i) -> __m256i {
        deploy_dpbusd256(_mm256_setzero_si256(), a, b)
    }
    @inline(__always)
    static func accumulate(_ sum: __m256i, _ a: __m256i, _ b: __m256i) -> __m256i {
        deploy_dpbusd256(sum, a, b)
    }
    static var accumulates: Bool { true }
    static var tileRows: Int { 4 }
}

/// The kernels of `InferenceKernelsAVX2`, specialised in this module, which is built for a CPU with AVX-512
/// (Cascade Lake: F, CD, BW, DQ, VL and VNNI, which Ice Lake, Sapphire Rapids and Zen 4 all have): the 32-value
/// block types take their int8 dots from VNNI, and everything is compiled with AVX-512 available. Entry points are
/// not inlinable, so no caller built for a lesser CPU ever holds their instructions; the engine calls them only
/// when the CPU reports these features.
public enum AVX512Kernels {
    public static func q8_0(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        SmallBlockKernels<VNNIDot, Q8_0Unpack>.dot(w, y, blocks: blocks, scratch: scratch)
    }
    public static func q4_0(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        SmallBlockKernels<VNNIDot, Q4_0Unpack>.dot(w, y, blocks: blocks, scratch: scratch)
    }
    public static func q5_0(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        SmallBlockKernels<VNNIDot, Q5_0Unpack>.dot(w, y, blocks: blocks, scratch: scratch)
    }
    public static func q4_1(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        SmallBlockKernels<VNNIDot, Q4_1Unpack>.dot(w, y, blocks: blocks, scratch: scratch)
    }
    public static func q5_1(_ w: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        SmallBlockKernels<VNNIDot, Q5_1Unpack>.dot(w, y, blocks: blocks, scratch: scratch)
    }
    /// Two weight rows · one activation row (generation), the two rows' chains interleaved.
    public static func q8_0(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        SmallBlockKernels<VNNIDot, Q8_0Unpack>.dot(w0, w1, y, blocks: blocks, scratch: scratch)
    }
    public static func q4_0(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        SmallBlockKernels<VNNIDot, Q4_0Unpack>.dot(w0, w1, y, blocks: blocks, scratch: scratch)
    }
    public static func q5_0(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        SmallBlockKernels<VNNIDot, Q5_0Unpack>.dot(w0, w1, y, blocks: blocks, scratch: scratch)
    }
    public static func q4_1(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        SmallBlockKernels<VNNIDot, Q4_1Unpack>.dot(w0, w1, y, blocks: blocks, scratch: scratch)
    }
    public static func q5_1(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ y: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD2<Float> {
        SmallBlockKernels<VNNIDot, Q5_1Unpack>.dot(w0, w1, y, blocks: blocks, scratch: scratch)
    }
    public static func q4K(_ w: UnsafeRawPointer, _ y: Q8KRow, blocks: Int) -> Float { KQuantKernels.q4K(w, y, blocks: blocks) }
    public static func q6K(_ w: UnsafeRawPointer, _ y: Q8KRow, blocks: Int) -> Float { KQuantKernels.q6K(Q6K512.Block.self, w, y, blocks: blocks) }

    public static func q8_0(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        SmallBlockKernels<VNNIDot, Q8_0Unpack>.dot(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch)
    }
    public static func q4_0(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        SmallBlockKernels<VNNIDot, Q4_0Unpack>.dot(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch)
    }
    public static func q5_0(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        SmallBlockKernels<VNNIDot, Q5_0Unpack>.dot(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch)
    }
    public static func q4_1(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        SmallBlockKernels<VNNIDot, Q4_1Unpack>.dot(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch)
    }
    public static func q5_1(_ w: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        SmallBlockKernels<VNNIDot, Q5_1Unpack>.dot(w, y0, y1, y2, y3, blocks: blocks, scratch: scratch)
    }
    public static func q4K(_ w: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow, blocks: Int) -> SIMD4<Float> {
        KQuantKernels.q4K(w, y0, y1, y2, y3, blocks: blocks)
    }
    public static func q6K(_ w: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow, blocks: Int) -> SIMD4<Float> {
        KQuantKernels.q6K(Q6K512.Block.self, w, y0, y1, y2, y3, blocks: blocks)
    }

    public static func q8_0(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                           scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        SmallBlockTile512<Q8_0Unpack>.tile(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks,
                                           scratch: scratch, output: output, outputStride: outputStride)
    }
    public static func q4_0(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                           scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        SmallBlockTile512<Q4_0Unpack>.tile(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks,
                                           scratch: scratch, output: output, outputStride: outputStride)
    }
    public static func q5_0(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                           scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        SmallBlockTile512<Q5_0Unpack>.tile(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks,
                                           scratch: scratch, output: output, outputStride: outputStride)
    }
    public static func q4_1(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                           scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        SmallBlockKernels<VNNIDot, Q4_1Unpack>.tile(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks,
                                                      scratch: scratch, output: output, outputStride: outputStride)
    }
    public static func q5_1(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int,
                           scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        SmallBlockKernels<VNNIDot, Q5_1Unpack>.tile(w, rowBytes: rowBytes, rows: rows, tokens: tokens, stride: stride, count: count, blocks: blocks,
                                                      scratch: scratch, output: output, outputStride: outputStride)
    }

    /// Q4_0 interleaved eight rows at a time (`InterleavedQ4_0`): the group's rows · one activation row.
    public static func q4_0x8(_ group: UnsafeRawPointer, _ y: Q8Row, blocks: Int) -> SIMD8<Float> {
        InterleavedQ4_0<VNNIDot>.dot(group, y, blocks: blocks)
    }
    /// The group's rows · four activation rows.
    public static func q4_0x8(_ group: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row,
                              blocks: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        InterleavedQ4_0<VNNIDot>.dot(group, y0, y1, y2, y3, blocks: blocks)
    }
    /// Two Q4_0 groups (sixteen rows) · four activation rows on 512-bit vectors (`InterleavedQ4_0x16`), the same
    /// bits as `q4_0x8` gives each group: per activation row, the first group's results and the second's.
    public static func q4_0x16(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ y0: Q8Row, _ y1: Q8Row, _ y2: Q8Row, _ y3: Q8Row,
                               blocks: Int) -> GroupPairs {
        InterleavedQ4_0x16.dot(a, b, y0, y1, y2, y3, blocks: blocks)
    }
    /// Q4_K interleaved eight rows at a time (`InterleavedQ4K`): the group's rows · one activation row.
    public static func q4Kx8(_ group: UnsafeRawPointer, _ y: Q8KRow, blocks: Int) -> SIMD8<Float> {
        InterleavedQ4K<VNNIDot>.dot(group, y, blocks: blocks)
    }
    /// The group's rows · four activation rows.
    public static func q4Kx8(_ group: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow,
                             blocks: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        InterleavedQ4K<VNNIDot>.dot(group, y0, y1, y2, y3, blocks: blocks)
    }
    /// Two groups (sixteen rows) · four activation rows on 512-bit vectors (`InterleavedQ4K16`), the same bits as
    /// `q4Kx8` gives each group: per activation row, the first group's results and the second's.
    public static func q4Kx16(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ y0: Q8KRow, _ y1: Q8KRow, _ y2: Q8KRow, _ y3: Q8KRow,
                              blocks: Int) -> GroupPairs {
        InterleavedQ4K16.dot(a, b, y0, y1, y2, y3, blocks: blocks)
    }
    /// Four activation rows' results from two groups of eight rows: per row, the first group's and the second's.
    public typealias GroupPairs = (InterleavedQ4K16.Pair, InterleavedQ4K16.Pair, InterleavedQ4K16.Pair, InterleavedQ4K16.Pair)
}
#endif
