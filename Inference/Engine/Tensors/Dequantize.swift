import GGUF
import Diagnostics
/// Scalar dequantisation of each stored tensor type: the reference that faster kernels are tested against, and
/// itself tested against gguf-py's implementation (Tests/InferenceTests/Fixtures/dequant).
public enum Dequantize {
    public struct Unsupported: Error, CustomStringConvertible {
        public var type: TensorType
        public var description: String { "dequantising \(type.name) is not supported yet" }
    }

    /// A stored type this enum dequantises: checked once (a weight matrix checks it when it is made), so that
    /// dequantising a row of it cannot fail.
    public enum Format: Sendable {
        case f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K

        /// The format of `type`, or nil for a type with no dequantiser.
        public init?(_ type: TensorType) {
            switch type {
            case .f32: self = .f32
            case .f16: self = .f16
            case .bf16: self = .bf16
            case .q8_0: self = .q8_0
            case .q4_0: self = .q4_0
            case .q4_1: self = .q4_1
            case .q5_0: self = .q5_0
            case .q5_1: self = .q5_1
            case .q2_K: self = .q2_K
            case .q3_K: self = .q3_K
            case .q4_K: self = .q4_K
            case .q5_K: self = .q5_K
            case .q6_K: self = .q6_K
            default: return nil
            }
        }

        var type: TensorType {
            switch self {
            case .f32: .f32
            case .f16: .f16
            case .bf16: .bf16
            case .q8_0: .q8_0
            case .q4_0: .q4_0
            case .q4_1: .q4_1
            case .q5_0: .q5_0
            case .q5_1: .q5_1
            case .q2_K: .q2_K
            case .q3_K: .q3_K
            case .q4_K: .q4_K
            case .q5_K: .q5_K
            case .q6_K: .q6_K
            }
        }
    }

    /// Dequantises `bytes` (whole blocks of `type`) into `output`, which holds exactly their elements.
    public static func run(_ type: TensorType, _ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) throws(Unsupported) {
        guard let format = Format(type) else { throw Unsupported(type: type) }
        run(format: format, bytes, into: output)
    }

    /// Dequantises `bytes` (whole blocks of `format`) into `output`, which holds exactly their elements.
    public static func run(format: Format, _ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) {
        let (elements, blockBytes) = format.type.block
        precondition(bytes.count / blockBytes * elements == output.count, "dequantise: \(bytes.count) bytes do not make \(output.count) elements")
        switch format {
        case .f32:
            for index in output.indices { output[index] = bytes.loadUnaligned(fromByteOffset: index * 4, as: Float.self) }
        case .f16:
            for index in output.indices { output[index] = half(bytes, index * 2) }
        case .bf16:
            for index in output.indices {
                output[index] = Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)) << 16)
            }
        case .q8_0:
            for block in 0..<(output.count / 32) {
                let base = block * 34
                let scale = half(bytes, base)
                for j in 0..<32 { output[block * 32 + j] = scale * Float(Int8(bitPattern: bytes[base + 2 + j])) }
            }
        case .q4_0:
            for block in 0..<(output.count / 32) {
                let base = block * 18
                let scale = half(bytes, base)
                for j in 0..<16 {
                    let byte = bytes[base + 2 + j]
                    output[block * 32 + j] = scale * Float(Int(byte & 0x0F) - 8)
                    output[block * 32 + j + 16] = scale * Float(Int(byte >> 4) - 8)
                }
            }
        case .q4_1:
            for block in 0..<(output.count / 32) {
                let base = block * 20
                let scale = half(bytes, base), minimum = half(bytes, base + 2)
                for j in 0..<16 {
                    let byte = bytes[base + 4 + j]
                    output[block * 32 + j] = scale * Float(byte & 0x0F) + minimum
                    output[block * 32 + j + 16] = scale * Float(byte >> 4) + minimum
                }
            }
        case .q5_0:
            for block in 0..<(output.count / 32) { q5(bytes, block * 22, hasMinimum: false, output, block * 32) }
        case .q5_1:
            for block in 0..<(output.count / 32) { q5(bytes, block * 24, hasMinimum: true, output, block * 32) }
        case .q2_K:
            for block in 0..<(output.count / 256) { q2K(bytes, block * 84, output, block * 256) }
        case .q3_K:
            for block in 0..<(output.count / 256) { q3K(bytes, block * 110, output, block * 256) }
        case .q4_K:
            for block in 0..<(output.count / 256) { q4K(bytes, block * 144, output, block * 256) }
        case .q5_K:
            for block in 0..<(output.count / 256) { q5K(bytes, block * 176, output, block * 256) }
        case .q6_K:
            for block in 0..<(output.count / 256) { q6K(bytes, block * 210, output, block * 256) }
        }
    }

    @inline(__always)
    static func half(_ pointer: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: pointer.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    @inline(__always)
    static func half(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Q5_0 and Q5_1: 32 values of 5 bits, the low four in nibbles (values j and j + 16 share a byte), the fifth
    /// bits in a 32-bit word; Q5_0 is centred on 16, Q5_1 adds an f16 minimum instead.
    static func q5(_ bytes: UnsafeRawBufferPointer, _ base: Int, hasMinimum: Bool, _ output: UnsafeMutableBufferPointer<Float>, _ out: Int) {
        let scale = half(bytes, base)
        let minimum: Float = hasMinimum ? half(bytes, base + 2) : 0
        let high = bytes.loadUnaligned(fromByteOffset: base + (hasMinimum ? 4 : 2), as: UInt32.self).littleEndian
        let quants = base + (hasMinimum ? 8 : 6)
        for j in 0..<32 {
            let byte = bytes[quants + j % 16]
            let low = j < 16 ? byte & 0x0F : byte >> 4
            let q = Int(low) | Int((high >> UInt32(j)) & 1) << 4
            output[out + j] = hasMinimum ? scale * Float(q) + minimum : scale * Float(q - 16)
        }
    }

    /// Q2_K: 256 values of 2 bits in 16 groups of 16, each group with a 4-bit scale and a 4-bit minimum.
    static func q2K(_ bytes: UnsafeRawBufferPointer, _ base: Int, _ output: UnsafeMutableBufferPointer<Float>, _ out: Int) {
        let scales = base, quants = base + 16
        let d = half(bytes, base + 80), dmin = half(bytes, base + 82)
        for e in 0..<256 {
            let packed = bytes[scales + e / 16]
            output[out + e] = d * Float(packed & 0x0F) * Float(KQuantDot.twoBits(bytes.baseAddress!, quants, e)) - dmin * Float(packed >> 4)
        }
    }

    /// Q3_K: 256 values of 3 bits (two in `qs`, the third a mask bit that, when clear, takes 4 off) in 16 groups
    /// of 16 with signed 6-bit scales packed into 12 bytes.
    static func q3K(_ bytes: UnsafeRawBufferPointer, _ base: Int, _ output: UnsafeMutableBufferPointer<Float>, _ out: Int) {
        let mask = base, quants = base + 32, scales = base + 96
        let d = half(bytes, base + 108)
        for e in 0..<256 {
            let scale = KQuantDot.q3KScale(bytes.baseAddress!, scales, e / 16)
            let set = (bytes[mask + e % 32] >> UInt8(e / 32)) & 1
            let q = KQuantDot.twoBits(bytes.baseAddress!, quants, e) - (set == 0 ? 4 : 0)
            output[out + e] = d * Float(scale) * Float(q)
        }
    }

    /// The 6-bit scale and minimum of group `j` (of 8) in the 12 packed bytes at `scales`, as Q4_K and Q5_K keep them.
    @inline(__always)
    static func scaleAndMin(_ bytes: UnsafeRawBufferPointer, _ scales: Int, _ j: Int) -> (Float, Float) {
        let (scale, minimum) = KQuantDot.q4KScaleMin(bytes.baseAddress!, scales, j)
        return (Float(scale), Float(minimum))
    }

    /// Q5_K: Q4_K's layout with a fifth bit per value, group `g`'s in bit `g` of the 32 bytes of `qh`.
    static func q5K(_ bytes: UnsafeRawBufferPointer, _ base: Int, _ output: UnsafeMutableBufferPointer<Float>, _ out: Int) {
        let d = half(bytes, base), dmin = half(bytes, base + 2)
        let scales = base + 4, high = base + 16, quants = base + 48
        for e in 0..<256 {
            let group = e / 32, l = e % 32
            let byte = bytes[quants + (e / 64) * 32 + l]
            let low = group % 2 == 0 ? byte & 0x0F : byte >> 4
            let q = Int(low) | Int((bytes[high + l] >> UInt8(group)) & 1) << 4
            let (scale, minimum) = scaleAndMin(bytes, scales, group)
            output[out + e] = d * scale * Float(q) - dmin * minimum
        }
    }

    /// Q4_K: 256 values in 8 groups of 32, each with a 6-bit scale and minimum packed into 12 bytes.
    static func q4K(_ bytes: UnsafeRawBufferPointer, _ base: Int, _ output: UnsafeMutableBufferPointer<Float>, _ out: Int) {
        let d = half(bytes, base), dmin = half(bytes, base + 2)
        let scales = base + 4, quants = base + 16
        func scaleAndMin(_ j: Int) -> (Float, Float) { Dequantize.scaleAndMin(bytes, scales, j) }
        for chunk in 0..<4 {
            let (scale1, min1) = scaleAndMin(chunk * 2), (scale2, min2) = scaleAndMin(chunk * 2 + 1)
            for l in 0..<32 {
                let byte = bytes[quants + chunk * 32 + l]
                output[out + chunk * 64 + l] = d * scale1 * Float(byte & 0x0F) - dmin * min1
                output[out + chunk * 64 + 32 + l] = d * scale2 * Float(byte >> 4) - dmin * min2
            }
        }
    }

    /// Q6_K: 256 values of 6 bits (4 low bits in `ql`, 2 high in `qh`) with 16 signed 8-bit scales.
    static func q6K(_ bytes: UnsafeRawBufferPointer, _ base: Int, _ output: UnsafeMutableBufferPointer<Float>, _ out: Int) {
        let ql = base, qh = base + 128, scales = base + 192
        let d = half(bytes, base + 208)
        for half in 0..<2 {
            let low = ql + half * 64, high = qh + half * 32, scale = scales + half * 8, target = out + half * 128
            for l in 0..<32 {
                let s = l / 16
                let h = bytes[high + l]
                let q1 = Int((bytes[low + l] & 0x0F) | ((h & 3) << 4)) - 32
                let q2 = Int((bytes[low + l + 32] & 0x0F) | (((h >> 2) & 3) << 4)) - 32
                let q3 = Int((bytes[low + l] >> 4) | (((h >> 4) & 3) << 4)) - 32
                let q4 = Int((bytes[low + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32
                func sc(_ i: Int) -> Float { d * Float(Int8(bitPattern: bytes[scale + s + i])) }
                output[target + l] = sc(0) * Float(q1)
                output[target + l + 32] = sc(2) * Float(q2)
                output[target + l + 64] = sc(4) * Float(q3)
                output[target + l + 96] = sc(6) * Float(q4)
            }
        }
    }
}

extension Dequantize.Unsupported: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
