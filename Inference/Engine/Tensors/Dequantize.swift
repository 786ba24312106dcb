/// Scalar dequantisation of each stored tensor type: the reference that faster kernels are tested against, and
/// itself tested against gguf-py's implementation (Tests/InferenceTests/Fixtures/dequant).
public enum Dequantize {
    public struct Unsupported: Error, CustomStringConvertible {
        public var type: TensorType
        public var description: String { "dequantising \(type.name) is not supported yet" }
    }

    /// Dequantises `bytes` (whole blocks of `type`) into `output`, which holds exactly their elements.
    public static func run(_ type: TensorType, _ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) throws(Unsupported) {
        let (elements, blockBytes) = type.block
        precondition(bytes.count / blockBytes * elements == output.count, "dequantise: \(bytes.count) bytes do not make \(output.count) elements")
        switch type {
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
        case .q4_K:
            for block in 0..<(output.count / 256) { q4K(bytes, block * 144, output, block * 256) }
        case .q6_K:
            for block in 0..<(output.count / 256) { q6K(bytes, block * 210, output, block * 256) }
        default:
            throw Unsupported(type: type)
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

    /// Q4_K: 256 values in 8 groups of 32, each with a 6-bit scale and minimum packed into 12 bytes.
    static func q4K(_ bytes: UnsafeRawBufferPointer, _ base: Int, _ output: UnsafeMutableBufferPointer<Float>, _ out: Int) {
        let d = half(bytes, base), dmin = half(bytes, base + 2)
        let scales = base + 4, quants = base + 16
        func scaleAndMin(_ j: Int) -> (Float, Float) {
            if j < 4 { return (Float(bytes[scales + j] & 63), Float(bytes[scales + j + 4] & 63)) }
            let scale = (bytes[scales + j + 4] & 0x0F) | ((bytes[scales + j - 4] >> 6) << 4)
            let minimum = (bytes[scales + j + 4] >> 4) | ((bytes[scales + j] >> 6) << 4)
            return (Float(scale), Float(minimum))
        }
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
