#if arch(x86_64)
import _Builtin_intrinsics.intel
import InferenceKernelsAVX2
import CKernelIntrinsics

/// Prompt tiles on 512-bit vectors for the 32-value types without a minimum (Q8_0, Q5_0, and Q4_0 where it is not
/// interleaved): two weight rows to a vector (the first in the lower 256 bits, the second in the upper) against one
/// activation block broadcast to both halves, four rows by four tokens. Each half takes the integers and float steps
/// that `SmallBlockKernels.tile` gives its row (eight lanes of four products, the weights taken as `tileValues`
/// gives them and the centre's share, `tileCentre` · Σy, starting the sum, the weight scale times the activation
/// scale fused on, `horizontalSum` last), so the results are the same to the bit, in half the `vpdpbusd`s,
/// conversions and fused multiply-adds. Each block of four rows is unpacked once per call (`prepare`).
public enum SmallBlockTile512<Unpack: SmallBlockUnpack> {
    typealias Kernels = SmallBlockKernels<VNNIDot, Unpack>

    /// Bytes of one block of four tokens' activations as `quad` reads them (`pack`).
    static var packedBlockBytes: Int { 272 }

    /// Weight rows `rows` (`rowBytes` apart from `w`) · `count` widened activation rows (a multiple of four, `stride`
    /// bytes apart from `tokens`): row r's result for token t goes to `output[t · outputStride + r]`, exactly as
    /// `SmallBlockKernels<_, Unpack>.dot` gives it. Rows past the last four go to `SmallBlockKernels.tile`.
    /// `scratch` holds 64 · `blocks` floats (four rows made ready, `prepare`) and what `SmallBlockKernels.tile` needs.
    public static func tile(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, tokens: UnsafeRawPointer, stride tokenStride: Int, count: Int,
                            blocks: Int, scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>, outputStride: Int) {
        let quads = rows / 4 &* 4
        if quads > 0 {
            let packed = UnsafeMutableRawPointer.allocate(byteCount: count / 4 &* blocks &* packedBlockBytes, alignment: 64)
            defer { packed.deallocate() }
            pack(tokens, stride: tokenStride, count: count, blocks: blocks, into: packed)
            let prepared = UnsafeMutableRawPointer(scratch)
            var r = 0
            while r < quads {
                prepare(w + r &* rowBytes, rowBytes: rowBytes, blocks: blocks, into: prepared)
                var t = 0
                while t &+ 4 <= count {
                    Kernels.storeQuad(quad(UnsafeRawPointer(prepared), UnsafeRawPointer(packed + t / 4 &* blocks &* packedBlockBytes), blocks: blocks),
                                      row: r, token: t, output: output, outputStride: outputStride)
                    t &+= 4
                }
                r &+= 4
            }
        }
        if quads < rows {
            Kernels.tile(w + quads &* rowBytes, rowBytes: rowBytes, rows: rows &- quads, tokens: tokens,
                         stride: tokenStride, count: count, blocks: blocks, scratch: scratch,
                         output: output + quads, outputStride: outputStride)
        }
    }

    /// The activations four tokens at a time, block by block (272 bytes each): the four tokens' values, the centre's
    /// share of each lane (`centreShare`: −centre · Σ of the lane's four values), their scales; so that the tile reads
    /// them through one pointer, where twelve (three per token) leave the loop short of registers.
    @inline(__always)
    static func pack(_ tokens: UnsafeRawPointer, stride: Int, count: Int, blocks: Int, into packed: UnsafeMutableRawPointer) {
        var t = 0
        while t &+ 4 <= count {
            let quad = packed + t / 4 &* blocks &* packedBlockBytes
            for k in 0..<4 {
                let y = Q8Row(widened: tokens + (t &+ k) &* stride, blocks: blocks)
                for b in 0..<blocks {
                    let block = quad + b &* packedBlockBytes
                    _mm256_storeu_si256((block + 32 &* k).assumingMemoryBound(to: __m256i.self), load256(y.values + b &* 32))
                    _mm256_storeu_si256((block + (128 &+ 32 &* k)).assumingMemoryBound(to: __m256i.self), Kernels.centreShare(y, b))
                    block.storeBytes(of: y.scales[b], toByteOffset: 256 &+ 4 &* k, as: Float.self)
                }
            }
            t &+= 4
        }
    }

    /// Four rows from `w` made ready for every token of the call, 256 bytes a block: the rows' values as
    /// `tileValues` gives them (row i's 32 bytes at 32i), then their weight scales, each row's eight times over
    /// (row i's at 128 + 32i), so that each pair of rows is one vector of each.
    @inline(__always)
    static func prepare(_ w: UnsafeRawPointer, rowBytes: Int, blocks: Int, into prepared: UnsafeMutableRawPointer) {
        for b in 0..<blocks {
            for i in 0..<4 {
                let block = w + i &* rowBytes + b &* Unpack.bytes, out = prepared + b &* 256
                _mm256_storeu_si256((out + 32 &* i).assumingMemoryBound(to: __m256i.self), Kernels.tileValues(block))
                _mm256_storeu_ps((out + (128 &+ 32 &* i)).assumingMemoryBound(to: Float.self), _mm256_set1_ps(half(block, 0)))
            }
        }
    }

    /// The four prepared rows (`prepare`) · four packed activation rows (`pack`): per row, its four tokens' results.
    @inline(__always)
    static func quad(_ prepared: UnsafeRawPointer, _ packed: UnsafeRawPointer, blocks: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        let zero = _mm512_setzero_ps()
        var a0 = zero, a1 = zero, a2 = zero, a3 = zero   // rows 0 and 1, tokens 0…3
        var b0 = zero, b1 = zero, b2 = zero, b3 = zero   // rows 2 and 3
        var weights = prepared, activations = packed
        for _ in 0..<blocks {
            let first = _mm512_loadu_si512(weights), second = _mm512_loadu_si512(weights + 64)
            let firstScales = _mm512_loadu_ps(weights + 128), secondScales = _mm512_loadu_ps(weights + 192)
            @inline(__always) func token(_ k: Int, _ acc0: inout __m512, _ acc1: inout __m512) {
                let v = _mm512_broadcast_i64x4(load256(activations + 32 &* k))
                let share = _mm512_broadcast_i64x4(load256(activations + (128 &+ 32 &* k)))
                let dy = _mm512_set1_ps(activations.load(fromByteOffset: 256 &+ 4 &* k, as: Float.self))
                acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(deploy_dpbusd512(share, first, v)), _mm512_mul_ps(firstScales, dy), acc0)
                acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(deploy_dpbusd512(share, second, v)), _mm512_mul_ps(secondScales, dy), acc1)
            }
            token(0, &a0, &b0)
            token(1, &a1, &b1)
            token(2, &a2, &b2)
            token(3, &a3, &b3)
            weights += 256
            activations += packedBlockBytes
        }
        @inline(__always) func low(_ x: __m512) -> Float { horizontalSum(_mm512_castps512_ps256(x)) }
        @inline(__always) func high(_ x: __m512) -> Float { horizontalSum(_mm256_castsi256_ps(deploy_high256(_mm512_castps_si512(x)))) }
        return (SIMD4(low(a0), low(a1), low(a2), low(a3)), SIMD4(high(a0), high(a1), high(a2), high(a3)),
                SIMD4(low(b0), low(b1), low(b2), low(b3)), SIMD4(high(b0), high(b1), high(b2), high(b3)))
    }
}
#endif
