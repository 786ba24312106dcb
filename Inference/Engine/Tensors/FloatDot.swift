/// Dot products of float weight rows (F32, F16, BF16) with activations stored in the same type, as ggml does for
/// float weights: the products are summed in f32.
public enum FloatDot {
    public static func f32(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, count: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        var index = 0
        while index + 32 <= count {
            a0.addProduct(w.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self), x.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self))
            a1.addProduct(w.loadUnaligned(fromByteOffset: index * 4 + 64, as: SIMD16<Float>.self), x.loadUnaligned(fromByteOffset: index * 4 + 64, as: SIMD16<Float>.self))
            index += 32
        }
        var sum = (a0 + a1).sum()
        while index < count {
            sum += w.loadUnaligned(fromByteOffset: index * 4, as: Float.self) * x.loadUnaligned(fromByteOffset: index * 4, as: Float.self)
            index += 1
        }
        return sum
    }

    public static func f16(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, count: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        var index = 0
        while index + 32 <= count {
            a0.addProduct(floatLanes(w.loadUnaligned(fromByteOffset: index * 2, as: SIMD16<Float16>.self)),
                          floatLanes(x.loadUnaligned(fromByteOffset: index * 2, as: SIMD16<Float16>.self)))
            a1.addProduct(floatLanes(w.loadUnaligned(fromByteOffset: index * 2 + 32, as: SIMD16<Float16>.self)),
                          floatLanes(x.loadUnaligned(fromByteOffset: index * 2 + 32, as: SIMD16<Float16>.self)))
            index += 32
        }
        var sum = (a0 + a1).sum()
        while index < count {
            sum += Float(w.loadUnaligned(fromByteOffset: index * 2, as: Float16.self)) * Float(x.loadUnaligned(fromByteOffset: index * 2, as: Float16.self))
            index += 1
        }
        return sum
    }

    public static func bf16(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, count: Int) -> Float {
        @inline(__always) func widen(_ bits: SIMD16<UInt16>) -> SIMD16<Float> {
            unsafeBitCast(uint32Lanes(bits) &<< 16, to: SIMD16<Float>.self)
        }
        var a0 = SIMD16<Float>()
        var index = 0
        while index + 16 <= count {
            a0.addProduct(widen(w.loadUnaligned(fromByteOffset: index * 2, as: SIMD16<UInt16>.self)),
                          widen(x.loadUnaligned(fromByteOffset: index * 2, as: SIMD16<UInt16>.self)))
            index += 16
        }
        var sum = a0.sum()
        while index < count {
            sum += bfloat(w.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)) * bfloat(x.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
            index += 1
        }
        return sum
    }

    @inline(__always)
    static func bfloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Rounds an f32 to bf16 (nearest, ties to even), as ggml's conversion does; NaN stays NaN.
    @inline(__always)
    public static func bfloatBits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 64 }
        return UInt16((bits &+ (0x7FFF &+ ((bits >> 16) & 1))) >> 16)
    }
}
