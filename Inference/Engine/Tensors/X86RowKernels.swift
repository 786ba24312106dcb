#if arch(x86_64)
import InferenceKernelsAVX2

// The row kernels of the x86 kernel modules, over the activations' widened forms (which carry the int8 values and
// int16 sums these kernels read beside the int16 values the portable kernels read).

extension QuantizedDot {
    /// The parts of a widened Q8_0 row the x86 kernels read.
    @inline(__always)
    static func x86Row(_ b: UnsafeRawPointer, blocks: Int) -> Q8Row {
        Q8Row(values: b + blocks * 104, scales: (b + blocks * 64).assumingMemoryBound(to: Float.self),
              sums: (b + blocks * 68).assumingMemoryBound(to: Float.self))
    }
}

extension KQuantDot {
    /// The parts of a widened Q8_K row the x86 kernels read.
    @inline(__always)
    static func x86Row(_ b: UnsafeRawPointer, blocks: Int) -> Q8KRow {
        Q8KRow(values: b + blocks * 580, scales: (b + blocks * 512).assumingMemoryBound(to: Float.self), sums: b + blocks * 836)
    }
}

/// A 32-value block type through the AVX2 module.
enum AVX2SmallBlockKernel<Unpack: SmallBlockUnpack>: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        let blocks = columns / 32
        return SmallBlockKernels<AVX2Dot, Unpack>.dot(w, QuantizedDot.x86Row(x, blocks: blocks), blocks: blocks)
    }
    static func dot(_ w: UnsafeRawPointer, _ x: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        let blocks = columns / 32
        return SmallBlockKernels<AVX2Dot, Unpack>.dot(w, QuantizedDot.x86Row(x[0], blocks: blocks), QuantizedDot.x86Row(x[1], blocks: blocks),
                                                      QuantizedDot.x86Row(x[2], blocks: blocks), QuantizedDot.x86Row(x[3], blocks: blocks), blocks: blocks)
    }
}

enum AVX2Q4KKernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        KQuantKernels.q4K(w, KQuantDot.x86Row(x, blocks: columns / 256), blocks: columns / 256)
    }
    static func dot(_ w: UnsafeRawPointer, _ x: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        let blocks = columns / 256
        return KQuantKernels.q4K(w, KQuantDot.x86Row(x[0], blocks: blocks), KQuantDot.x86Row(x[1], blocks: blocks),
                                 KQuantDot.x86Row(x[2], blocks: blocks), KQuantDot.x86Row(x[3], blocks: blocks), blocks: blocks)
    }
}

enum AVX2Q6KKernel: RowKernel {
    static func dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, columns: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        KQuantKernels.q6K(w, KQuantDot.x86Row(x, blocks: columns / 256), blocks: columns / 256)
    }
    static func dot(_ w: UnsafeRawPointer, _ x: FourRows, columns: Int, scratch: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
        let blocks = columns / 256
        return KQuantKernels.q6K(w, KQuantDot.x86Row(x[0], blocks: blocks), KQuantDot.x86Row(x[1], blocks: blocks),
                                 KQuantDot.x86Row(x[2], blocks: blocks), KQuantDot.x86Row(x[3], blocks: blocks), blocks: blocks)
    }
}

extension WeightMatrix {
    /// Rows `range` through the x86 kernels, when `kernels` has one for this type; false leaves them to the
    /// portable ones.
    func x86Rows(_ range: Range<Int>, _ activations: UnsafeMutableRawPointer, _ activationBytes: Int, _ batch: Int,
                 _ output: UnsafeMutablePointer<Float>) -> Bool {
        guard kernels == .avx2 || kernels == .avx512 else { return false }
        switch type {
        case .q8_0: run(AVX2SmallBlockKernel<Q8_0Unpack>.self, range, activations, activationBytes, batch, output)
        case .q4_0: run(AVX2SmallBlockKernel<Q4_0Unpack>.self, range, activations, activationBytes, batch, output)
        case .q5_0: run(AVX2SmallBlockKernel<Q5_0Unpack>.self, range, activations, activationBytes, batch, output)
        case .q4_1: run(AVX2SmallBlockKernel<Q4_1Unpack>.self, range, activations, activationBytes, batch, output)
        case .q5_1: run(AVX2SmallBlockKernel<Q5_1Unpack>.self, range, activations, activationBytes, batch, output)
        case .q4_K: run(AVX2Q4KKernel.self, range, activations, activationBytes, batch, output)
        case .q6_K: run(AVX2Q6KKernel.self, range, activations, activationBytes, batch, output)
        default: return false
        }
        return true
    }
}
#endif
