import Foundation

/// The exponential llama.cpp's CPU backend computes softmax and SiLU with (ggml's `ggml_v_expf` in its AVX-512 form,
/// a polynomial after ARM's optimized-routines expf), reproduced operation for operation, fused multiply-adds
/// included, sixteen lanes at a time.
///
/// It differs from libm's `expf` in the last bit now and then. A real model turns such a bit into a different
/// quantised activation a few layers on, and the greedy continuation drifts; computing the same function keeps our
/// probabilities and gates bit-identical to llama.cpp's.
enum VectorExp {
    typealias Lanes = SIMD16<Float>

    /// `e^x` in each lane; 0 for -∞ and far below, +∞ far above, NaN for NaN.
    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        let shifter = Lanes(repeating: 0x1.8p23)
        // n = round(x / ln 2), by the shifter's rounding; b = x - n ln 2 in two parts
        let z = shifter.addingProduct(x, Lanes(repeating: 0x1.715476p+0))
        let n = z - shifter
        let b = (x.addingProduct(-n, Lanes(repeating: 0x1.62e4p-1))).addingProduct(-n, Lanes(repeating: 0x1.7f7d1cp-20))
        let u = b * b
        let high = Lanes(repeating: 0x1.573e2ep-5).addingProduct(Lanes(repeating: 0x1.0e4020p-7), b)
        let low = Lanes(repeating: 0x1.fffdb6p-2).addingProduct(Lanes(repeating: 0x1.555e66p-3), b)
        let linear = Lanes(repeating: 1).addingProduct(Lanes(repeating: 0x1.ffffecp-1), b)
        let j = linear.addingProduct(low.addingProduct(high, u), u)
        if all((n .>= -126) .& (n .<= 127)) {
            // every 2^n a normal float (NaN fails the test): its bits built in each lane from n, which z's low bits
            // hold past the shifter's (z = 1.5 · 2^23 + n, whose ulp is 1), then one correctly rounded product, as
            // vscalefps gives
            let n32 = unsafeBitCast(z, to: SIMD16<Int32>.self) &- unsafeBitCast(shifter, to: SIMD16<Int32>.self)
            let powers = (n32 &+ 127) &<< 23
            return j * unsafeBitCast(powers, to: Lanes.self)
        }
        var result = Lanes()
        for lane in 0..<16 {
            let power = n[lane]
            if power.isNaN {
                result[lane] = .nan  // vscalefps passes NaN through, as the comparison below lets it
            } else if power.magnitude > 192 {
                result[lane] = power <= 0 ? 0 : .infinity
            } else if power >= -126 {
                // 2^n is a normal float here: one correctly rounded product, as vscalefps gives
                result[lane] = j[lane] * Float(sign: .plus, exponent: Int(power), significand: 1)
            } else {
                result[lane] = Float(sign: .plus, exponent: Int(power), significand: j[lane])
            }
        }
        return result
    }

    /// The sum of sixteen lanes as `_mm512_reduce_add_ps` adds them: halves, then quarters, then pairs.
    @inline(__always)
    static func laneSum(_ v: Lanes) -> Float {
        let eight = v.lowHalf + v.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// `gate = silu(gate) · up` over `count` values, as ggml's swiglu: sixteen lanes through `x / (1 + e^-x)`, the
    /// rest of the row through libm's `expf`.
    static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let raw = UnsafeMutableRawPointer(gate + i)
            let x = raw.loadUnaligned(as: Lanes.self)
            let silu = x / (1 + exp(-x))
            raw.storeBytes(of: silu * UnsafeRawPointer(up + i).loadUnaligned(as: Lanes.self), as: Lanes.self)
            i += 16
        }
        while i < count {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
            i += 1
        }
    }
}
